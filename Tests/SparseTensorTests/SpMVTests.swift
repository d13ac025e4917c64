// Tests of A·x and Aᵀ·x (sequential and two-core paths) against independent loops over the triplets.
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("SpMV")
struct SpMVTests {
    /// y = A·x computed from the COO triplets, independent of the compressed kernels.
    func tripletMultiply(_ coo: COOMatrix, _ x: [Double], transpose: Bool) -> [Double] {
        var y = [Double](repeating: 0, count: transpose ? coo.columnCount : coo.rowCount)
        for k in 0..<coo.nnz {
            let (i, j) = (Int(coo.rows[k]), Int(coo.columns[k]))
            if transpose { y[j] += coo.values[k] * x[i] } else { y[i] += coo.values[k] * x[j] }
        }
        return y
    }

    @Test("Small matrices against the dense product", arguments: [(5, 9), (40, 17), (1, 30), (30, 1)])
    func small(shape: (Int, Int)) throws {
        let (a, dense) = randomSmall(rows: shape.0, columns: shape.1, density: 0.3, seed: 11)
        var rng = SplitMix64(seed: 3)
        let x = (0..<shape.1).map { _ in rng.nextGaussian() }
        let u = (0..<shape.0).map { _ in rng.nextGaussian() }
        #expect(relativeError(try a.multiply(x), DenseReference.multiply(dense, x)) < 1e-14)
        let at = DenseReference.transpose(dense, columns: shape.1)
        #expect(relativeError(try a.transposeMultiply(u), DenseReference.multiply(at, u)) < 1e-14)
        let c = CSCMatrix(a)
        #expect(relativeError(try c.multiply(x), DenseReference.multiply(dense, x)) < 1e-14)
        #expect(relativeError(try c.transposeMultiply(u), DenseReference.multiply(at, u)) < 1e-14)
        let xs = SparseVector(dense: x.enumerated().map { $0.offset % 3 == 0 ? $0.element : 0 })
        #expect(relativeError(try c.multiply(xs), DenseReference.multiply(dense, xs.dense())) < 1e-14)
        #expect(relativeError(try a.multiply(xs), DenseReference.multiply(dense, xs.dense())) < 1e-14)
    }

    @Test("Large enough for both cores: parallel kernels equal the triplet loop")
    func parallelPath() throws {
        let a = RandomSparse.matrix(rows: 3000, columns: 2000, density: 0.05, seed: 5)  // ~300k nnz
        #expect(a.nnz > Parallelism.minimumParallelWork)
        let coo = COOMatrix(a)
        var rng = SplitMix64(seed: 9)
        let x = (0..<2000).map { _ in rng.nextGaussian() }
        let u = (0..<3000).map { _ in rng.nextGaussian() }
        #expect(relativeError(try a.multiply(x), tripletMultiply(coo, x, transpose: false)) < 1e-13)
        #expect(relativeError(try a.transposeMultiply(u), tripletMultiply(coo, u, transpose: true)) < 1e-13)
        let c = CSCMatrix(a)
        #expect(relativeError(try c.multiply(x), tripletMultiply(coo, x, transpose: false)) < 1e-13)
        #expect(relativeError(try c.transposeMultiply(u), tripletMultiply(coo, u, transpose: true)) < 1e-13)
    }

    @Test("Empty shapes: A·x and Aᵀ·x of 4 × 0, 0 × 3 and an all-zero 5 × 6 give zero vectors of the right length")
    func emptyShapes() throws {
        let tall = try CSRMatrix.zeros(rowCount: 4, columnCount: 0), wide = try CSRMatrix.zeros(rowCount: 0, columnCount: 3)
        let zero = try CSRMatrix.zeros(rowCount: 5, columnCount: 6)
        #expect(try tall.multiply([]) == [0, 0, 0, 0])
        #expect(try tall.transposeMultiply([1, 2, 3, 4]) == [])
        #expect(try wide.multiply([1, 2, 3]) == [])
        #expect(try wide.transposeMultiply([]) == [0, 0, 0])
        #expect(try zero.multiply([Double](repeating: 1, count: 6)) == [Double](repeating: 0, count: 5))
        #expect(try zero.transposeMultiply([Double](repeating: 1, count: 5)) == [Double](repeating: 0, count: 6))
        #expect(try CSCMatrix(zero).multiply([Double](repeating: 1, count: 6)) == [Double](repeating: 0, count: 5))
    }

