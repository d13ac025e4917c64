// SparseTensor/ProductKernel: C = L·R (A·B) for CSR operands, row-parallel Gustavson with an exact symbolic pass.

/// Sparse × sparse product in two passes over the rows of C (Gustavson 1978, "Two fast algorithms for
/// sparse matrices: multiplication and permuted transposition", ACM TOMS 4(3)):
///
/// ```
/// symbolic:  |C_i,:| = |∪_{k ∈ L_i,:} pattern(R_k,:)|        (marker array over C's columns)
/// numeric:   C_i,: = Σ_{k ∈ L_i,:} l_ik · R_k,:                 (dense accumulator + marker, then sort the row: `IndexSort`)
/// ```
/// The symbolic pass gives the exact nnz, which is checked against the memory budget before C is allocated.
/// Rows are split across workers in ranges of equal multiply-add work, each worker with its own
/// accumulator and marker (O(columns) each). The symmetric products A·Aᵀ and AᵀA go to
/// `SymmetricProductKernel`, which multiplies only one triangle.
package enum ProductKernel {
    package static func multiply(_ l: CompressedStorage, _ r: CompressedStorage, budget: MemoryBudget, label: String,
                                 cancellation: CancellationFlag? = nil) throws(SparseError) -> CompressedStorage {
        func checkCancelled() throws(SparseError) {
            if cancellation?.isCancelled == true { throw .cancelled(operation: "The product \(label)") }
        }
        let m = l.outerCount, p = r.innerCount
        // Cumulative multiply-add work per row of C, for balanced ranges.
        var work = [Int](repeating: 0, count: m + 1)
        for i in 0..<m {
            var w = 0
            for q in l.offsets[i]..<l.offsets[i + 1] {
                let k = Int(l.indices[q])
                w += r.offsets[k + 1] - r.offsets[k]
            }
            work[i + 1] = work[i] + w
        }
        let workers = Parallelism.workers(forWork: work[m])
        let ranges = work.withUnsafeBufferPointer { Parallelism.balancedRanges(offsets: $0, outerCount: m, parts: workers * 4) }

        // Symbolic pass: exact row counts.
        var offsets = [Int](repeating: 0, count: m + 1)
        l.offsets.withUnsafeBufferPointer { lo in l.indices.withUnsafeBufferPointer { li in
        r.offsets.withUnsafeBufferPointer { ro in r.indices.withUnsafeBufferPointer { ri in
        offsets.withUnsafeMutableBufferPointer { counts in
            Parallelism.run(ranges.count) { part in
                var marker = [Int32](repeating: -1, count: p)
                marker.withUnsafeMutableBufferPointer { mark in
                    for i in ranges[part] {
                        if cancellation?.isCancelled == true { break }   // every row: one load, against a row's work
                        var count = 0
                        let row = Int32(truncatingIfNeeded: i)
                        for q in lo[i]..<lo[i + 1] {
                            let k = Int(li[q])
                            for s in ro[k]..<ro[k + 1] {
                                let j = Int(ri[s])
                                if mark[j] != row { mark[j] = row; count += 1 }
                            }
                        }
                        counts[i + 1] = count
                    }
                }
            }
        }}}}}
        try checkCancelled()
        for i in 0..<m { offsets[i + 1] += offsets[i] }
        let nnz = offsets[m]
        let workspace = ProductRowWorkspace.bytes(parts: ranges.count, columns: p)
        try budget.check(StorageBytes.compressed(outer: m, nnz: Double(nnz)) + workspace, for: "The product \(label)",
                         detail: "exact nnz \(nnz) from the symbolic pass, and \(ByteCount.format(workspace)) of per-worker workspace")

        // Numeric pass. Every position of C is written exactly once, so the arrays start uninitialised.
        var values: [Double] = []
        let indices = [Int32](unsafeUninitializedCapacity: nnz) { ci, ciCount in
        values = [Double](unsafeUninitializedCapacity: nnz) { cv, cvCount in
        l.offsets.withUnsafeBufferPointer { lo in l.indices.withUnsafeBufferPointer { li in l.values.withUnsafeBufferPointer { lv in
        r.offsets.withUnsafeBufferPointer { ro in r.indices.withUnsafeBufferPointer { ri in r.values.withUnsafeBufferPointer { rv in
        offsets.withUnsafeBufferPointer { co in
            Parallelism.run(ranges.count) { part in
                let workspace = ProductRowWorkspace(columns: p)
                for i in ranges[part] {
                    if cancellation?.isCancelled == true { break }   // every row: one load, against a row's work
                    let row = Int32(truncatingIfNeeded: i)
                    let base = co[i]
                    var length = 0
                    for q in lo[i]..<lo[i + 1] {
                        let k = Int(li[q])
                        workspace.accumulate(lv[q], indices: ri, values: rv, entries: ro[k]..<ro[k + 1], row: row,
                                             into: ci, base: base, length: &length)
                    }
                    workspace.finishRow(ci, cv, base: base, length: length)
                }
            }
        }}}}}}}
        cvCount = nnz
        }
        ciCount = nnz
        }
        try checkCancelled()   // a cancelled pass left C partly unwritten: it is dropped here
        return CompressedStorage(unchecked: m, p, offsets, indices, values)
    }
}
