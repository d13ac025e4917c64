// SparseTensor/SpMV: sparse matrix times dense vector, y = A·x and y = Aᵀ·x, on both cores when it pays.
import CSparseKernels

/// Σ_{p ∈ entries} values[p]·x[indices[p]]: one compressed line (or a pooled column) times a dense vector,
/// with two accumulators, so that the adds do not wait on each other's latency. `LineGather` (the C kernel)
/// sums in the same order and gives the same bits; this Swift loop serves single lines: coordinate descent's
/// ã_jᵀr and SGD's epoch objective.
@inlinable @inline(__always)
package func sparseDot(_ entries: Range<Int>, _ indices: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Double>,
                       _ x: UnsafeBufferPointer<Double>) -> Double {
    var s0 = 0.0, s1 = 0.0
    var p = entries.lowerBound
    let end = entries.upperBound
    while p + 1 < end {
        s0 += values[p] * x[Int(indices[p])]
        s1 += values[p + 1] * x[Int(indices[p + 1])]
        p += 2
    }
    if p < end { s0 += values[p] * x[Int(indices[p])] }
    return s0 + s1
}

/// Runs of compressed lines times a dense vector (gather) or scattered by one (scatter), through the C kernels
/// of `CSparseKernels`, which prefetch the matrix's value and index streams ahead of the loop.
///
/// Both loops read `values` and `indices` front to back and touch x (or the accumulator) at random. With those
/// random accesses missing L1 once per nonzero, the hardware prefetcher fetched the streams late, and one core
/// drew about a third of the bandwidth it draws on a plain stream; asked for 8 KB ahead, A·x on the
/// bench-core matrices ran 1.6–1.9× faster (figures in `sparse_kernels.c` and BENCHMARKS.md).
package enum LineGather {
    // The kernels read no entry of an empty matrix or vector, whose buffers may have no base address (nil).

    /// y[o − lines.lowerBound] = line o · x for every o in `lines`, each line summed as `sparseDot` sums it.
    package static func lines(_ lines: Range<Int>, _ off: UnsafeBufferPointer<Int>, _ idx: UnsafeBufferPointer<Int32>,
                              _ val: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>,
                              into y: UnsafeMutablePointer<Double>) {
        guard !lines.isEmpty else { return }
        lsq_gather_rows(off.baseAddress, idx.baseAddress, val.baseAddress, x.baseAddress, y, lines.lowerBound, lines.upperBound)
    }

    /// acc[indices[p]] += values[p]·x[o] for every entry p of every line o in `lines` with x[o] ≠ 0.
    package static func scatter(_ lines: Range<Int>, _ off: UnsafeBufferPointer<Int>, _ idx: UnsafeBufferPointer<Int32>,
                                _ val: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>,
                                into acc: UnsafeMutablePointer<Double>) {
        guard !lines.isEmpty else { return }
        lsq_scatter_rows(off.baseAddress, idx.baseAddress, val.baseAddress, x.baseAddress, acc, lines.lowerBound, lines.upperBound)
    }
}