    @Test("Shape mismatches are errors naming both lengths")
    func mismatch() {
        let a = RandomSparse.matrix(rows: 4, columns: 3, density: 0.5, seed: 1)
        do {
            _ = try a.multiply([1, 2])
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("length 3"))
            #expect(error.description.contains("length 2"))
        }
        #expect(throws: SparseError.self) { try a.transposeMultiply([1, 2, 3]) }
        #expect(throws: SparseError.self) { try CSCMatrix(a).multiply([1]) }
    }

    @Test("The C kernels: A·x gives sparseDot's bits line by line, Aᵀ·x the triplet loop's sums, on ranges that do not start at row 0")
    func lineKernels() throws {
        // Row i has i mod 11 entries (0 to 10: empty rows, odd and even lengths), except rows 200 and 399, longer
        // than the kernels' prefetch distance (taken a step of 64 entries at a time).
        var rng = SplitMix64(seed: 12)
        var rows: [Int32] = [], columns: [Int32] = [], values: [Double] = []
        for i in 0..<400 {
            let length = i == 200 || i == 399 ? 1997 : i % 11
            var picked = Set<Int32>()
            while picked.count < length { picked.insert(Int32(rng.next() % 3000)) }
            for j in picked.sorted() { rows.append(Int32(i)); columns.append(j); values.append(rng.nextGaussian()) }
        }
        let a = try CSRMatrix(COOMatrix(rowCount: 400, columnCount: 3000, rows: rows, columns: columns, values: values))
        let x = (0..<3000).map { _ in rng.nextGaussian() }
        #expect(relativeError(a.storage.gather(x), tripletMultiply(COOMatrix(a), x, transpose: false)) < 1e-13)
        #expect(a.storage.gather(x) == (0..<400).map { i in
            a.storage.indices.withUnsafeBufferPointer { idx in a.storage.values.withUnsafeBufferPointer { val in
                x.withUnsafeBufferPointer { sparseDot(a.storage.offsets[i]..<a.storage.offsets[i + 1], idx, val, $0) } } }
        })
        // A range that does not start at row 0 (each worker passes its own), written between two sentinels.
        var out = [Double](repeating: 7e77, count: 400 - 37 + 2)
        // Scattered from rows 37..<400 of a u with zeros (skipped rows) into an accumulator between sentinels.
        let u = (0..<400).map { i in i % 3 == 0 ? 0 : rng.nextGaussian() }
        var acc = [Double](repeating: 0, count: 3000 + 2)
        acc[0] = 7e77; acc[3001] = 7e77
        a.storage.offsets.withUnsafeBufferPointer { off in a.storage.indices.withUnsafeBufferPointer { idx in
            a.storage.values.withUnsafeBufferPointer { val in
                x.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBufferPointer { o in LineGather.lines(37..<400, off, idx, val, xp, into: o.baseAddress! + 1) }
                }
                u.withUnsafeBufferPointer { up in
                    acc.withUnsafeMutableBufferPointer { o in LineGather.scatter(37..<400, off, idx, val, up, into: o.baseAddress! + 1) }
                }
            }
        } }
        #expect(out.first == 7e77 && out.last == 7e77, "the gather wrote outside its rows")
        #expect(Array(out[1...(400 - 37)]) == Array(a.storage.gather(x)[37...]))
        #expect(acc.first == 7e77 && acc.last == 7e77, "the scatter wrote outside the accumulator")
        let tail = (0..<400).map { i in i < 37 ? 0 : u[i] }
        #expect(relativeError(Array(acc[1...3000]), tripletMultiply(COOMatrix(a), tail, transpose: true)) < 1e-13)
        // Ranges that end before the last row: rows 37..<250 (through the long row 200), gathered and scattered.
        var middle = [Double](repeating: 7e77, count: 250 - 37 + 1)
        var partial = [Double](repeating: 0, count: 3000)
        a.storage.offsets.withUnsafeBufferPointer { off in a.storage.indices.withUnsafeBufferPointer { idx in
            a.storage.values.withUnsafeBufferPointer { val in
                x.withUnsafeBufferPointer { xp in
                    middle.withUnsafeMutableBufferPointer { o in LineGather.lines(37..<250, off, idx, val, xp, into: o.baseAddress!) }
                }
                u.withUnsafeBufferPointer { up in
                    partial.withUnsafeMutableBufferPointer { o in LineGather.scatter(37..<250, off, idx, val, up, into: o.baseAddress!) }
                }
            }
        } }
        #expect(Array(middle[0..<(250 - 37)]) == Array(a.storage.gather(x)[37..<250]))
        #expect(middle.last == 7e77, "the gather wrote past its last row")
        let rows37to250 = (0..<400).map { i in (37..<250).contains(i) ? u[i] : 0 }
        #expect(relativeError(partial, tripletMultiply(COOMatrix(a), rows37to250, transpose: true)) < 1e-13)
    }

    @Test("The last-level cache size: sysfs sizes parsed, junk refused, a positive size found")
    func cacheSize() {
        #expect(CacheSize.parseSize("32768K\n") == 32 << 20)
        #expect(CacheSize.parseSize("1M") == 1 << 20)
        #expect(CacheSize.parseSize("512") == 512)
        #expect(CacheSize.parseSize("") == nil)
        #expect(CacheSize.parseSize("K") == nil)
        #expect(CacheSize.parseSize("-4K") == nil)
        #expect(CacheSize.parseSize("lots") == nil)
        #expect(CacheSize.lastLevelBytes > 0)
    }
}
