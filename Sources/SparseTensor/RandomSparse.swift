// SparseTensor/RandomSparse: seeded generators for synthetic sparse matrices (tests, `lsq generate`, benchmarks).
import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator; same seed → same stream everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u = max(nextUnit(), 1e-300), v = nextUnit()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}

public enum RandomSparse {
    /// An m × n matrix with about `density·m·n` nonzeros at uniform positions, values standard normal.
    ///
    /// Each row draws its count from a binomial approximated by rounding `density·n` with a random
    /// remainder, then distinct columns by rejection; O(nnz) time, no O(m·n) pass.
    public static func matrix(rows m: Int, columns n: Int, density: Double, seed: UInt64) -> CSRMatrix {
        var rng = SplitMix64(seed: seed)
        let perRow = density * Double(n)
        var offsets = [Int](repeating: 0, count: m + 1)
        var indices: [Int32] = []
        var values: [Double] = []
        indices.reserveCapacity(Int(perRow * Double(m) * 1.05) + 16)
        values.reserveCapacity(indices.capacity)
        var seen = Set<Int32>()
        for r in 0..<m {
            var count = Int(perRow)
            if rng.nextUnit() < perRow - Double(count) { count += 1 }
            count = min(count, n)
            var row: [Int32] = []
            if count * 2 > n {
                // Dense-ish row: Bernoulli per column.
                for c in 0..<n where rng.nextUnit() < Double(count) / Double(n) { row.append(Int32(c)) }
            } else {
                seen.removeAll(keepingCapacity: true)
                while seen.count < count { seen.insert(Int32(rng.next() % UInt64(n))) }
                row = seen.sorted()
            }
            for c in row {
                indices.append(c)
                values.append(rng.nextGaussian())
            }
            offsets[r + 1] = indices.count
        }
        return CSRMatrix(storage: CompressedStorage(unchecked: m, n, offsets, indices, values))
    }

    /// A sparse vector of `length` with about `density·length` standard-normal nonzeros.
    public static func vector(length: Int, density: Double, seed: UInt64) -> SparseVector {
        var rng = SplitMix64(seed: seed)
        var idx: [Int] = [], val: [Double] = []
        for i in 0..<length where rng.nextUnit() < density {
            idx.append(i)
            var v = rng.nextGaussian()
            if v == 0 { v = 1 }
            val.append(v)
        }
        return SparseVector(unchecked: length, idx, val)
    }
}
