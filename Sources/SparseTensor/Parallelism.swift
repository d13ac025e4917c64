// SparseTensor/Parallelism: the one place that decides how many threads lsq's kernels use.
import Foundation

/// Thread counts for lsq's own kernels, and a balanced split of compressed lines across them.
///
/// `workerCount` defaults to the machine's active cores and can be pinned with `LSQ_THREADS`.
/// Kernels fall back to one thread below `minimumParallelWork` nonzeros, where the cost of
/// waking a second thread (~10 µs) exceeds the work.
public enum Parallelism {
    public static let workerCount: Int = {
        if let t = ProcessInfo.processInfo.environment["LSQ_THREADS"], let n = Int(t), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Work (nonzeros) below which a kernel runs on one thread.
    public static let minimumParallelWork = 100_000

    /// Workers to use for `work` nonzeros.
    public static func workers(forWork work: Int) -> Int {
        work < minimumParallelWork ? 1 : workerCount
    }

    /// Splits lines `0..<outerCount` into `parts` contiguous ranges of about equal nnz (binary search on offsets).
    public static func balancedRanges(offsets: UnsafeBufferPointer<Int>, outerCount: Int, parts: Int) -> [Range<Int>] {
        guard parts > 1, outerCount > 0 else { return [0..<outerCount] }
        let nnz = offsets[outerCount]
        var bounds = [0]
        for k in 1..<parts {
            let target = nnz / parts * k + (nnz % parts) * k / parts
            var lo = bounds.last!, hi = outerCount
            while lo < hi {
                let mid = (lo + hi) / 2
                if offsets[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            bounds.append(lo)
        }
        bounds.append(outerCount)
        return (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// Runs `body(k)` for `k` in `0..<count`, concurrently when `count > 1`.
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 { body(0); return }
        // The kernels hand each k a disjoint output range, so running `body` concurrently is safe
        // even though the closure (capturing raw buffers) is not formally Sendable.
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
        }
    }
}

/// The one audited `@unchecked Sendable` of the package: values handed to parallel kernel workers
/// that each touch a disjoint part of the output (see `Parallelism.run`).
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
