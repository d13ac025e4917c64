// SparseTensor/CoordinateAssembly: triplets read from a file → canonical CSR, expanding symmetric storage.
//
// A bucket sort by row (count, prefix sum, scatter), then each row is sorted by column only if it is not
// already (files written column- or row-major leave every row sorted) and duplicates are summed, as
// scipy's `coo_matrix.tocsr()` and CSparse's `cs_dupl` do. O(nnz + m) plus the sorting of unsorted rows.

/// How the stored entries of a file relate to the full matrix.
enum StoredSymmetry: Sendable {
    /// Every entry is stored.
    case general
    /// a_ji = a_ij: an off-diagonal entry stands for itself and its mirror.
    case symmetric
    /// a_ji = −a_ij: the mirror is negated (the diagonal is zero).
    case skewSymmetric
}

enum CoordinateAssembly {
    /// Upper bound on the entries after expansion, for budget checks before parsing.
    static func expandedBound(stored: Int, symmetry: StoredSymmetry) -> Double {
        symmetry == .general ? Double(stored) : 2 * Double(stored)
    }

    /// Workers for the scatter: each needs a row-count array of m + 1 entries, so only as many as keep those
    /// arrays below the triplets' own size (a tall matrix with few entries per row is assembled on one thread).
    static func workers(rowCount m: Int, entries: Double, parallel: Bool = true) -> Int {
        guard parallel, entries >= Double(Parallelism.minimumParallelWork) else { return 1 }
        return max(1, min(Parallelism.workerCount, Int(min(entries / Double(m + 1), 64))))
    }

    /// Bytes `assemble` needs beyond its inputs: the CSR result plus one row-count array per worker.
    static func workingBytes(rowCount m: Int, expanded: Double) -> Double {
        StorageBytes.compressed(outer: m, nnz: expanded) + Double(workers(rowCount: m, entries: expanded)) * Double(m + 1) * 8
    }

    /// Canonical CSR from triplets (0-based, in range, finite; `values` nil means all ones).
    /// Summed duplicates are checked for overflow.
    ///
    /// A parallel counting sort: worker t takes a contiguous range of the triplets and counts its entries per
    /// row; row r of worker t then starts at `start(r) + Σ_{t'<t} count_t'(r)`, so every worker scatters
    /// independently and each row keeps the file order of its entries, exactly as one thread would.
    static func assemble(rowCount m: Int, columnCount n: Int, rows: UnsafeBufferPointer<Int32>, columns: UnsafeBufferPointer<Int32>,
                         values: UnsafeBufferPointer<Double>?, symmetry: StoredSymmetry,
                         parallel: Bool = true) throws(SparseError) -> CSRMatrix {
        let count = rows.count
        let workers = min(max(count, 1), self.workers(rowCount: m, entries: Double(count), parallel: parallel))
        // Slot positions in 32 bits when they fit: half the memory traffic of the random count and scatter.
        let result: (offsets: [Int], indices: [Int32], values: [Double])
        if 2 * count < Int(Int32.max) {
            result = scatterAll(Int32.self, m, rows, columns, values, symmetry, workers)
        } else {
            result = scatterAll(Int.self, m, rows, columns, values, symmetry, workers)
        }
        var storage = CompressedStorage(unchecked: m, n, result.offsets, result.indices, result.values)
        try canonicalizeLines(&storage, rowMajor: true, parallel: parallel)
        return CSRMatrix(storage: storage)
    }

