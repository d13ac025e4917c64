// LeastSquares/CDSetup: Ã = W^{1/2}·A from CSR to CSC in one parallel counting-sort pass, with ‖ã_j‖².
import SparseTensor

/// The weighted column-compressed copy coordinate descent works on.
///
/// The conversion is CSparse's `cs_transpose` (count per column, prefix sums, scatter), split over
/// `Parallelism.workerCount` nnz-balanced row ranges: each worker counts the columns of its rows,
/// the prefix sums give every (column, worker) pair its own slots, and each worker scatters its rows
/// in order — so every column comes out sorted by row, as `CSCMatrix` requires. The weights √wᵢ are
/// applied during the scatter. O(nnz + workers·n) time; the counts take workers·n integers.
struct CDColumns {
    /// Column starts (size n + 1), row indices and values (size nnz).
    var offsets: [Int]
    var rows: [Int32]
    var values: [Double]
    /// ‖ã_j‖², the diagonal of ÃᵀÃ.
    var squaredNorms: [Double]

    init(_ a: CSRMatrix, weights: [Double]?) {
        let m = a.rowCount, n = a.columnCount, nnz = a.nnz
        let workers = Parallelism.workers(forWork: nnz)
        var counts = [Int](repeating: 0, count: workers * (n + 1))
        var offsets = [Int](repeating: 0, count: n + 1)
        var values: [Double] = []
        var squaredNorms = [Double](repeating: 0, count: n)
        let roots = weights.map { $0.map { $0.squareRoot() } }
        // rows and values are written exactly once each, by the scatter: no zero fill first.
        let rows = [Int32](unsafeUninitializedCapacity: nnz) { outRows, rowCount in
            values = [Double](unsafeUninitializedCapacity: nnz) { outValues, valueCount in
                a.storage.offsets.withUnsafeBufferPointer { off in
                    a.storage.indices.withUnsafeBufferPointer { idx in
                        a.storage.values.withUnsafeBufferPointer { val in
                            counts.withUnsafeMutableBufferPointer { cnt in
                                offsets.withUnsafeMutableBufferPointer { start in
                                    let ranges = Parallelism.balancedRanges(offsets: off, outerCount: m, parts: workers)
                                    let parts = ranges.count
                                    // Count the entries of each column in each worker's rows.
                                    Parallelism.run(parts) { w in
                                        let base = w * (n + 1)
                                        for p in off[ranges[w].lowerBound]..<off[ranges[w].upperBound] { cnt[base + Int(idx[p])] += 1 }
                                    }
                                    // Column starts, and each worker's first slot in each column.
                                    var total = 0
                                    for j in 0..<n {
                                        start[j] = total
                                        for w in 0..<parts {
                                            let c = cnt[w * (n + 1) + j]
                                            cnt[w * (n + 1) + j] = total
                                            total += c
                                        }
                                    }
                                    start[n] = total
                                    // Scatter each worker's rows, in row order, into its slots.
                                    Parallelism.run(parts) { w in
                                        let base = w * (n + 1)
                                        for i in ranges[w] {
                                            let scale = roots?[i] ?? 1
                                            for p in off[i]..<off[i + 1] {
                                                let slot = base + Int(idx[p])
                                                let q = cnt[slot]
                                                cnt[slot] = q + 1
                                                outRows[q] = Int32(truncatingIfNeeded: i)
                                                outValues[q] = val[p] * scale
                                            }
                                        }
                                    }
                                    // ‖ã_j‖² per column.
                                    squaredNorms.withUnsafeMutableBufferPointer { sq in
                                        for j in 0..<n {
                                            var s = 0.0
                                            for q in start[j]..<start[j + 1] { s += outValues[q] * outValues[q] }
                                            sq[j] = s
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                valueCount = nnz
            }
            rowCount = nnz
        }
        self.offsets = offsets
        self.rows = rows
        self.values = values
        self.squaredNorms = squaredNorms
    }
}
