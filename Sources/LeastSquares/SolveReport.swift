// LeastSquares/SolveReport: what every solver returns — the solution and how far it can be trusted.
import SparseTensor

/// Which algorithm to run.
public enum SolverKind: String, Sendable, Codable, CaseIterable {
    /// Pick from shape, nnz and regularization (see `AutoSolver`); the report says which and why.
    case auto
    /// Coordinate descent on CSC (lasso / elastic net / ridge / plain).
    case cd
    /// Stochastic gradient descent on CSR rows.
    case sgd
    /// LSQR (Paige & Saunders 1982).
    case lsqr
    /// LSMR (Fong & Saunders 2011).
    case lsmr
    /// Sparse QR through SuiteSparseQR (exact; minimum-norm for underdetermined systems).
    case qr
    /// Normal equations through CHOLMOD, primal or dual.
    case normal
}

/// Why a solver stopped.
public enum StopReason: String, Sendable, Codable, CustomStringConvertible {
    /// x = 0 is the exact solution (y = 0 or Aᵀy = 0 with no regularization pulling elsewhere).
    case zeroSolution
    /// The tolerance on the residual (LSQR/LSMR btol: Ax ≈ y) was met.
    case residualTolerance
    /// The tolerance on the least-squares optimality (LSQR/LSMR atol: ‖Aᵀr‖ small) was met.
    case optimalityTolerance
    /// The duality gap fell below the tolerance (CD).
    case dualityGap
    /// The relative objective decrease fell below the tolerance (SGD).
    case objectiveStalled
    /// The condition-number estimate exceeded the condition limit (LSQR/LSMR conlim).
    case conditionLimit
    /// An exact factorization solved the problem.
    case exact
    /// The iteration (or epoch) limit was reached before the tolerance.
    case iterationLimit
    /// The time limit was reached before the tolerance.
    case timeLimit
    /// The caller cancelled.
    case cancelled

    /// True when the solver reached its tolerance (CLI exit 0), false for limits and cancellation (exit 3).
    /// `conditionLimit` is a limit: LSQR/LSMR stopped because cond(Ā) outgrew conlim, and x may be far from the
    /// least-squares solution (scipy's istop 3 and 6, which it reports as a warning).
    public var converged: Bool {
        switch self {
        case .zeroSolution, .residualTolerance, .optimalityTolerance, .dualityGap, .objectiveStalled, .exact: return true
        case .conditionLimit, .iterationLimit, .timeLimit, .cancelled: return false
        }
    }

    public var description: String {
        switch self {
        case .zeroSolution: return "The exact solution is x = 0"
        case .residualTolerance: return "Ax - b is small enough, given atol, btol"
        case .optimalityTolerance: return "The least-squares solution is good enough, given atol"
        case .dualityGap: return "The duality gap is below the tolerance"
        case .objectiveStalled: return "The relative objective decrease per epoch is below the tolerance"
        case .conditionLimit: return "The estimate of cond(Abar) has exceeded conlim: x may be inaccurate; raise conlim (.infinity: no limit) or scale the columns"
        case .exact: return "Solved exactly by a sparse factorization"
        case .iterationLimit: return "The iteration limit has been reached"
        case .timeLimit: return "The time limit has been reached"
        case .cancelled: return "Cancelled"
        }
    }
}

/// The result of a solve.
public struct SolveReport: Sendable, Codable {
    /// The solver that ran (after `auto` resolved).
    public var solver: SolverKind
    /// Why `auto` picked it, or why a variant (primal/dual) was chosen; empty otherwise.
    public var choiceReason: String
    /// Iterations (Krylov), epochs (CD/SGD) or 1 (exact).
    public var iterations: Int
    public var stopReason: StopReason
    /// f(x) = ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖² at the returned x.
    public var objective: Double
    /// ‖y − A·x‖₂.
    public var residualNorm: Double
    /// ‖Aᵀr − λ₂x‖₂ (the gradient of the smooth part; for λ₁ = 0 the optimality measure).
    public var optimalityNorm: Double
    /// The duality gap of the lasso / elastic net (CD), when computed.
    public var dualityGap: Double?
    /// Numerical rank estimate (QR), when computed.
    public var rank: Int?
    /// Estimates of ‖A‖ and cond(A) (LSQR/LSMR), when computed.
    public var normEstimate: Double?
    public var conditionEstimate: Double?
    /// Nonzeros in x.
    public var nnzX: Int
    /// Seconds spent in setup (conversions, factorization analysis) and in the iteration / numeric phase.
    public var setupSeconds: Double
    public var solveSeconds: Double
    /// Warnings worth showing (CHOLMOD positive statuses, rank deficiency, …).
    public var diagnostics: [String]

    public init(solver: SolverKind, choiceReason: String = "", iterations: Int, stopReason: StopReason,
                objective: Double, residualNorm: Double, optimalityNorm: Double, dualityGap: Double? = nil,
                rank: Int? = nil, normEstimate: Double? = nil, conditionEstimate: Double? = nil,
                nnzX: Int, setupSeconds: Double, solveSeconds: Double, diagnostics: [String] = []) {
        self.solver = solver
        self.choiceReason = choiceReason
        self.iterations = iterations
        self.stopReason = stopReason
        self.objective = objective
        self.residualNorm = residualNorm
        self.optimalityNorm = optimalityNorm
        self.dualityGap = dualityGap
        self.rank = rank
        self.normEstimate = normEstimate
        self.conditionEstimate = conditionEstimate
        self.nnzX = nnzX
        self.setupSeconds = setupSeconds
        self.solveSeconds = solveSeconds
        self.diagnostics = diagnostics
    }
}

/// A solution: x (dense storage, with its sparse view) and the report.
public struct Solution: Sendable {
    public var x: [Double]
    public var report: SolveReport

    public init(x: [Double], report: SolveReport) {
        self.x = x
        self.report = report
    }

    /// x as a sparse vector (its nonzeros).
    public var sparseX: SparseVector { SparseVector(dense: x) }
}
