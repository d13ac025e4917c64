// SparseTensor/CSRMatrix: compressed sparse rows, the layout for A·x, row access (SGD) and products.

/// A sparse matrix in compressed sparse row form: canonical (sorted, no duplicates, finite).
///
/// Storage (see `CompressedStorage` for the invariants):
/// - `rowOffsets`: size `rowCount + 1`, row `r` occupies `rowOffsets[r]..<rowOffsets[r+1]`;
/// - `columnIndices`: size nnz, strictly increasing inside each row;
/// - `values`: size nnz.
public struct CSRMatrix: Sendable, Equatable {
    public internal(set) var storage: CompressedStorage

    public var rowCount: Int { storage.outerCount }
    public var columnCount: Int { storage.innerCount }
    public var rowOffsets: [Int] { storage.offsets }
    public var columnIndices: [Int32] { storage.indices }
    public var values: [Double] { storage.values }
    public var nnz: Int { storage.nnz }
    public var shape: (rows: Int, columns: Int) { (rowCount, columnCount) }

    /// Validates the arrays; a violation names the offending entry.
    public init(rowCount: Int, columnCount: Int, rowOffsets: [Int], columnIndices: [Int32], values: [Double]) throws(SparseError) {
        let s = CompressedStorage(unchecked: rowCount, columnCount, rowOffsets, columnIndices, values)
        try s.validate(rowMajor: true)
        storage = s
    }

    package init(storage: CompressedStorage) { self.storage = storage }

    /// The all-zero `rowCount × columnCount` matrix.
    public static func zeros(rowCount: Int, columnCount: Int) throws(SparseError) -> CSRMatrix {
        try Dimension.check(rowCount, "rowCount")
        try Dimension.check(columnCount, "columnCount")
        return CSRMatrix(storage: .zeros(rowCount, columnCount))
    }

    /// Compresses triplets in O(nnz) (counting sort), summing duplicates as scipy does.
    /// Throws when a sum of duplicates overflows to ±Inf.
    public init(_ coo: COOMatrix) throws(SparseError) {
        storage = .compressing(outerCount: coo.rowCount, innerCount: coo.columnCount,
                               outer: coo.rows, inner: coo.columns, values: coo.values)
        try storage.checkFinite(rowMajor: true)
    }

    /// Converts from CSC in one counting-sort pass.
    public init(_ csc: CSCMatrix) { storage = csc.storage.transposed() }

    /// Aᵀ as a CSR matrix (one counting-sort pass).
    public func transposed() -> CSRMatrix { CSRMatrix(storage: storage.transposed()) }

    /// Squared row norms ‖aᵢ‖², the diagonal of A·Aᵀ (SGD and Kaczmarz step sizes).
    public func rowSquaredNorms() -> [Double] { storage.lineSquaredNorms() }

    /// Squared column norms ‖a_j‖², the diagonal of AᵀA (coordinate descent steps, Jacobi scaling).
    public func columnSquaredNorms() -> [Double] { storage.innerSquaredNorms() }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> CSRMatrix { CSRMatrix(storage: storage.lines(range)) }

    /// Entries with |a_ij| ≤ tolerance removed.
    public func dropping(tolerance: Double) -> CSRMatrix { CSRMatrix(storage: storage.dropping(tolerance: tolerance)) }

    /// The dense row-major matrix (tests and tiny problems only; `O(m·n)`).
    public func dense() -> [[Double]] {
        var out = [[Double]](repeating: [Double](repeating: 0, count: columnCount), count: rowCount)
        for r in 0..<rowCount {
            for p in rowOffsets[r]..<rowOffsets[r + 1] { out[r][Int(columnIndices[p])] = values[p] }
        }
        return out
    }
}

/// A sparse matrix in compressed sparse column form: canonical (sorted, no duplicates, finite).
///
/// - `columnOffsets`: size `columnCount + 1`; `rowIndices`: size nnz, strictly increasing in each column; `values`: size nnz.
/// This is CSparse's and CHOLMOD's layout, and the one coordinate descent walks.
public struct CSCMatrix: Sendable, Equatable {
    public internal(set) var storage: CompressedStorage

    public var rowCount: Int { storage.innerCount }
    public var columnCount: Int { storage.outerCount }
    public var columnOffsets: [Int] { storage.offsets }
    public var rowIndices: [Int32] { storage.indices }
    public var values: [Double] { storage.values }
    public var nnz: Int { storage.nnz }

    public init(rowCount: Int, columnCount: Int, columnOffsets: [Int], rowIndices: [Int32], values: [Double]) throws(SparseError) {
        let s = CompressedStorage(unchecked: columnCount, rowCount, columnOffsets, rowIndices, values)
        try s.validate(rowMajor: false)
        storage = s
    }

    package init(storage: CompressedStorage) { self.storage = storage }

    public init(_ coo: COOMatrix) throws(SparseError) {
        storage = .compressing(outerCount: coo.columnCount, innerCount: coo.rowCount,
                               outer: coo.columns, inner: coo.rows, values: coo.values)
        try storage.checkFinite(rowMajor: false)
    }

    public init(_ csr: CSRMatrix) { storage = csr.storage.transposed() }

    public func transposed() -> CSCMatrix { CSCMatrix(storage: storage.transposed()) }

    /// Squared column norms, the diagonal of AᵀA.
    public func columnSquaredNorms() -> [Double] { storage.lineSquaredNorms() }

    /// Squared row norms, the diagonal of A·Aᵀ.
    public func rowSquaredNorms() -> [Double] { storage.innerSquaredNorms() }

    /// Columns `range` as a new matrix.
    public func columns(_ range: Range<Int>) -> CSCMatrix { CSCMatrix(storage: storage.lines(range)) }
}

extension CompressedStorage {
    package func checkFinite(rowMajor: Bool) throws(SparseError) {
        for o in 0..<outerCount {
            for p in offsets[o]..<offsets[o + 1] where !values[p].isFinite {
                let i = Int(indices[p])
                throw .nonFiniteValue(entry: p, row: rowMajor ? o : i, column: rowMajor ? i : o, value: values[p])
            }
        }
    }
}