extension CompressedStorage {
    /// yₒ = Σ_p values[p]·x[indices[p]] over each line o (a "gather"): CSR·x, or CSCᵀ·x (`LineGather`).
    /// Lines are split into nnz-balanced ranges, one per worker; each worker writes its own slice of y.
    package func gather(_ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: outerCount)
        let workers = Parallelism.workers(forWork: nnz)
        offsets.withUnsafeBufferPointer { off in
            indices.withUnsafeBufferPointer { idx in
                values.withUnsafeBufferPointer { val in
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            let ranges = Parallelism.balancedRanges(offsets: off, outerCount: outerCount, parts: workers)
                            let out = yp
                            Parallelism.run(ranges.count) { k in
                                guard let base = out.baseAddress else { return }
                                LineGather.lines(ranges[k], off, idx, val, xp, into: base + ranges[k].lowerBound)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// y[indices[p]] += values[p]·x[o] over every line o (a "scatter"): CSRᵀ·x without forming the transpose, or CSC·x.
    /// With two or more workers each accumulates into its own inner-length buffer, then the buffers are summed;
    /// that extra O(workers·inner) pass pays only when nnz is several times the inner length.
    package func scatter(_ x: [Double]) -> [Double] {
        var workers = Parallelism.workers(forWork: nnz)
        if nnz < 4 * innerCount { workers = 1 }
        var partial = [[Double]](repeating: [], count: workers)
        offsets.withUnsafeBufferPointer { off in
            indices.withUnsafeBufferPointer { idx in
                values.withUnsafeBufferPointer { val in
                    x.withUnsafeBufferPointer { xp in
                        let ranges = Parallelism.balancedRanges(offsets: off, outerCount: outerCount, parts: workers)
                        partial.withUnsafeMutableBufferPointer { parts in
                            let slots = parts
                            let inner = innerCount
                            Parallelism.run(ranges.count) { k in
                                var acc = [Double](repeating: 0, count: inner)
                                acc.withUnsafeMutableBufferPointer { a in
                                    guard let base = a.baseAddress else { return }
                                    LineGather.scatter(ranges[k], off, idx, val, xp, into: base)
                                }
                                slots[k] = acc
                            }
                        }
                    }
                }
            }
        }
        guard workers > 1 else { return partial[0] }
        var y = partial[0]
        let n = innerCount
        y.withUnsafeMutableBufferPointer { yp in
            let out = yp
            let chunk = (n + workers - 1) / workers
            Parallelism.run(workers) { k in
                let lo = k * chunk, hi = min(n, lo + chunk)
                guard lo < hi else { return }
                for w in 1..<workers {
                    partial[w].withUnsafeBufferPointer { src in
                        for i in lo..<hi { out[i] += src[i] }
                    }
                }
            }
        }
        return y
    }
}


extension CSRMatrix {
    /// y = A·x. Throws when `x.count != columnCount`.
    public func multiply(_ x: [Double]) throws(SparseError) -> [Double] {
        guard x.count == columnCount else {
            throw .dimensionMismatch(operation: "A·x", expected: "x of length \(columnCount) (A is \(rowCount) × \(columnCount))", got: "length \(x.count)")
        }
        return storage.gather(x)
    }

    /// y = Aᵀ·x computed from the rows of A, without forming Aᵀ. Throws when `x.count != rowCount`.
    public func transposeMultiply(_ x: [Double]) throws(SparseError) -> [Double] {
        guard x.count == rowCount else {
            throw .dimensionMismatch(operation: "Aᵀ·x", expected: "x of length \(rowCount) (A is \(rowCount) × \(columnCount))", got: "length \(x.count)")
        }
        return storage.scatter(x)
    }

    /// y = A·x for a sparse x, through the rows: x is expanded to length n and every row is gathered, O(n + nnz(A)).
    /// When x is very sparse, `CSCMatrix.multiply(_: SparseVector)` touches only x's columns instead.
    public func multiply(_ x: SparseVector) throws(SparseError) -> [Double] {
        guard x.length == columnCount else {
            throw .dimensionMismatch(operation: "A·x", expected: "x of length \(columnCount)", got: "length \(x.length)")
        }
        return storage.gather(x.dense())
    }
}

extension CSCMatrix {
    /// y = A·x (scatter over columns).
    public func multiply(_ x: [Double]) throws(SparseError) -> [Double] {
        guard x.count == columnCount else {
            throw .dimensionMismatch(operation: "A·x", expected: "x of length \(columnCount) (A is \(rowCount) × \(columnCount))", got: "length \(x.count)")
        }
        return storage.scatter(x)
    }

    /// y = Aᵀ·x (gather over columns: each yⱼ = a_jᵀx).
    public func transposeMultiply(_ x: [Double]) throws(SparseError) -> [Double] {
        guard x.count == rowCount else {
            throw .dimensionMismatch(operation: "Aᵀ·x", expected: "x of length \(rowCount) (A is \(rowCount) × \(columnCount))", got: "length \(x.count)")
        }
        return storage.gather(x)
    }

    /// y = A·x for sparse x: touches only the columns of x's nonzeros, O(Σ nnz(a_j) over x's support).
    public func multiply(_ x: SparseVector) throws(SparseError) -> [Double] {
        guard x.length == columnCount else {
            throw .dimensionMismatch(operation: "A·x", expected: "x of length \(columnCount)", got: "length \(x.length)")
        }
        var y = [Double](repeating: 0, count: rowCount)
        for (k, j) in x.indices.enumerated() {
            let xj = x.values[k]
            for p in columnOffsets[j]..<columnOffsets[j + 1] { y[Int(rowIndices[p])] += values[p] * xj }
        }
        return y
    }
}
