// LeastSquares/SolverOptions: the knobs of every solver, with the CLI's meanings.

/// Options for `LeastSquaresSolver.solve`. `tolerance` is each solver's main tolerance:
/// - LSQR/LSMR: atol = btol = tolerance;
/// - CD: duality gap relative to f(x);
/// - SGD: relative objective decrease per epoch.
public struct SolverOptions: Sendable, Codable, Equatable {
    public var solver: SolverKind = .auto
    /// Main tolerance (see above). Default 1e-8 (about half the digits of a double, squared residual scale).
    public var tolerance: Double = 1e-8
    /// Krylov iteration cap (LSQR/LSMR); nil → 2·n (LSQR's customary default is n; 2n covers rounding).
    public var maxIterations: Int?
    /// Epoch cap for SGD/CD passes over the data; nil → 1000 (CD), 50 (SGD).
    public var epochs: Int?
    /// Seed for random orders / sampling.
    public var seed: UInt64 = 0
    /// LSQR/LSMR condition limit (conlim); default 1e8 as in scipy.
    public var conditionLimit: Double = 1e8
    /// LSQR/LSMR: scale columns to unit norm (Jacobi preconditioning).
    public var columnScaling: Bool = false
    /// CD visiting order.
    public var coordinateOrder: CoordinateOrder = .cyclic
    /// SGD learning-rate schedule and its base rate (nil: derived from row norms).
    public var learningRate: LearningRateSchedule = .adagrad
    public var initialLearningRate: Double?
    /// SGD mini-batch size (rows per step).
    public var batchSize: Int = 1
    /// SGD: return the average of the iterates (Polyak–Ruppert).
    public var averaging: Bool = false
    /// Memory budget for factorizations and products, in bytes; nil → `MemoryBudget.default`.
    public var memoryBudgetBytes: Int?

    public init() {}
}

public enum CoordinateOrder: String, Sendable, Codable, CaseIterable { case cyclic, random }

public enum LearningRateSchedule: String, Sendable, Codable, CaseIterable {
    /// ηₜ = η₀.
    case constant
    /// ηₜ = η₀ / (1 + t/m)^0.5 (t in rows seen, so it decays per epoch).
    case inverseScaling = "invscaling"
    /// Per-coordinate AdaGrad (Duchi, Hazan & Singer 2011): ηₜ,ⱼ = η₀ / √(ε + Σ g²ⱼ).
    case adagrad
}
