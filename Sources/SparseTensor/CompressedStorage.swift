// SparseTensor/CompressedStorage: the arrays shared by CSR and CSC (CSparse's `cs` in compressed form).

/// Compressed sparse storage: `outerCount` compressed lines (rows of a CSR, columns of a CSC)
/// over an `innerCount`-long index space.
///
/// Invariants (checked by `validate`, as `cs.h` documents for `p`, `i`, `x`):
/// - `offsets.count == outerCount + 1`, `offsets[0] == 0`, nondecreasing, `offsets[outerCount] == nnz`;
/// - `indices.count == values.count == nnz`; inside a line, indices strictly increase in `0..<innerCount`;
/// - every value is finite.
/// Offsets are 64-bit (`Int`) so that `nnz > 2³¹` is representable; indices are 32-bit, since each
/// dimension is at most 2³¹−1, which keeps SpMV's memory traffic at 12 bytes per nonzero.
public struct CompressedStorage: Sendable, Equatable {
    public var outerCount: Int
    public var innerCount: Int
    /// Line starts, size `outerCount + 1`.
    public var offsets: [Int]
    /// Inner indices, size nnz, strictly increasing inside each line.
    public var indices: [Int32]
    /// Values, size nnz.
    public var values: [Double]

    @inlinable public var nnz: Int { offsets[outerCount] }

    package init(unchecked outerCount: Int, _ innerCount: Int, _ offsets: [Int], _ indices: [Int32], _ values: [Double]) {
        self.outerCount = outerCount
        self.innerCount = innerCount
        self.offsets = offsets
        self.indices = indices
        self.values = values
    }

    /// An all-zero storage of the given shape.
    package static func zeros(_ outerCount: Int, _ innerCount: Int) -> CompressedStorage {
        CompressedStorage(unchecked: outerCount, innerCount, [Int](repeating: 0, count: outerCount + 1), [], [])
    }

    /// Checks every invariant; `outerName` ("row"/"column") and `rowMajor` make errors name rows and columns correctly.
    package func validate(rowMajor: Bool) throws(SparseError) {
        try Dimension.check(outerCount, rowMajor ? "rowCount" : "columnCount")
        try Dimension.check(innerCount, rowMajor ? "columnCount" : "rowCount")
        let outerName = rowMajor ? "row" : "column"
        guard offsets.count == outerCount + 1 else {
            throw .invalidOffsets(reason: "expected \(outerCount + 1) offsets (one per \(outerName) plus one), got \(offsets.count)")
        }
        guard offsets[0] == 0 else { throw .invalidOffsets(reason: "offsets[0] must be 0, got \(offsets[0])") }
        guard indices.count == values.count else {
            throw .inconsistentLengths(reason: "\(indices.count) indices but \(values.count) values")
        }
        guard offsets[outerCount] == indices.count else {
            throw .invalidOffsets(reason: "offsets[\(outerCount)] = \(offsets[outerCount]) must equal nnz = \(indices.count)")
        }
        let m = rowMajor ? outerCount : innerCount, n = rowMajor ? innerCount : outerCount
        for o in 0..<outerCount {
            let start = offsets[o], end = offsets[o + 1]
            guard start <= end, end <= indices.count else {
                throw .invalidOffsets(reason: "offsets must be nondecreasing and at most nnz = \(indices.count); at \(outerName) \(o) they go from \(start) to \(end)")
            }
            var previous = -1
            for p in start..<end {
                let i = Int(indices[p])
                let (row, column) = rowMajor ? (o, i) : (i, o)
                guard i >= 0, i < innerCount else {
                    throw .indexOutOfRange(entry: p, row: row, column: column, rowCount: m, columnCount: n)
                }
                guard i > previous else { throw .unsortedOrDuplicate(outer: "\(outerName) \(o)", index: i, position: p) }
                guard values[p].isFinite else { throw .nonFiniteValue(entry: p, row: row, column: column, value: values[p]) }
                previous = i
            }
        }
    }

