// SparseTensor/COOMatrix: triplet (coordinate) storage; duplicates allowed and summed on compression.

/// A sparse matrix as triplets `(rows[k], columns[k], values[k])`, 0-based.
///
/// Duplicates are allowed and are summed when the matrix is compressed to `CSRMatrix` or
/// `CSCMatrix`, as `scipy.sparse.coo_matrix.tocsr()` does. Indices and values are validated on
/// construction: in range, finite.
public struct COOMatrix: Sendable, Equatable {
    public let rowCount: Int
    public let columnCount: Int
    /// Row index of each entry, in `0..<rowCount`; size nnz.
    public private(set) var rows: [Int32]
    /// Column index of each entry, in `0..<columnCount`; size nnz.
    public private(set) var columns: [Int32]
    /// Value of each entry (finite); size nnz.
    public private(set) var values: [Double]

    public var nnz: Int { values.count }

    /// Validates shape, lengths, index ranges and finiteness; the first violation is reported with its entry.
    public init(rowCount: Int, columnCount: Int, rows: [Int32], columns: [Int32], values: [Double]) throws(SparseError) {
        try Dimension.check(rowCount, "rowCount")
        try Dimension.check(columnCount, "columnCount")
        guard rows.count == columns.count, rows.count == values.count else {
            throw .inconsistentLengths(reason: "COO has \(rows.count) rows, \(columns.count) columns and \(values.count) values")
        }
        for k in 0..<values.count {
            let r = Int(rows[k]), c = Int(columns[k])
            guard r >= 0, r < rowCount, c >= 0, c < columnCount else {
                throw .indexOutOfRange(entry: k, row: r, column: c, rowCount: rowCount, columnCount: columnCount)
            }
            guard values[k].isFinite else { throw .nonFiniteValue(entry: k, row: r, column: c, value: values[k]) }
        }
        self.init(unchecked: rowCount, columnCount, rows, columns, values)
    }

    /// Convenience for `Int` indices (checked to fit 32 bits).
    public init(rowCount: Int, columnCount: Int, rows: [Int], columns: [Int], values: [Double]) throws(SparseError) {
        // The dimensions first: an index below a dimension over 2³¹−1 could still overflow Int32.
        try Dimension.check(rowCount, "rowCount")
        try Dimension.check(columnCount, "columnCount")
        guard rows.count == columns.count, rows.count == values.count else {
            throw .inconsistentLengths(reason: "COO has \(rows.count) rows, \(columns.count) columns and \(values.count) values")
        }
        for k in 0..<rows.count where rows[k] < 0 || rows[k] >= rowCount || columns[k] < 0 || columns[k] >= columnCount {
            throw .indexOutOfRange(entry: k, row: rows[k], column: columns[k], rowCount: rowCount, columnCount: columnCount)
        }
        try self.init(rowCount: rowCount, columnCount: columnCount,
                      rows: rows.map { Int32($0) }, columns: columns.map { Int32($0) }, values: values)
    }

    package init(unchecked rowCount: Int, _ columnCount: Int, _ rows: [Int32], _ columns: [Int32], _ values: [Double]) {
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// The triplets of a compressed matrix (no duplicates).
    public init(_ csr: CSRMatrix) {
        var rows = [Int32](repeating: 0, count: csr.nnz)
        for r in 0..<csr.rowCount {
            for p in csr.rowOffsets[r]..<csr.rowOffsets[r + 1] { rows[p] = Int32(r) }
        }
        self.init(unchecked: csr.rowCount, csr.columnCount, rows, csr.columnIndices, csr.values)
    }

    public var transposed: COOMatrix { COOMatrix(unchecked: columnCount, rowCount, columns, rows, values) }
}

extension CompressedStorage {
    /// Compresses triplets along `outer` with sorted, duplicate-free lines, summing duplicates.
    ///
    /// Two stable counting sorts (first by inner index, then by outer index) leave every line sorted,
    /// so the whole conversion is O(nnz + outerCount + innerCount) with no comparison sort.
    package static func compressing(outerCount: Int, innerCount: Int,
                                    outer: [Int32], inner: [Int32], values: [Double]) -> CompressedStorage {
        let nnz = values.count
        // Pass 1: bucket by inner index.
        var innerStart = [Int](repeating: 0, count: innerCount + 1)
        for k in 0..<nnz { innerStart[Int(inner[k]) + 1] += 1 }
        for i in 0..<innerCount { innerStart[i + 1] += innerStart[i] }
        var byInner = [Int](repeating: 0, count: nnz)  // permutation: entries ordered by inner index
        do {
            var next = innerStart
            for k in 0..<nnz {
                let i = Int(inner[k])
                byInner[next[i]] = k
                next[i] += 1
            }
        }
        // Pass 2: stable bucket by outer index, visiting entries in inner order.
        var outerStart = [Int](repeating: 0, count: outerCount + 1)
        for k in 0..<nnz { outerStart[Int(outer[k]) + 1] += 1 }
        for o in 0..<outerCount { outerStart[o + 1] += outerStart[o] }
        var sortedInner = [Int32](repeating: 0, count: nnz)
        var sortedValues = [Double](repeating: 0, count: nnz)
        do {
            var next = outerStart
            for k in byInner {
                let o = Int(outer[k])
                sortedInner[next[o]] = inner[k]
                sortedValues[next[o]] = values[k]
                next[o] += 1
            }
        }
        byInner = []
        // Pass 3: sum duplicates in place (they are adjacent now).
        var offsets = [Int](repeating: 0, count: outerCount + 1)
        var write = 0
        for o in 0..<outerCount {
            let lineStart = write
            for p in outerStart[o]..<outerStart[o + 1] {
                if write > lineStart, sortedInner[write - 1] == sortedInner[p] {
                    sortedValues[write - 1] += sortedValues[p]
                } else {
                    sortedInner[write] = sortedInner[p]
                    sortedValues[write] = sortedValues[p]
                    write += 1
                }
            }
            offsets[o + 1] = write
        }
        if write < nnz {
            sortedInner.removeLast(nnz - write)
            sortedValues.removeLast(nnz - write)
        }
        return CompressedStorage(unchecked: outerCount, innerCount, offsets, sortedInner, sortedValues)
    }
}
