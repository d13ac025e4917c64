// SparseTensor/SymmetricProductKernel: C = L·Lᵀ (A·Aᵀ, AᵀA) from its upper triangle, mirrored in place when full.

/// The symmetric product C = L·R with R = Lᵀ (A·Aᵀ with L = A; AᵀA with L = Aᵀ): only the upper triangle U is
/// multiplied, and for the full C every off-diagonal entry is then written a second time, at (j, i), straight into
/// the final CSR.
///
/// Row i of C is `[ c_ki for k < i ] ++ [ c_ij for j ≥ i ]`; its lower part is column i of U. Gustavson's row-wise
/// product (Gustavson 1978, ACM TOMS 4(3)) forms row i of U as `Σ_{k ∈ L_i,:} l_ik · R_k,:` restricted to columns
/// ≥ i — half the multiply-adds of the full product:
///
/// ```
/// start:     R_k,: lists L's rows in increasing order, so U_i,: takes R_k,: from the position of the entry (k, i)
///            itself; one pass over L finds that position for every entry (no binary search per (i, k)).
/// symbolic:  u_i = |U_i,:|;  for each j > i in U_i,: count_p[j] += 1            (p: the part owning row i)
/// offsets:   |C_j,:| = Σ_p count_p[j] + u_j;  start_p[j] = offsets_j + Σ_{p' < p} count_p'[j]
/// numeric:   U_i,: (dense accumulator, sorted) at offsets_i + Σ_p count_p[i]
/// mirror:    each (i, j, c_ij), j > i, copied to C_j,: at start_p[j]++
/// ```
/// Parts own contiguous, increasing row ranges and walk their rows in order, so what a part appends to row j's
/// lower segment arrives in increasing column order after the earlier parts' segments: every row of C comes out
/// sorted without sorting its lower part, without a second copy of U, and without a write shared between workers.
/// The mirror copies destination rows a block at a time (`mirrorBlockBytes` of lower entries), each part advancing
/// a cursor through its sorted rows, so the scattered writes land in cache instead of in random lines of a
/// gigabyte-sized C. Peak memory is C plus `parts × rows` 32-bit counters and one 64-bit position per entry of L.
/// The full C is exactly symmetric (c_ji has c_ij's bits), where two independent row sums would differ in rounding.
package enum SymmetricProductKernel {
    /// Lower-segment bytes per mirror block. On the 160M-entry benchmark product (2 vCPUs, 32 MB L3) the full
    /// product took 4.4 s with 1 MB blocks, 3.7 s with 4–16 MB, 3.3–3.5 s with 64–256 MB and 4.1 s as one block
    /// (each entry scattered in row order): small blocks re-read every source row once per block, one block
    /// scatters over all of C.
    package static let mirrorBlockBytes = 64 << 20

    /// - Parameters:
    ///   - full: form all of C; otherwise only U (entries j ≥ i).
    ///   - parts: row ranges of equal work (default: four per worker); tests pass more to exercise the merge.
    ///   - blockBytes: lower-segment bytes per mirror block; tests pass tiny blocks to exercise many.
    ///   - cancellation: checked at every row of the passes and every block of the mirror (a relaxed load, nothing
    ///     next to a row's work: a few heavy rows must not delay a DELETE); a set flag throws `.cancelled` after
    ///     the current pass, before anything else is allocated.
    package static func multiply(_ l: CompressedStorage, _ r: CompressedStorage, full: Bool, budget: MemoryBudget,
                                 label: String, parts requestedParts: Int? = nil, blockBytes: Int = mirrorBlockBytes,
                                 cancellation: CancellationFlag? = nil) throws(SparseError) -> CompressedStorage {
        func checkCancelled() throws(SparseError) {
            if cancellation?.isCancelled == true { throw .cancelled(operation: "The product \(label)") }
        }
        let m = l.outerCount
        precondition(r.outerCount == l.innerCount && r.innerCount == m && r.nnz == l.nnz, "R must be Lᵀ")
        try budget.check(Double(l.nnz) * 8 + Double(m) * 16, for: "The product \(label)",
                         detail: "the positions of L's \(l.nnz) entries in Lᵀ")
        var start = [Int](repeating: 0, count: l.nnz)
        var work = [Int](repeating: 0, count: m + 1)
        l.offsets.withUnsafeBufferPointer { lo in l.indices.withUnsafeBufferPointer { li in
        r.offsets.withUnsafeBufferPointer { ro in start.withUnsafeMutableBufferPointer { st in
            var seen = [Int](repeating: 0, count: r.outerCount)
            for i in 0..<m {
                var w = 0
                for q in lo[i]..<lo[i + 1] {
                    let k = Int(li[q])
                    let position = ro[k] + seen[k]
                    seen[k] += 1
                    st[q] = position
                    w += ro[k + 1] - position
                }
                work[i + 1] = work[i] + w
            }
        }}}}
        let parts = requestedParts ?? Parallelism.workers(forWork: work[m]) * 4
        let ranges = work.withUnsafeBufferPointer { Parallelism.balancedRanges(offsets: $0, outerCount: m, parts: parts) }
        let counterRows = full ? m : 0
        try budget.check(Double(ranges.count * counterRows) * 4 + Double(m) * 12, for: "The product \(label)",
                         detail: "\(ranges.count) × \(counterRows) row counters for mirroring its upper triangle")

        // Symbolic pass: u_i, and count_p[j] for the mirrored entries.
        var upperCount = [Int32](repeating: 0, count: m)
        var lowerCount = [Int32](repeating: 0, count: ranges.count * counterRows)
        l.offsets.withUnsafeBufferPointer { lo in l.indices.withUnsafeBufferPointer { li in
        r.offsets.withUnsafeBufferPointer { ro in r.indices.withUnsafeBufferPointer { ri in start.withUnsafeBufferPointer { st in
        upperCount.withUnsafeMutableBufferPointer { uc in lowerCount.withUnsafeMutableBufferPointer { lc in
            Parallelism.run(ranges.count) { part in
                let count = UnsafeMutableBufferPointer(rebasing: lc[(part * counterRows)..<((part + 1) * counterRows)])
                var marker = [Int32](repeating: -1, count: m)
                marker.withUnsafeMutableBufferPointer { mark in
                    for i in ranges[part] {
                        if cancellation?.isCancelled == true { break }
                        var found: Int32 = 0
                        let row = Int32(truncatingIfNeeded: i)
                        for q in lo[i]..<lo[i + 1] {
                            let k = Int(li[q])
                            for s in st[q]..<ro[k + 1] {
                                let j = Int(ri[s])
                                if mark[j] != row {
                                    mark[j] = row
                                    found += 1
                                    if full && j != i { count[j] += 1 }
                                }
                            }
                        }
                        uc[i] = found
                    }
                }
            }
        }}}}}}}

        try checkCancelled()

        // Row offsets of C; count_p[j] becomes part p's start within row j's lower segment.
        var offsets = [Int](repeating: 0, count: m + 1)
        var lowerTotal = [Int32](repeating: 0, count: m)
        lowerCount.withUnsafeMutableBufferPointer { lc in
            for j in 0..<m {
                var total: Int32 = 0
                for part in 0..<(full ? ranges.count : 0) {
                    let c = lc[part * m + j]
                    lc[part * m + j] = total
                    total += c
                }
                lowerTotal[j] = total
                offsets[j + 1] = offsets[j] + Int(total) + Int(upperCount[j])
            }
        }
        let nnz = offsets[m]
        let workspace = ProductRowWorkspace.bytes(parts: ranges.count, columns: m)
        try budget.check(StorageBytes.compressed(outer: m, nnz: Double(nnz)) + workspace, for: "The product \(label)",
                         detail: "exact nnz \(nnz) from the symbolic pass, and \(ByteCount.format(workspace)) of per-worker workspace")

        // Numeric pass and mirror. Every position of C is written exactly once (the symbolic pass counted them),
        // so the arrays start uninitialised rather than zeroed first.
        var values: [Double] = []
        let indices = [Int32](unsafeUninitializedCapacity: nnz) { ci, ciCount in
            values = [Double](unsafeUninitializedCapacity: nnz) { cv, cvCount in
                l.offsets.withUnsafeBufferPointer { lo in l.indices.withUnsafeBufferPointer { li in l.values.withUnsafeBufferPointer { lv in
                r.offsets.withUnsafeBufferPointer { ro in r.indices.withUnsafeBufferPointer { ri in r.values.withUnsafeBufferPointer { rv in
                offsets.withUnsafeBufferPointer { co in lowerTotal.withUnsafeBufferPointer { lt in start.withUnsafeBufferPointer { st in
                    Parallelism.run(ranges.count) { part in
                        let workspace = ProductRowWorkspace(columns: m)
                        for i in ranges[part] {
                            if cancellation?.isCancelled == true { break }
                            let row = Int32(truncatingIfNeeded: i)
                            let base = co[i] + Int(lt[i])
                            var length = 0
                            for q in lo[i]..<lo[i + 1] {
                                // Row k of U starts at the entry's own position in Aᵀ (`st`), not at the row's start.
                                workspace.accumulate(lv[q], indices: ri, values: rv, entries: st[q]..<ro[Int(li[q]) + 1],
                                                     row: row, into: ci, base: base, length: &length)
                            }
                            workspace.finishRow(ci, cv, base: base, length: length)
                        }
                    }
                }}}}}}}}}
                if full && cancellation?.isCancelled != true {
                    mirror(ci: ci, cv: cv, offsets: offsets, lowerTotal: lowerTotal, starts: &lowerCount,
                           ranges: ranges, blockBytes: blockBytes, cancellation: cancellation)
                }
                cvCount = nnz
            }
            ciCount = nnz
        }
        try checkCancelled()   // a cancelled pass left C partly unwritten: it is dropped here
        return CompressedStorage(unchecked: m, m, offsets, indices, values)
    }

    /// Copies each (i, j, c_ij) of U with j > i to (j, i), for destination rows a block at a time: for block
    /// [j₀, j₁) each part walks its rows i < j₁ and copies the run of row i's sorted columns that falls in the block,
    /// remembering where the run ended for the next block.
    static func mirror(ci: UnsafeMutableBufferPointer<Int32>, cv: UnsafeMutableBufferPointer<Double>,
                       offsets: [Int], lowerTotal: [Int32], starts: inout [Int32],
                       ranges: [Range<Int>], blockBytes: Int, cancellation: CancellationFlag? = nil) {
        let m = lowerTotal.count
        var bounds = [0]
        var bytes = 0
        for j in 0..<m {
            bytes += Int(lowerTotal[j]) * 12
            if bytes >= blockBytes { bounds.append(j + 1); bytes = 0 }
        }
        if bounds.last! != m { bounds.append(m) }
        // next[i]: row i's first entry not yet mirrored (past the diagonal, which has no mirror).
        var next = [Int](repeating: 0, count: m)
        offsets.withUnsafeBufferPointer { co in lowerTotal.withUnsafeBufferPointer { lt in
        next.withUnsafeMutableBufferPointer { nx in starts.withUnsafeMutableBufferPointer { lc in
            for i in 0..<m {
                let t = co[i] + Int(lt[i])
                nx[i] = (t < co[i + 1] && Int(ci[t]) == i) ? t + 1 : t
            }
            Parallelism.run(ranges.count) { part in
                let cursor = UnsafeMutableBufferPointer(rebasing: lc[(part * m)..<((part + 1) * m)])
                let rows = ranges[part]
                for b in 0..<(bounds.count - 1) {
                    if cancellation?.isCancelled == true { break }
                    let last = min(rows.upperBound, bounds[b + 1])   // rows i ≥ j₁ have no j > i in the block
                    if last <= rows.lowerBound { continue }
                    let blockEnd = bounds[b + 1]
                    for i in rows.lowerBound..<last {
                        var t = nx[i]
                        let end = co[i + 1]
                        let row = Int32(truncatingIfNeeded: i)
                        while t < end {
                            let j = Int(ci[t])
                            if j >= blockEnd { break }
                            let target = co[j] + Int(cursor[j])
                            cursor[j] += 1
                            ci[target] = row
                            cv[target] = cv[t]
                            t += 1
                        }
                        nx[i] = t
                    }
                }
            }
        }}}}
    }
}
