// LeastSquares/ResidualMeasures: r = W^½(y − A·x), g = AᵀW^½·r − λ₂x and f(x), measured exactly at a solution.
import SparseTensor

/// The quantities every solver of this file group reports, recomputed at the returned x
/// (so the report never relies on a recurrence's running estimate):
/// ```
/// r = W^½·(y − A·x)                 residualNorm   = ‖y − A·x‖₂ (unweighted, as every solver reports it)
/// g = Aᵀ·W^½·r − λ₂·x               optimalityNorm = ‖g‖₂   (the gradient of −f; 0 at the optimum)
/// f = ½‖r‖² + ½λ₂‖x‖²               objective (λ₁ = 0 for these solvers)
/// ```
/// With unit weights W = I. Cost: one gather (A·x) and one Aᵀ product — a gather over `columns`
/// when a CSC copy exists, else a scatter over the rows.
struct ResidualMeasures {
    var residualNorm: Double
    var optimalityNorm: Double
    var objective: Double
    var nnzX: Int
    /// ‖A‖_F·‖r‖ scale for a relative optimality figure ‖Aᵀr‖/(‖A‖_F‖r‖) (0 when r = 0).
    var relativeOptimality: Double

    init(problem: LeastSquaresProblem, x: [Double], columns: CompressedStorage? = nil) {
        let rows = problem.matrix.storage
        let m = problem.rowCount
        let λ2 = problem.regularization.l2
        let s = problem.sampleWeights.map { $0.map { $0.squareRoot() } }
        // r = W^½·(y − A·x)
        var r = rows.gather(x)
        for i in 0..<m { r[i] = problem.rhs[i] - r[i] }
        let unweightedNorm = DenseVector.norm(r)
        if let s { for i in 0..<m { r[i] *= s[i] } }
        // g = Aᵀ·W^½·r − λ₂·x
        var t = r
        if let s { for i in 0..<m { t[i] *= s[i] } }
        var g = columns.map { $0.gather(t) } ?? rows.scatter(t)
        if λ2 > 0 { for j in 0..<g.count { g[j] -= λ2 * x[j] } }
        let weightedNorm = s == nil ? unweightedNorm : DenseVector.norm(r)
        residualNorm = unweightedNorm
        optimalityNorm = DenseVector.norm(g)
        let xnorm = DenseVector.norm(x)
        objective = 0.5 * weightedNorm * weightedNorm + 0.5 * λ2 * xnorm * xnorm
        nnzX = x.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        var frobenius = 0.0
        if let w = problem.sampleWeights {
            for i in 0..<m { for p in rows.offsets[i]..<rows.offsets[i + 1] { frobenius += w[i] * rows.values[p] * rows.values[p] } }
        } else {
            for v in rows.values { frobenius += v * v }
        }
        let scale = frobenius.squareRoot() * weightedNorm
        relativeOptimality = scale > 0 ? optimalityNorm / scale : 0
    }
}
