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

    /// Canonical CSR from triplets (0-based, in range, finite; `values` nil means all ones).
    /// Summed duplicates are checked for overflow.
    static func assemble(rowCount m: Int, columnCount n: Int, rows: UnsafeBufferPointer<Int32>, columns: UnsafeBufferPointer<Int32>,
                         values: UnsafeBufferPointer<Double>?, symmetry: StoredSymmetry,
                         parallel: Bool = true) throws(SparseError) -> CSRMatrix {
        let count = rows.count
        // Row counts (mirrored entries count in the column's row); offsets[r] ends as the start of row r.
        var offsets = [Int](repeating: 0, count: m + 1)
        var total = 0
        offsets.withUnsafeMutableBufferPointer { off in
            if symmetry == .general {
                for k in 0..<count { off[Int(rows[k]) + 1] += 1 }
            } else {
                for k in 0..<count {
                    let r = Int(rows[k]), c = Int(columns[k])
                    off[r + 1] += 1
                    if r != c { off[c + 1] += 1 }
                }
            }
            for r in 0..<m { off[r + 1] += off[r] }
            total = off[m]
        }
        // Scatter: `next[r]` walks through row r; using offsets[r] itself and shifting afterwards saves an m-array.
        var indices = [Int32](repeating: 0, count: total)
        var vals = [Double](repeating: 0, count: total)
        offsets.withUnsafeMutableBufferPointer { off in
            indices.withUnsafeMutableBufferPointer { idx in
                vals.withUnsafeMutableBufferPointer { v in
                    for k in 0..<count {
                        let r = Int(rows[k]), c = columns[k]
                        let x = values?[k] ?? 1
                        let p = off[r]
                        off[r] = p + 1
                        idx[p] = c
                        v[p] = x
                        if symmetry != .general, r != Int(c) {
                            let q = off[Int(c)]
                            off[Int(c)] = q + 1
                            idx[q] = Int32(truncatingIfNeeded: r)
                            v[q] = symmetry == .skewSymmetric ? -x : x
                        }
                    }
                    // off[r] is now the end of row r = the start of row r + 1: shift right by one.
                    if m > 0 {
                        for r in stride(from: m, to: 0, by: -1) { off[r] = off[r - 1] }
                        off[0] = 0
                    }
                }
            }
        }
        var storage = CompressedStorage(unchecked: m, n, offsets, indices, vals)
        try canonicalizeLines(&storage, rowMajor: true, parallel: parallel)
        return CSRMatrix(storage: storage)
    }

    /// Sorts every line by inner index and sums duplicates, compacting the arrays; a no-op (one read pass) when
    /// the lines are already strictly increasing. Throws when a sum of duplicates overflows.
    static func canonicalizeLines(_ s: inout CompressedStorage, rowMajor: Bool, parallel: Bool = true) throws(SparseError) {
        let outer = s.outerCount
        let nnz = s.offsets[outer]
        var hasDuplicates = false
        s.offsets.withUnsafeBufferPointer { off in
            s.indices.withUnsafeMutableBufferPointer { idx in
                s.values.withUnsafeMutableBufferPointer { val in
                    let parts = parallel ? Parallelism.workers(forWork: nnz) : 1
                    let ranges = Parallelism.balancedRanges(offsets: off, outerCount: outer, parts: parts)
                    var duplicates = [Bool](repeating: false, count: ranges.count)
                    duplicates.withUnsafeMutableBufferPointer { dup in
                        Parallelism.run(ranges.count) { part in
                            var found = false
                            for o in ranges[part] {
                                let start = off[o], end = off[o + 1]
                                if end - start < 2 { continue }
                                var sorted = true
                                for p in (start + 1)..<end where idx[p] <= idx[p - 1] {
                                    if idx[p] == idx[p - 1] { found = true } else { sorted = false; break }
                                }
                                if !sorted {
                                    sortLine(idx, val, start, end)
                                    for p in (start + 1)..<end where idx[p] == idx[p - 1] { found = true; break }
                                }
                            }
                            dup[part] = found
                        }
                    }
                    hasDuplicates = duplicates.contains(true)
                }
            }
        }
        guard hasDuplicates else { return }
        // Sum adjacent duplicates and compact (sequential: lines move left).
        var write = 0
        s.offsets.withUnsafeMutableBufferPointer { off in
            s.indices.withUnsafeMutableBufferPointer { idx in
                s.values.withUnsafeMutableBufferPointer { val in
                    var start = 0
                    for o in 0..<outer {
                        let end = off[o + 1]
                        let lineStart = write
                        for p in start..<end {
                            if write > lineStart, idx[write - 1] == idx[p] {
                                val[write - 1] += val[p]
                            } else {
                                idx[write] = idx[p]
                                val[write] = val[p]
                                write += 1
                            }
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
