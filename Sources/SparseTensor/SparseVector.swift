// SparseTensor/SparseVector: a sparse vector (sorted indices) and the sparse/dense BLAS-1 operations.

/// A vector of `length` with nonzeros at strictly increasing `indices`.
public struct SparseVector: Sendable, Equatable {
    public let length: Int
    /// Positions of the stored entries, strictly increasing, in `0..<length`.
    public private(set) var indices: [Int]
    /// Stored values, finite, same count as `indices`.
    public private(set) var values: [Double]

    public var nnz: Int { indices.count }

    /// Validates ordering, range and finiteness.
    public init(length: Int, indices: [Int], values: [Double]) throws(SparseError) {
        guard length >= 0 else { throw .invalidDimension(name: "length", value: length) }
        guard indices.count == values.count else {
            throw .inconsistentLengths(reason: "sparse vector has \(indices.count) indices but \(values.count) values")
        }
        var previous = -1
        for (k, i) in indices.enumerated() {
            guard i >= 0, i < length else {
                throw .indexOutOfRange(entry: k, row: i, column: 0, rowCount: length, columnCount: 1)
            }
            guard i > previous else { throw .unsortedOrDuplicate(outer: "sparse vector", index: i, position: k) }
            guard values[k].isFinite else { throw .nonFiniteValue(entry: k, row: i, column: 0, value: values[k]) }
            previous = i
        }
        self.length = length
        self.indices = indices
        self.values = values
    }

    package init(unchecked length: Int, _ indices: [Int], _ values: [Double]) {
        self.length = length
        self.indices = indices
        self.values = values
    }

    /// The nonzeros of a dense vector (entries with |x| > `tolerance`).
    public init(dense: [Double], tolerance: Double = 0) {
        var idx: [Int] = []
        var val: [Double] = []
        for (i, v) in dense.enumerated() where abs(v) > tolerance {
            idx.append(i)
            val.append(v)
        }
        self.init(unchecked: dense.count, idx, val)
    }

    /// The dense vector (`O(length)`).
    public func dense() -> [Double] {
        var out = [Double](repeating: 0, count: length)
        for (k, i) in indices.enumerated() { out[i] = values[k] }
        return out
    }

    /// xᵀy against a dense vector: O(nnz).
    public func dot(_ y: [Double]) throws(SparseError) -> Double {
        guard y.count == length else {
            throw .dimensionMismatch(operation: "sparse·dense dot", expected: "length \(length)", got: "length \(y.count)")
        }
        var s = 0.0
        for (k, i) in indices.enumerated() { s += values[k] * y[i] }
        return s
    }

    /// xᵀy of two sparse vectors by merging their index lists: O(nnz(x) + nnz(y)).
    public func dot(_ y: SparseVector) throws(SparseError) -> Double {
        guard y.length == length else {
            throw .dimensionMismatch(operation: "sparse·sparse dot", expected: "length \(length)", got: "length \(y.length)")
        }
        var a = 0, b = 0, s = 0.0
        while a < indices.count, b < y.indices.count {
            if indices[a] == y.indices[b] { s += values[a] * y.values[b]; a += 1; b += 1 }
            else if indices[a] < y.indices[b] { a += 1 } else { b += 1 }
        }
        return s
    }

    /// y ← y + α·x into a dense y: O(nnz(x)).
    public func add(scaledBy alpha: Double, into y: inout [Double]) throws(SparseError) {
        guard y.count == length else {
            throw .dimensionMismatch(operation: "sparse axpy", expected: "length \(length)", got: "length \(y.count)")
        }
        for (k, i) in indices.enumerated() { y[i] += alpha * values[k] }
    }

    /// α·x + β·y of two sparse vectors (merge): O(nnz(x) + nnz(y)); exact zeros are kept out.
    public func adding(_ y: SparseVector, alpha: Double = 1, beta: Double = 1) throws(SparseError) -> SparseVector {
        guard y.length == length else {
            throw .dimensionMismatch(operation: "sparse add", expected: "length \(length)", got: "length \(y.length)")
        }
        var idx: [Int] = [], val: [Double] = []
        idx.reserveCapacity(nnz + y.nnz)
        val.reserveCapacity(nnz + y.nnz)
        var a = 0, b = 0
        func push(_ i: Int, _ v: Double) { if v != 0 { idx.append(i); val.append(v) } }
        while a < nnz || b < y.nnz {
            if b >= y.nnz || (a < nnz && indices[a] < y.indices[b]) { push(indices[a], alpha * values[a]); a += 1 }
            else if a >= nnz || y.indices[b] < indices[a] { push(y.indices[b], beta * y.values[b]); b += 1 }
            else { push(indices[a], alpha * values[a] + beta * y.values[b]); a += 1; b += 1 }
        }
        return SparseVector(unchecked: length, idx, val)
    }

    /// α·x.
    public func scaled(by alpha: Double) -> SparseVector {
        SparseVector(unchecked: length, indices, values.map { $0 * alpha })
    }

    /// ‖x‖₂.
    public var norm: Double { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}

/// Dense BLAS-1 helpers used by the solvers.
public enum DenseVector {
    public static func dot(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        var s = 0.0
        x.withUnsafeBufferPointer { a in y.withUnsafeBufferPointer { b in for i in 0..<a.count { s += a[i] * b[i] } } }
        return s
    }

    public static func norm(_ x: [Double]) -> Double {
        // Scaled to avoid overflow on huge entries, as BLAS dnrm2 does.
        var scale = 0.0
        for v in x { scale = max(scale, abs(v)) }
        guard scale > 0, scale.isFinite else { return scale }
        var s = 0.0
        for v in x { let t = v / scale; s += t * t }
        return scale * s.squareRoot()
    }

    /// y ← y + α·x.
    public static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        precondition(x.count == y.count)
        x.withUnsafeBufferPointer { a in y.withUnsafeMutableBufferPointer { b in for i in 0..<a.count { b[i] += alpha * a[i] } } }
    }

    public static func scale(_ alpha: Double, _ x: inout [Double]) {
        x.withUnsafeMutableBufferPointer { b in for i in 0..<b.count { b[i] *= alpha } }
    }
}