    /// The same matrix compressed the other way (CSR ↔ CSC): one counting-sort pass, O(nnz + inner).
    /// Lines come out sorted because the source lines are visited in order.
    public func transposed() -> CompressedStorage {
        let nnz = self.nnz
        var counts = [Int](repeating: 0, count: innerCount + 1)
        for p in 0..<nnz { counts[Int(indices[p]) + 1] += 1 }
        for i in 0..<innerCount { counts[i + 1] += counts[i] }
        let newOffsets = counts
        var next = counts
        var newIndices = [Int32](repeating: 0, count: nnz)
        var newValues = [Double](repeating: 0, count: nnz)
        indices.withUnsafeBufferPointer { idx in
            values.withUnsafeBufferPointer { val in
                newIndices.withUnsafeMutableBufferPointer { ni in
                    newValues.withUnsafeMutableBufferPointer { nv in
                        for o in 0..<outerCount {
                            for p in offsets[o]..<offsets[o + 1] {
                                let i = Int(idx[p])
                                let q = next[i]
                                next[i] = q + 1
                                ni[q] = Int32(truncatingIfNeeded: o)
                                nv[q] = val[p]
                            }
                        }
                    }
                }
            }
        }
        return CompressedStorage(unchecked: innerCount, outerCount, newOffsets, newIndices, newValues)
    }

    /// Squared 2-norm of each line: Σⱼ a_oj². For CSR this is diag(A·Aᵀ), for CSC diag(AᵀA).
    public func lineSquaredNorms() -> [Double] {
        var out = [Double](repeating: 0, count: outerCount)
        values.withUnsafeBufferPointer { v in
            for o in 0..<outerCount {
                var s = 0.0
                for p in offsets[o]..<offsets[o + 1] { s += v[p] * v[p] }
                out[o] = s
            }
        }
        return out
    }

    /// Squared 2-norm of each inner index across all lines (diag of the other Gram matrix).
    public func innerSquaredNorms() -> [Double] {
        var out = [Double](repeating: 0, count: innerCount)
        for p in 0..<nnz { out[Int(indices[p])] += values[p] * values[p] }
        return out
    }

    /// Lines `range` as a new storage (offsets rebased to 0).
    public func lines(_ range: Range<Int>) -> CompressedStorage {
        let start = offsets[range.lowerBound], end = offsets[range.upperBound]
        let newOffsets = offsets[range.lowerBound...range.upperBound].map { $0 - start }
        return CompressedStorage(unchecked: range.count, innerCount, newOffsets,
                                 Array(indices[start..<end]), Array(values[start..<end]))
    }

    /// Number of stored entries in each inner index.
    public func innerCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: innerCount)
        for p in 0..<nnz { counts[Int(indices[p])] += 1 }
        return counts
    }

    /// Entries with |value| <= tolerance removed (tolerance 0 drops explicit zeros).
    public func dropping(tolerance: Double) -> CompressedStorage {
        var newOffsets = [Int](repeating: 0, count: outerCount + 1)
        var newIndices: [Int32] = []
        var newValues: [Double] = []
        newIndices.reserveCapacity(nnz)
        newValues.reserveCapacity(nnz)
        for o in 0..<outerCount {
            for p in offsets[o]..<offsets[o + 1] where abs(values[p]) > tolerance {
                newIndices.append(indices[p])
                newValues.append(values[p])
            }
            newOffsets[o + 1] = newIndices.count
        }
        return CompressedStorage(unchecked: outerCount, innerCount, newOffsets, newIndices, newValues)
    }
}

/// Dimension limits: each of rows and columns is at most 2³¹−1 so indices fit 32 bits.
package enum Dimension {
    package static func check(_ value: Int, _ name: String) throws(SparseError) {
        guard value >= 0, value <= Int(Int32.max) else { throw .invalidDimension(name: name, value: value) }
    }
}
