// SparseTensor/SpMV: sparse matrix times dense vector, y = A·x and y = Aᵀ·x, on both cores when it pays.
import CSparseKernels

/// Σ_{p ∈ entries} values[p]·x[indices[p]]: one compressed line (or a pooled column) times a dense vector,
/// with two accumulators, so that the adds do not wait on each other's latency. The inner loop of the gathers
/// that do not go through `LineGather`'s hardware gathers: A·x and the Krylov products on processors without
/// AVX2, the one-pass Golub–Kahan step, coordinate descent's ã_jᵀr and SGD's epoch objective.
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

/// Lines of compressed storage times a dense vector, with the processor's hardware gathers where it has
/// them (`lsq_gather_rows`: x86-64 with AVX2 and FMA), else `sparseDot` line by line.
///
/// A gather waits on one load of x per nonzero; 4-wide hardware gathers keep more of those loads in flight
/// (figures in `sparse_kernels.c`: up to a third faster on the 1M × 500k benchmark matrix, a few percent at
/// 200k × 100k). The sum runs in four lanes, then the rest of the line, so the last bits differ from
/// `sparseDot`'s, which a machine without AVX2 uses. The Krylov operator takes its A·v products and the
/// CSC copy's Aᵀ·u here too, except in the one-pass step, where the gathers beside the scatter made LSQR ~10 %
/// slower.
package enum LineGather {
    /// Whether `lines` uses the hardware gathers.
    package static let vectorized: Bool = lsq_has_vector_gather() != 0

    /// y[o − lines.lowerBound] = line o · x for every o in `lines`; `vectorized: false` forces the Swift loop
    /// (`true` on a processor without the instructions still takes it).
    package static func lines(_ lines: Range<Int>, _ off: UnsafeBufferPointer<Int>, _ idx: UnsafeBufferPointer<Int32>,
                              _ val: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>,
                              into y: UnsafeMutablePointer<Double>, vectorized: Bool = LineGather.vectorized) {
        guard !lines.isEmpty else { return }
        if vectorized && LineGather.vectorized, let offsets = off.baseAddress, let indices = idx.baseAddress, let values = val.baseAddress,
           let vector = x.baseAddress {
            lsq_gather_rows(offsets, indices, values, vector, y, lines.lowerBound, lines.upperBound)
            return
        }
        for o in lines { y[o - lines.lowerBound] = sparseDot(off[o]..<off[o + 1], idx, val, x) }
    }
}

extension CompressedStorage {
    /// yₒ = Σ_p values[p]·x[indices[p]] over each line o (a "gather"): CSR·x, or CSCᵀ·x (`LineGather`).
    /// Lines are split into nnz-balanced ranges, one per worker; each worker writes its own slice of y.
    package func gather(_ x: [Double], vectorized: Bool = LineGather.vectorized) -> [Double] {
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
                                LineGather.lines(ranges[k], off, idx, val, xp, into: base + ranges[k].lowerBound, vectorized: vectorized)
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
                                    for o in ranges[k] {
                                        let xo = xp[o]
                                        if xo == 0 { continue }
                                        for p in off[o]..<off[o + 1] { a[Int(idx[p])] += val[p] * xo }
                                    }
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
