// LeastSquares/EntryPrefetcher: asks for a compressed matrix's entries ahead of a loop that reads its lines in order.
import CMemoryHints

/// A cursor over a compressed matrix's `idx` and `val` arrays that prefetches them `LSQ_PREFETCH_AHEAD`
/// entries (8 KB of values) ahead of the line being read (`lsq_prefetch_entries`).
///
/// For loops that stream the matrix while they touch an n-vector at random (the scatters of coordinate
/// descent's passes): there, the random accesses miss L1 once per entry and the hardware prefetcher fetches
/// the streams late. SpMV's C kernels do the same (`sparse_kernels.c`, measurements in BENCHMARKS.md).
struct EntryPrefetcher {
    private let idx: UnsafePointer<Int32>?
    private let val: UnsafePointer<Double>?
    private var next: Int

    /// A cursor for a loop whose first line starts at entry `start`.
    @inline(__always) init(_ idx: UnsafeBufferPointer<Int32>, _ val: UnsafeBufferPointer<Double>, from start: Int) {
        self.idx = idx.baseAddress
        self.val = val.baseAddress
        next = start + Int(LSQ_PREFETCH_AHEAD)
    }

    /// Call before reading the line of entries `entries`. Lines come in increasing order; the entries of lines
    /// skipped since the last call are asked for only as far as they lie ahead of this one. Of a line longer
    /// than the distance, only its first `LSQ_PREFETCH_AHEAD` entries are asked for beyond it (its rest is a
    /// long sequential run, which the hardware prefetcher follows), so that no call issues a long burst.
    @inline(__always) mutating func line(_ entries: Range<Int>) {
        let ahead = Int(LSQ_PREFETCH_AHEAD)
        next = lsq_prefetch_entries(idx, val, max(next, entries.lowerBound + ahead),
                                    min(entries.upperBound, entries.lowerBound + ahead) + ahead)
    }
}
