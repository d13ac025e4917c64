// LeastSquares/GolubKahan: the Golub–Kahan bidiagonalization β·u = Ā·v − α·u, α·v = Āᵀ·u − β·v shared by LSQR and LSMR.
//
// G. Golub and W. Kahan, "Calculating the singular values and pseudo-inverse of a matrix",
// SIAM J. Numer. Anal. 2(2):205–224, 1965; as used in C. C. Paige and M. A. Saunders, ACM TOMS 8(1):43–71,
// 1982, §3 (LSQR), and D. C.-L. Fong and M. A. Saunders, SIAM J. Sci. Comput. 33(5):2950–2971, 2011, §2.1 (LSMR).
import SparseTensor

/// The state of the lower-bidiagonalization of Ā started from b:
/// ```
/// β₁u₁ = b,                α₁v₁ = Āᵀu₁
/// βₖ₊₁uₖ₊₁ = Ā·vₖ − αₖuₖ,   αₖ₊₁vₖ₊₁ = Āᵀuₖ₊₁ − βₖ₊₁vₖ
/// ```
/// with ‖uₖ‖ = ‖vₖ‖ = 1 (a vector stays unnormalized when its norm is 0: the process has terminated).
/// Each step is one pass over A's rows (`KrylovOperator.step`) where the operator allows it, else two
/// fused passes of `KrylovOperator` (product, update and sum of squares together).
struct GolubKahan {
    let op: KrylovOperator
    /// uₖ (length `op.rowCount`).
    private(set) var u: [Double]
    /// vₖ (length `op.columnCount`).
    private(set) var v: [Double]
    /// αₖ.
    private(set) var alpha: Double
    /// βₖ.
    private(set) var beta: Double

    /// β₁u₁ = b, α₁v₁ = Āᵀu₁.
    init(_ op: KrylovOperator, b: [Double]) {
        self.op = op
        u = b
        beta = DenseVector.norm(u)
        v = [Double](repeating: 0, count: op.columnCount)
        alpha = 0
        if beta > 0 {
            DenseVector.scale(1 / beta, &u)
            alpha = normFromSumOfSquares(op.applyTransposeUpdating(u, beta: 0, into: &v), v)
        }
        if alpha > 0 { DenseVector.scale(1 / alpha, &v) }
    }

    /// One step: β u = Ā v − α u, then (when β > 0) α v = Āᵀ u − β v.
    mutating func step() {
        if op.fusesSteps {
            let (b, vSumOfSquares) = op.step(alpha: alpha, u: &u, v: &v)
            beta = b
            if beta > 0 {
                alpha = normFromSumOfSquares(vSumOfSquares, v)
                if alpha > 0 { DenseVector.scale(1 / alpha, &v) }
            }
            return
        }
        beta = normFromSumOfSquares(op.applyUpdating(v, alpha: alpha, into: &u), u)
        if beta > 0 {
            DenseVector.scale(1 / beta, &u)
            alpha = normFromSumOfSquares(op.applyTransposeUpdating(u, beta: beta, into: &v), v)
            if alpha > 0 { DenseVector.scale(1 / alpha, &v) }
        }
    }
}
