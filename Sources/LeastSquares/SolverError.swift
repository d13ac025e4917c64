// LeastSquares/SolverError: typed errors of the solver layer.
import SparseTensor

/// What can stop a solve from producing an answer. Reaching a limit is not an error: it is a `StopReason`.
public enum SolverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Shapes, λ, y, x0 or weights are invalid; the message names the field and what was expected.
    case invalidProblem(String)
    /// An option is out of range (e.g. a negative tolerance); names the option.
    case invalidOption(String)
    /// The iteration diverged (non-finite or exploding objective); the message carries advice.
    case diverged(String)
    /// The solver cannot handle this problem (e.g. L1 with LSQR); names an alternative.
    case unsupported(String)
    /// An error from the sparse layer (memory budget, SuiteSparse failure, …).
    case sparse(SparseError)

    public var description: String {
        switch self {
        case let .invalidProblem(m): return "SolverError. Invalid problem: \(m)"
        case let .invalidOption(m): return "SolverError. Invalid option: \(m)"
        case let .diverged(m): return "SolverError. Diverged: \(m)"
        case let .unsupported(m): return "SolverError. Unsupported: \(m)"
        case let .sparse(e): return e.description
        }
    }
}
