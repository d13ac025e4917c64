// Tests of COO/CSR/CSC construction, validation and conversions against dense references.
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Core types")
struct CoreTypesTests {
    @Test("COO → CSR sums duplicates and sorts, like scipy's tocsr")
    func cooToCSRSumsDuplicates() throws {
        let coo = try COOMatrix(rowCount: 3, columnCount: 4, rows: [2, 0, 2, 0, 1, 2], columns: [3, 1, 0, 1, 2, 3],
                                values: [1, 2, 3, 4, 5, 6])
        let a = try CSRMatrix(coo)
        #expect(a.rowOffsets == [0, 1, 2, 4])
        #expect(a.columnIndices == [1, 2, 0, 3])
        #expect(a.values == [6, 5, 3, 7])
        let c = try CSCMatrix(coo)
        #expect(CSRMatrix(c) == a)
    }

    @Test("Conversions and transpose agree with the dense matrix", arguments: [1 as UInt64, 2, 3])
    func conversions(seed: UInt64) throws {
        let (a, dense) = randomSmall(rows: 37, columns: 23, density: 0.15, seed: seed)
        let csc = CSCMatrix(a)
        #expect(CSRMatrix(csc) == a)
        let t = a.transposed()
        #expect(t.dense() == DenseReference.transpose(dense, columns: 23))
        #expect(t.transposed() == a)
        let coo = COOMatrix(a)
        #expect(try CSRMatrix(coo) == a)
        #expect(try CSRMatrix(coo.transposed) == t)
        // Norms are the diagonals of A·Aᵀ and AᵀA.
        let rowNorms = dense.map { $0.reduce(0) { $0 + $1 * $1 } }
        let colNorms = (0..<23).map { j in dense.reduce(0) { $0 + $1[j] * $1[j] } }
        #expect(relativeError(a.rowSquaredNorms(), rowNorms) < 1e-14)
        #expect(relativeError(a.columnSquaredNorms(), colNorms) < 1e-14)
        #expect(relativeError(csc.columnSquaredNorms(), colNorms) < 1e-14)
        #expect(relativeError(csc.rowSquaredNorms(), rowNorms) < 1e-14)
        // Row slicing.
        #expect(a.rows(5..<19).dense() == Array(dense[5..<19]))
        #expect(a.rows(0..<0).nnz == 0)
    }

    @Test("Edge shapes: 0×0, 0×n, m×0 and empty rows")
    func edgeShapes() throws {
        for (m, n) in [(0, 0), (0, 5), (4, 0), (3, 3)] {
            let z = try CSRMatrix.zeros(rowCount: m, columnCount: n)
            #expect(z.nnz == 0)
            #expect(try z.multiply([Double](repeating: 1, count: n)) == [Double](repeating: 0, count: m))
            #expect(try z.transposeMultiply([Double](repeating: 1, count: m)) == [Double](repeating: 0, count: n))
            #expect(z.transposed().rowCount == n)
            #expect(CSCMatrix(z).columnCount == n)
        }
    }

