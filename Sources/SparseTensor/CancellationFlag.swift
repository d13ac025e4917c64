// SparseTensor/CancellationFlag: a stop request shared by the long-running kernels (products) and the solvers.
import Synchronization

/// A cancellation flag a caller can set from any thread (Ctrl-C handler, HTTP DELETE). Products check it between
/// blocks of rows and throw `SparseError.cancelled`; solvers check it every iteration and report `.cancelled`.
public final class CancellationFlag: Sendable, Equatable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
    /// Two flags are equal when they are the same flag.
    public static func == (a: CancellationFlag, b: CancellationFlag) -> Bool { a === b }
}