    /// Count, place, scatter; `I` holds slot positions (Int32 when the entries allow).
    private static func scatterAll<I: FixedWidthInteger & BitwiseCopyable>(
        _: I.Type, _ m: Int, _ rows: UnsafeBufferPointer<Int32>, _ columns: UnsafeBufferPointer<Int32>,
        _ values: UnsafeBufferPointer<Double>?, _ symmetry: StoredSymmetry, _ workers: Int
    ) -> (offsets: [Int], indices: [Int32], values: [Double]) {
        let count = rows.count
        let bounds = (0...workers).map { count / workers * $0 + min($0, count % workers) }
        let mirror = symmetry != .general
        let stride = m + 1
        // counts[t·stride + r + 1] = entries of worker t in row r (mirrored entries count in the column's row).
        var counts = [I](repeating: 0, count: workers * stride)
        var offsets: [Int] = []
        var indices: [Int32] = [], vals: [Double] = []
        counts.withUnsafeMutableBufferPointer { cs in
            Parallelism.run(workers) { t in
                let c = cs.baseAddress! + t * stride
                if mirror {
                    for k in bounds[t]..<bounds[t + 1] {
                        let r = Int(rows[k]), j = Int(columns[k])
                        c[r + 1] &+= 1
                        if r != j { c[j + 1] &+= 1 }
                    }
                } else {
                    for k in bounds[t]..<bounds[t + 1] { c[Int(rows[k]) + 1] &+= 1 }
                }
            }
            offsets = placeRows(cs, rowCount: m, workers: workers)
            let total = offsets[m]
            indices = uninitializedArray(of: Int32.self, count: total)   // every slot is scattered to exactly once
            vals = uninitializedArray(of: Double.self, count: total)
            indices.withUnsafeMutableBufferPointer { idx in
                vals.withUnsafeMutableBufferPointer { v in
                    Parallelism.run(workers) { t in
                        let next = UnsafeMutableBufferPointer(rebasing: cs[(t * stride)..<(t * stride + stride)])
                        scatter(bounds[t]..<bounds[t + 1], rows, columns, values, symmetry, next, idx, v)
                    }
                }
            }
        }
        return (offsets, indices, vals)
    }

    /// Row starts from per-worker row counts, laid out with stride m + 1 (`counts[t·(m+1) + r + 1]` = entries
    /// of worker t in row r). Each count is replaced by that worker's first slot in its row
    /// (`counts[t·(m+1) + r]` = `start(r) + Σ_{t'<t} count_t'(r)`), so the workers can then scatter independently
    /// and each row keeps the order of its entries. Returns the m + 1 row offsets.
    static func placeRows<I: FixedWidthInteger>(_ counts: UnsafeMutableBufferPointer<I>, rowCount m: Int, workers: Int) -> [Int] {
        let stride = m + 1
        var offsets = [Int](repeating: 0, count: m + 1)
        offsets.withUnsafeMutableBufferPointer { off in
            var position = 0
            for r in 0..<m {
                off[r] = position
                for t in 0..<workers {
                    let c = Int(counts[t * stride + r + 1])
                    counts[t * stride + r] = I(truncatingIfNeeded: position)
                    position += c
                }
            }
            off[m] = position
        }
        return offsets
    }

    /// Entries `range` into their rows' slots; `next[r]` is this worker's next slot in row r.
    @inline(__always)
    private static func scatter<I: FixedWidthInteger>(
        _ range: Range<Int>, _ rows: UnsafeBufferPointer<Int32>, _ columns: UnsafeBufferPointer<Int32>,
        _ values: UnsafeBufferPointer<Double>?, _ symmetry: StoredSymmetry,
        _ next: UnsafeMutableBufferPointer<I>, _ idx: UnsafeMutableBufferPointer<Int32>, _ v: UnsafeMutableBufferPointer<Double>
    ) {
        switch (symmetry, values) {
        case (.general, let values?):
            for k in range {
                let r = Int(rows[k])
                let p = next[r]
                next[r] = p &+ 1
                idx[Int(p)] = columns[k]
                v[Int(p)] = values[k]
            }
        case (.general, nil):
            for k in range {
                let r = Int(rows[k])
                let p = next[r]
                next[r] = p &+ 1
                idx[Int(p)] = columns[k]
                v[Int(p)] = 1
            }
        default:
            let sign: Double = symmetry == .skewSymmetric ? -1 : 1
            for k in range {
                let r = Int(rows[k]), c = columns[k]
                let x = values?[k] ?? 1
                let p = next[r]
                next[r] = p &+ 1
                idx[Int(p)] = c
                v[Int(p)] = x
                if r != Int(c) {
                    let q = next[Int(c)]
                    next[Int(c)] = q &+ 1
                    idx[Int(q)] = Int32(truncatingIfNeeded: r)
                    v[Int(q)] = sign * x
                }
            }
        }
    }

