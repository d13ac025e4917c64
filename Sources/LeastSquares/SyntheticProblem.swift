// LeastSquares/SyntheticProblem: seed-shaped synthetic problems y = A·x_true + σ·noise for demos, tests and benchmarks.
import SparseTensor

/// A generated problem with a known sparse solution.
///
/// ```
/// A ∈ ℝ^{m×n}: about density·m·n standard-normal entries at uniform positions
/// x_true: about solutionDensity·n standard-normal nonzeros
/// y = A·x_true + σ·ε,  ε ~ N(0, I)
/// ```
public struct SyntheticProblem: Sendable {
    public var matrix: CSRMatrix
    public var rhs: [Double]
    public var solution: SparseVector

    /// Deterministic for a given seed (A, x_true and the noise draw from separate streams of SplitMix64).
    public static func generate(rows m: Int, columns n: Int, density: Double, solutionDensity: Double,
                                noise sigma: Double, seed: UInt64) throws(SolverError) -> SyntheticProblem {
        guard m >= 0, n >= 0, m <= Int(Int32.max), n <= Int(Int32.max) else {
            throw .invalidOption("rows and columns must be in 0...\(Int32.max), got \(m) × \(n)")
        }
        guard density >= 0, density <= 1 else { throw .invalidOption("density must be in [0, 1], got \(density)") }
        guard solutionDensity >= 0, solutionDensity <= 1 else {
            throw .invalidOption("solution density must be in [0, 1], got \(solutionDensity)")
        }
        guard sigma >= 0, sigma.isFinite else { throw .invalidOption("noise must be a finite number ≥ 0, got \(sigma)") }
        let nnz = density * Double(m) * Double(n)
        do {
            try MemoryBudget.default.check(StorageBytes.compressed(outer: m, nnz: nnz) + 8 * Double(m + n),
                                           for: "Generating a \(m) × \(n) matrix at density \(density)")
        } catch { throw .sparse(error) }
        let a = RandomSparse.matrix(rows: m, columns: n, density: density, seed: seed)
        let x = RandomSparse.vector(length: n, density: solutionDensity, seed: seed &+ 0x9E37_79B9)
        var y = (try? a.multiply(x)) ?? [Double](repeating: 0, count: m)
        if sigma > 0 {
            var rng = SplitMix64(seed: seed &+ 0x7F4A_7C15)
            for i in 0..<m { y[i] += sigma * rng.nextGaussian() }
        }
        return SyntheticProblem(matrix: a, rhs: y, solution: x)
    }
}
