// LeastSquares/LeastSquaresProblem: the problem min_x ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖², validated once.
import SparseTensor

/// Regularization of the least-squares objective.
///
/// ```
/// f(x) = ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖²
/// ```
/// Unscaled: scikit-learn divides the squared loss by the number of rows (its `alpha` is our λ/m);
/// conversions belong in benchmarks, not in this API.
public struct Regularization: Sendable, Equatable, Codable {
    /// λ₁ ≥ 0, the lasso weight.
    public var l1: Double
    /// λ₂ ≥ 0, the ridge weight.
    public var l2: Double

    public init(l1: Double = 0, l2: Double = 0) {
        self.l1 = l1
        self.l2 = l2
    }

    public static let none = Regularization()
    public var isNone: Bool { l1 == 0 && l2 == 0 }
}

/// A validated least-squares problem. A is kept in the layout it came in; each solver converts once to what it needs.
public struct LeastSquaresProblem: Sendable {
    /// The design matrix, m × n, row-compressed.
    public let matrix: CSRMatrix
    /// The right-hand side y (length m), dense.
    public let rhs: [Double]
    public let regularization: Regularization
    /// Warm start x0 (length n), if any.
    public let initialGuess: [Double]?
    /// Per-row weights wᵢ ≥ 0 (the loss becomes ½Σ wᵢ(yᵢ − aᵢᵀx)²), if any.
    public let sampleWeights: [Double]?

    public var rowCount: Int { matrix.rowCount }
    public var columnCount: Int { matrix.columnCount }

    /// Validates shapes, λ ≥ 0 and finiteness of y, x0 and weights.
    public init(matrix: CSRMatrix, rhs: [Double], regularization: Regularization = .none,
                initialGuess: [Double]? = nil, sampleWeights: [Double]? = nil) throws(SolverError) {
        guard rhs.count == matrix.rowCount else {
            throw .invalidProblem("y has length \(rhs.count) but A has \(matrix.rowCount) rows (A is \(matrix.rowCount) × \(matrix.columnCount))")
        }
        guard regularization.l1 >= 0, regularization.l1.isFinite else {
            throw .invalidProblem("l1 (λ₁) must be a finite number ≥ 0, got \(regularization.l1)")
        }
        guard regularization.l2 >= 0, regularization.l2.isFinite else {
            throw .invalidProblem("l2 (λ₂) must be a finite number ≥ 0, got \(regularization.l2)")
        }
        if let i = rhs.firstIndex(where: { !$0.isFinite }) {
            throw .invalidProblem("y[\(i)] = \(rhs[i]) is not finite")
        }
        if let x0 = initialGuess {
            guard x0.count == matrix.columnCount else {
                throw .invalidProblem("x0 has length \(x0.count) but A has \(matrix.columnCount) columns")
            }
            if let i = x0.firstIndex(where: { !$0.isFinite }) { throw .invalidProblem("x0[\(i)] = \(x0[i]) is not finite") }
        }
        if let w = sampleWeights {
            guard w.count == matrix.rowCount else {
                throw .invalidProblem("sample weights have length \(w.count) but A has \(matrix.rowCount) rows")
            }
            if let i = w.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw .invalidProblem("sample weight [\(i)] = \(w[i]) must be finite and ≥ 0")
            }
        }
        self.matrix = matrix
        self.rhs = rhs
        self.regularization = regularization
        self.initialGuess = initialGuess
        self.sampleWeights = sampleWeights
    }

    /// Convenience: y given sparse.
    public init(matrix: CSRMatrix, rhs: SparseVector, regularization: Regularization = .none,
                initialGuess: [Double]? = nil) throws(SolverError) {
        try self.init(matrix: matrix, rhs: rhs.dense(), regularization: regularization, initialGuess: initialGuess)
    }

    /// f(x) = ½‖y − A·x‖² (weighted if weights are set) + λ₁‖x‖₁ + ½λ₂‖x‖². O(nnz(A) + m + n).
    public func objective(_ x: [Double]) -> Double {
        let r = residual(x)
        var loss = 0.0
        if let w = sampleWeights { for i in 0..<r.count { loss += w[i] * r[i] * r[i] } } else { for v in r { loss += v * v } }
        var l1 = 0.0, l2 = 0.0
        for v in x { l1 += abs(v); l2 += v * v }
        return 0.5 * loss + regularization.l1 * l1 + 0.5 * regularization.l2 * l2
    }

    /// r = y − A·x.
    public func residual(_ x: [Double]) -> [Double] {
        var r = (try? matrix.multiply(x)) ?? [Double](repeating: .nan, count: rowCount)
        for i in 0..<r.count { r[i] = rhs[i] - r[i] }
        return r
    }
}