    /// Sorts every line by inner index (a read pass only when the lines already are); returns the first line
    /// in which an inner index repeats, or nil.
    static func sortLines(_ s: inout CompressedStorage, parallel: Bool = true) -> Int? {
        let outer = s.outerCount
        let nnz = s.offsets[outer]
        var firstRepeat: Int?
        s.offsets.withUnsafeBufferPointer { off in
            s.indices.withUnsafeMutableBufferPointer { idx in
                s.values.withUnsafeMutableBufferPointer { val in
                    let parts = parallel ? Parallelism.workers(forWork: nnz) : 1
                    let ranges = Parallelism.balancedRanges(offsets: off, outerCount: outer, parts: parts)
                    var repeats = [Int](repeating: -1, count: ranges.count)
                    repeats.withUnsafeMutableBufferPointer { first in
                        Parallelism.run(ranges.count) { part in
                            for o in ranges[part] {
                                let start = off[o], end = off[o + 1]
                                if end - start < 2 { continue }
                                var sorted = true, repeated = false
                                for p in (start + 1)..<end where idx[p] <= idx[p - 1] {
                                    if idx[p] == idx[p - 1] { repeated = true } else { sorted = false; break }
                                }
                                if !sorted {
                                    sortLine(idx, val, start, end)
                                    for p in (start + 1)..<end where idx[p] == idx[p - 1] { repeated = true; break }
                                }
                                if repeated && first[part] < 0 { first[part] = o }
                            }
                        }
                    }
                    firstRepeat = repeats.first { $0 >= 0 }
                }
            }
        }
        return firstRepeat
    }

    /// Sorts every line by inner index and sums duplicates, compacting the arrays; a no-op (one read pass) when
    /// the lines are already strictly increasing. Throws when a sum of duplicates overflows.
    static func canonicalizeLines(_ s: inout CompressedStorage, rowMajor: Bool, parallel: Bool = true) throws(SparseError) {
        let outer = s.outerCount
        let nnz = s.offsets[outer]
        guard sortLines(&s, parallel: parallel) != nil else { return }
        // Sum adjacent duplicates and compact (sequential: lines move left). The values of a run of duplicates
        // are summed in ascending order (IEEE total order), so the sum does not depend on the order in which
        // parallel workers delivered them.
        var write = 0
        s.offsets.withUnsafeMutableBufferPointer { off in
            s.indices.withUnsafeMutableBufferPointer { idx in
                s.values.withUnsafeMutableBufferPointer { val in
                    var start = 0
                    for o in 0..<outer {
                        let end = off[o + 1]
                        var p = start
                        while p < end {
                            var q = p + 1
                            while q < end, idx[q] == idx[p] { q += 1 }
                            var sum = val[p]
                            if q - p > 1 {
                                var run = val[p..<q].map(totalOrderKey)
                                run.sort()
                                sum = valueOfTotalOrderKey(run[0])
                                for key in run.dropFirst() { sum += valueOfTotalOrderKey(key) }
                            }
                            idx[write] = idx[p]
                            val[write] = sum
                            write += 1
                            p = q
                        }
                        start = end
                        off[o + 1] = write
                    }
                }
            }
        }
        s.indices.removeLast(nnz - write)
        s.values.removeLast(nnz - write)
        try s.checkFinite(rowMajor: rowMajor)
    }

    /// A key whose unsigned order is IEEE 754 totalOrder (−NaN < −Inf < … < −0 < +0 < … < +Inf < +NaN).
    @inline(__always)
    static func totalOrderKey(_ x: Double) -> UInt64 {
        let bits = x.bitPattern
        return bits >> 63 == 1 ? ~bits : bits | (1 << 63)
    }

    @inline(__always)
    static func valueOfTotalOrderKey(_ key: UInt64) -> Double {
        Double(bitPattern: key >> 63 == 1 ? key & ~(1 << 63) : ~key)
    }

    /// Sorts `start..<end` by index, keeping equal indices in their original order (insertion sort for short
    /// lines, a stable merge of (index, position) keys otherwise).
    private static func sortLine(_ idx: UnsafeMutableBufferPointer<Int32>, _ val: UnsafeMutableBufferPointer<Double>,
                                 _ start: Int, _ end: Int) {
        let count = end - start
        if count <= 32 {
            for p in (start + 1)..<end {
                let key = idx[p], x = val[p]
                var q = p - 1
                while q >= start, idx[q] > key {
                    idx[q + 1] = idx[q]
                    val[q + 1] = val[q]
                    q -= 1
                }
                idx[q + 1] = key
                val[q + 1] = x
            }
            return
        }
        // Key = index · 2³² + original position: unique, so any sort is stable.
        var keys = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            for k in 0..<count { buffer[k] = UInt64(UInt32(bitPattern: idx[start + k])) << 32 | UInt64(k) }
            initialized = count
        }
        keys.sort()
        let oldValues = Array(val[start..<end])
        for k in 0..<count {
            idx[start + k] = Int32(bitPattern: UInt32(truncatingIfNeeded: keys[k] >> 32))
            val[start + k] = oldValues[Int(keys[k] & 0xFFFF_FFFF)]
        }
    }
}