    @Test("Validation names the offending entry")
    func validation() {
        #expect(throws: SparseError.indexOutOfRange(entry: 1, row: 0, column: 3, rowCount: 2, columnCount: 3)) {
            try CSRMatrix(rowCount: 2, columnCount: 3, rowOffsets: [0, 2, 2], columnIndices: [0, 3], values: [1, 1])
        }
        #expect(throws: SparseError.unsortedOrDuplicate(outer: "row 0", index: 0, position: 1)) {
            try CSRMatrix(rowCount: 2, columnCount: 3, rowOffsets: [0, 2, 2], columnIndices: [1, 0], values: [1, 1])
        }
        #expect(throws: SparseError.unsortedOrDuplicate(outer: "column 0", index: 1, position: 1)) {
            try CSCMatrix(rowCount: 2, columnCount: 1, columnOffsets: [0, 2], rowIndices: [1, 1], values: [1, 1])
        }
        #expect(throws: SparseError.nonFiniteValue(entry: 0, row: 1, column: 2, value: .infinity)) {
            try CSRMatrix(rowCount: 2, columnCount: 3, rowOffsets: [0, 0, 1], columnIndices: [2], values: [.infinity])
        }
        #expect(throws: SparseError.self) {
            try CSRMatrix(rowCount: 2, columnCount: 3, rowOffsets: [0, 2, 1], columnIndices: [0], values: [1])
        }
        #expect(throws: SparseError.self) {
            try CSRMatrix(rowCount: 2, columnCount: 3, rowOffsets: [0, 1], columnIndices: [0], values: [1])
        }
        #expect(throws: SparseError.invalidDimension(name: "rowCount", value: -1)) {
            try COOMatrix(rowCount: -1, columnCount: 3, rows: [Int32](), columns: [], values: [])
        }
        #expect(throws: SparseError.invalidDimension(name: "columnCount", value: Int(Int32.max) + 1)) {
            try CSRMatrix.zeros(rowCount: 1, columnCount: Int(Int32.max) + 1)
        }
        // Int indices that fit the claimed dimension but not 32 bits: the dimension is refused, no trap.
        #expect(throws: SparseError.invalidDimension(name: "rowCount", value: 3_000_000_000)) {
            try COOMatrix(rowCount: 3_000_000_000, columnCount: 1, rows: [2_500_000_000], columns: [0], values: [1] as [Double])
        }
        #expect(throws: SparseError.indexOutOfRange(entry: 0, row: -1, column: 0, rowCount: 2, columnCount: 2)) {
            try COOMatrix(rowCount: 2, columnCount: 2, rows: [-1], columns: [0], values: [1] as [Double])
        }
        #expect(throws: SparseError.nonFiniteValue(entry: 0, row: 0, column: 0, value: .nan).description.isEmpty == false ? SparseError.self : SparseError.self) {
            try COOMatrix(rowCount: 2, columnCount: 2, rows: [0], columns: [0], values: [.nan] as [Double])
        }
        #expect(throws: SparseError.inconsistentLengths(reason: "COO has 1 rows, 1 columns and 2 values")) {
            try COOMatrix(rowCount: 2, columnCount: 2, rows: [0] as [Int32], columns: [0], values: [1, 2])
        }
        // Duplicates whose sum overflows are reported, not silently stored as Inf.
        #expect(throws: SparseError.self) {
            try CSRMatrix(COOMatrix(rowCount: 1, columnCount: 1, rows: [0, 0] as [Int32], columns: [0, 0], values: [1e308, 1e308]))
        }
    }

    @Test("Offsets are 64-bit so nnz > 2³¹ is representable")
    func offsetsAre64Bit() {
        #expect(MemoryLayout<Int>.size == 8)
        let s = CompressedStorage(unchecked: 1, 1, [0, 0], [], [])
        #expect(type(of: s.offsets).Element.max > Int(Int32.max) * 4)
    }
}

@Suite("Sparse and dense vectors")
struct VectorTests {
    @Test("Sparse vector operations match dense ones")
    func sparseVectorOps() throws {
        let x = RandomSparse.vector(length: 200, density: 0.1, seed: 7)
        let y = RandomSparse.vector(length: 200, density: 0.2, seed: 8)
        let xd = x.dense(), yd = y.dense()
        #expect(abs(try x.dot(y) - DenseVector.dot(xd, yd)) < 1e-12)
        #expect(abs(try x.dot(yd) - DenseVector.dot(xd, yd)) < 1e-12)
        let sum = try x.adding(y, alpha: 2, beta: -3)
        #expect(relativeError(sum.dense(), zip(xd, yd).map { 2 * $0 - 3 * $1 }) < 1e-15)
        var z = yd
        try x.add(scaledBy: 0.5, into: &z)
        #expect(relativeError(z, zip(xd, yd).map { 0.5 * $0 + $1 }) < 1e-15)
        #expect(SparseVector(dense: xd) == x)
        #expect(abs(x.norm - DenseVector.norm(xd)) < 1e-12)
        #expect(throws: SparseError.self) { try x.dot([1, 2, 3]) }
        #expect(throws: SparseError.self) { try SparseVector(length: 3, indices: [2, 1], values: [1, 1]) }
        #expect(throws: SparseError.self) { try SparseVector(length: 3, indices: [3], values: [1]) }
        #expect(throws: SparseError.self) { try SparseVector(length: 3, indices: [0], values: [.nan]) }
    }

    @Test("Norm does not overflow on huge entries")
    func normScaling() {
        #expect(abs(DenseVector.norm([3e300, 4e300]) - 5e300) / 5e300 < 1e-15)
    }
}
