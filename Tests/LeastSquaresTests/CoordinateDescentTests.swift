// LeastSquaresTests/CoordinateDescentTests: CD against dense references, KKT conditions, the duality gap and the working set.
import Foundation
import Synchronization
import Testing
@testable import LeastSquares
import SparseTensor
import _TestSupport

// MARK: - Independent dense references (no sparse code, no coordinate descent)

/// Dense references shared by the CD and SGD tests (namespaced: other suites share this test target).
enum IterativeReference {
    /// Dense elastic net by proximal gradient (ISTA), run to a fixed point:
    /// x ← S(x + t·(Aᵀ(y − Ax) − λ₂x), t·λ₁) with t = 1/L, L = ‖A‖_F² + λ₂ ≥ ‖AᵀA + λ₂I‖₂.
    static func denseElasticNetISTA(_ a: [[Double]], _ y: [Double], l1: Double, l2: Double, weights: [Double]? = nil,
                              maxIterations: Int = 2_000_000) -> [Double] {
        let m = a.count, n = a.first?.count ?? 0
        let w = weights ?? [Double](repeating: 1, count: m)
        var lipschitz = l2
        for i in 0..<m { for j in 0..<n { lipschitz += w[i] * a[i][j] * a[i][j] } }
        let t = 1 / max(lipschitz, 1e-300)
        var x = [Double](repeating: 0, count: n)
        for _ in 0..<maxIterations {
            var r = y
            for i in 0..<m { for j in 0..<n { r[i] -= a[i][j] * x[j] } }
            var change = 0.0, size = 0.0
            for j in 0..<n {
                var g = -l2 * x[j]
                for i in 0..<m { g += w[i] * a[i][j] * r[i] }
                let z = x[j] + t * g
                let next = z > t * l1 ? z - t * l1 : (z < -t * l1 ? z + t * l1 : 0)
                change = max(change, abs(next - x[j]))
                size = max(size, abs(next))
                x[j] = next
            }
            if change <= 1e-16 * max(size, 1) { break }
        }
        return x
    }

    /// f(x) = ½Σwᵢrᵢ² + λ₁‖x‖₁ + ½λ₂‖x‖², r, and ĝ = AᵀWr − λ₂x, all dense.
    static func denseObjective(_ a: [[Double]], _ y: [Double], _ x: [Double], l1: Double, l2: Double, weights: [Double]? = nil)
        -> (f: Double, r: [Double], g: [Double]) {
        let m = a.count, n = x.count
        let w = weights ?? [Double](repeating: 1, count: m)
        var r = y
        for i in 0..<m { for j in 0..<n { r[i] -= a[i][j] * x[j] } }
        var f = 0.0
        for i in 0..<m { f += 0.5 * w[i] * r[i] * r[i] }
        for v in x { f += l1 * abs(v) + 0.5 * l2 * v * v }
        var g = [Double](repeating: 0, count: n)
        for j in 0..<n {
            g[j] = -l2 * x[j]
            for i in 0..<m { g[j] += w[i] * a[i][j] * r[i] }
        }
        return (f, r, g)
    }

    /// The lasso / elastic-net duality gap computed directly as P(x) − D(θ) in the augmented form:
    /// θ̂ = s·[√W r; −√λ₂ x], s = min(1, λ₁/‖ĝ‖∞), D(θ̂) = ŷᵀθ̂ − ½‖θ̂‖².
    static func denseGap(_ a: [[Double]], _ y: [Double], _ x: [Double], l1: Double, l2: Double, weights: [Double]? = nil) -> Double {
        let w = weights ?? [Double](repeating: 1, count: y.count)
        let (f, r, g) = IterativeReference.denseObjective(a, y, x, l1: l1, l2: l2, weights: weights)
        let dualNorm = g.map(abs).max() ?? 0
        let s = dualNorm > l1 ? l1 / dualNorm : 1
        var yTheta = 0.0, thetaSq = 0.0
        for i in 0..<y.count {
            let ti = s * w[i].squareRoot() * r[i]
            yTheta += w[i].squareRoot() * y[i] * ti
            thetaSq += ti * ti
        }
        for v in x { thetaSq += s * s * l2 * v * v }
        return f - (yTheta - 0.5 * thetaSq)
    }

    /// Largest KKT violation: |ĝ_j| − λ₁ for x_j = 0, |ĝ_j − λ₁·sign(x_j)| otherwise.
    static func kktViolation(_ a: [[Double]], _ y: [Double], _ x: [Double], l1: Double, l2: Double, weights: [Double]? = nil) -> Double {
        let g = IterativeReference.denseObjective(a, y, x, l1: l1, l2: l2, weights: weights).g
        var worst = 0.0
        for j in 0..<x.count {
            worst = max(worst, x[j] == 0 ? abs(g[j]) - l1 : abs(g[j] - l1 * (x[j] > 0 ? 1 : -1)))
        }
        return worst
    }

    /// A seeded right-hand side y = A·x_true + noise, with x_true having `support` nonzeros.
    static func plantedProblem(rows m: Int, columns n: Int, density: Double, support: Int, noise: Double, seed: UInt64)
        -> (CSRMatrix, [[Double]], [Double], [Double]) {
        let (a, dense) = randomSmall(rows: m, columns: n, density: density, seed: seed)
        var rng = SplitMix64(seed: seed &+ 1)
        var xTrue = [Double](repeating: 0, count: n)
        var placed = 0
        while placed < support {
            let j = Int(rng.next() % UInt64(n))
            if xTrue[j] == 0 { xTrue[j] = (rng.nextUnit() < 0.5 ? -1 : 1) * (1 + rng.nextUnit()); placed += 1 }
        }
        var y = DenseReference.multiply(dense, xTrue)
        for i in 0..<m { y[i] += noise * rng.nextGaussian() }
        return (a, dense, y, xTrue)
    }

    static func cdOptions(tolerance: Double = 1e-14, order: CoordinateOrder = .cyclic, epochs: Int? = nil, seed: UInt64 = 0) -> SolverOptions {
        var o = SolverOptions()
        o.solver = .cd
        o.tolerance = tolerance
        o.coordinateOrder = order
        o.epochs = epochs
        o.seed = seed
        return o
    }
}

@Suite("CoordinateDescent")
struct CoordinateDescentTests {
    @Test("lasso and elastic net match dense ISTA, satisfy KKT, and report the true duality gap",
          arguments: [(0.0, UInt64(1)), (0.0, 2), (0.5, 3), (2.0, 4)])
    func lassoMatchesDenseReference(l2: Double, seed: UInt64) throws {
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 40, columns: 12, density: 0.4, support: 4, noise: 0.1, seed: seed)
        let lambdaMax = IterativeReference.denseObjective(dense, y, [Double](repeating: 0, count: 12), l1: 0, l2: 0).g.map(abs).max()!
        let l1 = 0.1 * lambdaMax
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1, l2: l2))
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none)
        let reference = IterativeReference.denseElasticNetISTA(dense, y, l1: l1, l2: l2)
        let err = relativeError(solution.x, reference)
        #expect(err < 1e-7, "seed \(seed) λ₁ \(l1) λ₂ \(l2): relative error \(err) vs ISTA (tolerance 1e-7)\n x \(solution.x)\n ref \(reference)")
        let kkt = IterativeReference.kktViolation(dense, y, solution.x, l1: l1, l2: l2)
        #expect(kkt < 1e-6 * max(1, l1), "KKT violation \(kkt)")
        #expect(solution.report.stopReason == .dualityGap)
        let f = IterativeReference.denseObjective(dense, y, solution.x, l1: l1, l2: l2).f
        let gap = try #require(solution.report.dualityGap)
        let independent = IterativeReference.denseGap(dense, y, solution.x, l1: l1, l2: l2)
        #expect(abs(gap - independent) <= 1e-11 * f, "reported gap \(gap) vs independent \(independent) (f = \(f))")
        #expect(gap <= 1e-14 * f + 1e-12 * f, "gap \(gap) above tolerance·f = \(1e-14 * f)")
        #expect(abs(solution.report.objective - f) <= 1e-12 * f)
        #expect(abs(solution.report.residualNorm - DenseVector.norm(IterativeReference.denseObjective(dense, y, solution.x, l1: 0, l2: 0).r)) <= 1e-10 * f)
        #expect(solution.report.nnzX == solution.x.filter { $0 != 0 }.count)
        #expect(solution.report.solver == .cd)
    }

    @Test("the reported gap at a loose tolerance is still the true gap of the returned x")
    func looseToleranceGapIsTrue() throws {
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 60, columns: 30, density: 0.3, support: 5, noise: 0.5, seed: 11)
        let l1 = 2.0, l2 = 0.3
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1, l2: l2))
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-3), control: .none)
        let f = IterativeReference.denseObjective(dense, y, solution.x, l1: l1, l2: l2).f
        let gap = try #require(solution.report.dualityGap)
        let independent = IterativeReference.denseGap(dense, y, solution.x, l1: l1, l2: l2)
        #expect(abs(gap - independent) <= 1e-11 * f, "reported \(gap) vs independent \(independent)")
        #expect(gap <= 1e-3 * f)
        // The gap bounds the suboptimality.
        let best = IterativeReference.denseElasticNetISTA(dense, y, l1: l1, l2: l2)
        let fStar = IterativeReference.denseObjective(dense, y, best, l1: l1, l2: l2).f
        #expect(f - fStar <= gap * (1 + 1e-9) + 1e-12 * f, "f − f* = \(f - fStar) exceeds the gap \(gap)")
    }

    @Test("sample weights: matches the dense weighted reference and the weighted gap")
    func weightedElasticNet() throws {
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 30, columns: 10, density: 0.5, support: 3, noise: 0.2, seed: 21)
        var rng = SplitMix64(seed: 99)
        var w = (0..<30).map { _ in 0.2 + 2 * rng.nextUnit() }
        w[3] = 0  // a row that counts for nothing
        let l1 = 0.5, l2 = 0.1
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1, l2: l2), sampleWeights: w)
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none)
        let reference = IterativeReference.denseElasticNetISTA(dense, y, l1: l1, l2: l2, weights: w)
        #expect(relativeError(solution.x, reference) < 1e-7, "x \(solution.x) ref \(reference)")
        #expect(IterativeReference.kktViolation(dense, y, solution.x, l1: l1, l2: l2, weights: w) < 1e-6)
        let f = IterativeReference.denseObjective(dense, y, solution.x, l1: l1, l2: l2, weights: w).f
        #expect(abs(solution.report.objective - f) <= 1e-12 * f)
        let gap = try #require(solution.report.dualityGap)
        #expect(abs(gap - IterativeReference.denseGap(dense, y, solution.x, l1: l1, l2: l2, weights: w)) <= 1e-11 * f)
        // residualNorm is the unweighted ‖y − A·x‖.
        let r = IterativeReference.denseObjective(dense, y, solution.x, l1: 0, l2: 0).r
        #expect(abs(solution.report.residualNorm - DenseVector.norm(r)) <= 1e-9 * DenseVector.norm(r))
    }

    @Test("passes split over row ranges: 1, 2, 3 and 7 parts give the dense reference (weighted lasso and ridge)")
    func rowRangeParts() throws {
        // Big enough for several outer iterations; parts are forced (a real split starts at 100k nonzeros).
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 90, columns: 60, density: 0.2, support: 6, noise: 0.3, seed: 31)
        var rng = SplitMix64(seed: 32)
        let w = (0..<90).map { _ in 0.3 + rng.nextUnit() }
        for reg in [Regularization(l1: 1.5, l2: 0.2), Regularization(l2: 5)] {
            let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: reg, sampleWeights: w)
            let reference = IterativeReference.denseElasticNetISTA(dense, y, l1: reg.l1, l2: reg.l2, weights: w)
            for parts in [1, 2, 3, 7] {
                var statistics = CDStatistics()
                let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none,
                                                           statistics: &statistics, parts: parts)
                #expect(relativeError(solution.x, reference) < 1e-7, "\(parts) parts, \(reg): x \(solution.x) ref \(reference)")
                #expect(IterativeReference.kktViolation(dense, y, solution.x, l1: reg.l1, l2: reg.l2, weights: w) < 1e-6)
                if reg.l1 > 0 {
                    let f = IterativeReference.denseObjective(dense, y, solution.x, l1: reg.l1, l2: reg.l2, weights: w).f
                    let gap = try #require(solution.report.dualityGap)
                    #expect(abs(gap - IterativeReference.denseGap(dense, y, solution.x, l1: reg.l1, l2: reg.l2, weights: w)) <= 1e-11 * f)
                    #expect(statistics.outerIterations >= 2, "\(statistics.diagnostics(columns: 60))")
                }
            }
        }
    }

    @Test("working-set selection: the first count items carry the smallest keys, each key still beside its item")
    func selection() {
        var rng = SplitMix64(seed: 5)
        for (total, count) in [(1, 1), (2, 1), (10, 3), (257, 40), (1000, 999), (1000, 1)] {
            // Keys with ties and negatives; items name their original slot, so pairing can be checked.
            var keys = (0..<total).map { _ in Double(Int(rng.next() % 21)) - 10 }
            let original = keys
            var items = (0..<total).map { Int32($0) }
            let lo = total > 2 ? 1 : 0
            keys.withUnsafeMutableBufferPointer { k in
                items.withUnsafeMutableBufferPointer { it in
                    CDKernel.selectSmallest(k, it, from: lo, to: total, count: min(count, total - lo))
                }
            }
            let chosen = min(count, total - lo)
            #expect((0..<total).allSatisfy { keys[$0] == original[Int(items[$0])] }, "a key left its item")
            #expect(Set(items) == Set((0..<total).map { Int32($0) }))
            #expect(items[0..<lo].elementsEqual((0..<lo).map { Int32($0) }), "entries before lo moved")
            let sorted = original[lo...].sorted()
            #expect(keys[lo..<(lo + chosen)].sorted() == Array(sorted[0..<chosen]), "\(total), \(count)")
        }
    }

    @Test("sumOfSquares equals the plain sum on every length mod 4, empty included")
    func sumOfSquaresMatches() {
        var rng = SplitMix64(seed: 6)
        for length in 0..<10 {
            let v = (0..<length).map { _ in rng.nextGaussian() }
            let plain = v.reduce(0) { $0 + $1 * $1 }
            let fast = v.withUnsafeBufferPointer { sumOfSquares($0) }
            #expect(abs(fast - plain) <= 1e-15 * max(plain, 1), "length \(length)")
        }
    }

    @Test("more parts than columns (a many-core host, a tall matrix of few columns): lasso and ridge still solve")
    func morePartsThanColumns() throws {
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 40, columns: 5, density: 0.8, support: 3, noise: 0.1, seed: 81)
        for reg in [Regularization(l1: 0.5, l2: 0.1), Regularization(l2: 2)] {
            let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: reg)
            let reference = IterativeReference.denseElasticNetISTA(dense, y, l1: reg.l1, l2: reg.l2)
            for parts in [4, 7] {
                var statistics = CDStatistics()
                let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none,
                                                           statistics: &statistics, parts: parts)
                #expect(relativeError(solution.x, reference) < 1e-7, "\(parts) parts, \(reg)")
            }
        }
    }

    @Test("the first pass's ‖ã_j‖² and ã_jᵀỹ, split by rows or by sum, on 1, 2 and 3 parts, match a triplet loop")
    func firstPassSums() throws {
        let (m, n) = (300, 80)
        let a = RandomSparse.matrix(rows: m, columns: n, density: 0.1, seed: 91)
        let triplets = COOMatrix(a)
        var rng = SplitMix64(seed: 92)
        let y = (0..<m).map { _ in rng.nextGaussian() }
        let w = (0..<m).map { _ in 0.2 + rng.nextUnit() }
        for weights in [[Double]?.none, w] {
            let rootWeights = weights?.map { $0.squareRoot() } ?? []
            let weightedY = weights.map { ws in zip(y, ws).map { $0 * $1.squareRoot() } } ?? y
            // ‖ã_j‖² = Σᵢ wᵢa_ij², ã_jᵀỹ = Σᵢ √wᵢ·a_ij·ỹᵢ, entry by entry.
            var expectedSq = [Double](repeating: 0, count: n), expectedDot = expectedSq
            for (t, v) in triplets.values.enumerated() {
                let i = Int(triplets.rows[t]), j = Int(triplets.columns[t])
                expectedSq[j] += (weights?[i] ?? 1) * v * v
                expectedDot[j] += (rootWeights.isEmpty ? 1 : rootWeights[i]) * v * weightedY[i]
            }
            for parts in [1, 2, 3] {
                for splitByRows in parts == 1 ? [true] : [true, false] {
                  // Twice: the second pass gets recycled, unzeroed memory for its buffers.
                  for _ in 0..<2 {
                    var sq = [Double](repeating: 1e300, count: n), dot = sq  // an entry left unwritten fails
                    a.storage.offsets.withUnsafeBufferPointer { off in
                        a.storage.indices.withUnsafeBufferPointer { idx in
                            a.storage.values.withUnsafeBufferPointer { val in
                                rootWeights.withUnsafeBufferPointer { rw in
                                    weightedY.withUnsafeBufferPointer { yp in
                                        sq.withUnsafeMutableBufferPointer { sp in
                                            dot.withUnsafeMutableBufferPointer { dp in
                                                let rows = CDRows(m: m, n: n, off: off, idx: idx, val: val, rootWeights: rw)
                                                let pool = CDColumnPool(rows, parts: parts, sparseScatters: false, budget: .unlimited, fixedBytes: 0)
                                                pool.prepare(rows, y: yp, squaredNorms: sp, dotY: dp, splitByRows: splitByRows)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    let label = "\(parts) parts, split by \(splitByRows ? "rows" : "sum"), weighted: \(weights != nil)"
                    #expect(relativeError(sq, expectedSq) < 1e-13, "\(label): ‖ã_j‖²")
                    #expect(relativeError(dot, expectedDot) < 1e-13, "\(label): ã_jᵀỹ")
                  }
                }
            }
        }
    }

    @Test("few new columns per copy (listed entries): 1, 2, 3 and 7 parts give the same x, which satisfies KKT")
    func listedCopies() throws {
        // 2000 columns, working sets of a few hundred: copies take the listed path (under 1/8 of the columns).
        let n = 2000
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 150, columns: n, density: 0.03, support: 12, noise: 0.05, seed: 71)
        var rng = SplitMix64(seed: 72)
        let w = (0..<150).map { _ in 0.5 + rng.nextUnit() }
        let l1 = 0.3 * (try a.transposeMultiply(zip(y, w).map { $0 * $1 })).map(abs).max()!
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1, l2: 0.05), sampleWeights: w)
        var first: [Double]?
        for parts in [1, 2, 3, 7] {
            var statistics = CDStatistics()
            let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-12), control: .none,
                                                       statistics: &statistics, parts: parts)
            #expect(statistics.copiedColumns.allSatisfy { 8 * $0 < n }, "copies \(statistics.copiedColumns)")
            #expect(statistics.copyPasses >= 1)
            let kkt = IterativeReference.kktViolation(dense, y, solution.x, l1: l1, l2: 0.05, weights: w)
            #expect(kkt < 1e-6 * l1, "\(parts) parts: KKT violation \(kkt), λ₁ = \(l1)")
            if let first { #expect(relativeError(solution.x, first) < 1e-7, "\(parts) parts differ from 1 part") } else { first = solution.x }
        }
    }

    @Test("pool compaction: dropped columns leave the pool, kept ones keep their entries, in order, and new copies fit behind them")
    func poolCompaction() throws {
        let (m, n) = (400, 60)
        let a = RandomSparse.matrix(rows: m, columns: n, density: 0.1, seed: 93)
        let csc = CSCMatrix(a)
        func column(_ j: Int) -> [(Int32, Double)] {
            let range = csc.storage.offsets[j]..<csc.storage.offsets[j + 1]
            return range.map { (csc.storage.indices[$0], csc.storage.values[$0]) }
        }
        for parts in [1, 2] {
            try a.storage.offsets.withUnsafeBufferPointer { off in
                try a.storage.indices.withUnsafeBufferPointer { idx in
                    try a.storage.values.withUnsafeBufferPointer { val in
                        let rows = CDRows(m: m, n: n, off: off, idx: idx, val: val, rootWeights: UnsafeBufferPointer(start: nil, count: 0))
                        let pool = CDColumnPool(rows, parts: parts, sparseScatters: true, budget: .unlimited, fixedBytes: 0)
                        try pool.copy([3, 7, 11, 20, 41], from: rows)
                        try pool.copy([5, 8, 59], from: rows)
                        let before = pool.used
                        let dropped: Set<Int> = [3, 11, 8, 59]
                        #expect(pool.compact { dropped.contains($0) } == dropped.count)
                        #expect(pool.used == before - dropped.reduce(0) { $0 + column($1).count })
                        #expect(pool.rows.count == pool.used)
                        try pool.copy([3, 30], from: rows)
                        for j in [7, 20, 41, 5, 3, 30] {
                            #expect(pool.holds(j))
                            let range = Int(pool.start.pointer[j])..<(Int(pool.start.pointer[j]) + Int(pool.count.pointer[j]))
                            let got = range.map { (pool.rows.pointer[$0], pool.values.pointer[$0]) }
                            #expect(got.map(\.0) == column(j).map(\.0) && got.map(\.1) == column(j).map(\.1), "\(parts) parts, column \(j)")
                        }
                        for j in [11, 8, 59] { #expect(!pool.holds(j)) }
                    }
                }
            }
        }
    }

    @Test("λ = 0 and ridge match DenseReference.ridge on full-rank problems", arguments: [0.0, 0.01, 1.0, 25.0])
    func ridgeMatchesDenseReference(l2: Double) throws {
        let (a, dense) = randomSmall(rows: 50, columns: 15, density: 0.5, seed: 7)
        var rng = SplitMix64(seed: 8)
        let y = (0..<50).map { _ in rng.nextGaussian() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: l2))
        for order in CoordinateOrder.allCases {
            let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(order: order, seed: 5), control: .none)
            let reference = DenseReference.ridge(dense, y, lambda: l2)
            let err = relativeError(solution.x, reference)
            #expect(err < 1e-6, "λ₂ = \(l2), \(order): relative error \(err)")
            let g = IterativeReference.denseObjective(dense, y, solution.x, l1: 0, l2: l2).g
            #expect(abs(solution.report.optimalityNorm - DenseVector.norm(g)) <= 1e-9 * max(1, DenseVector.norm(g)) + 1e-12)
            if l2 == 0 {
                #expect(solution.report.stopReason == .optimalityTolerance)
                #expect(solution.report.dualityGap == nil)
            } else {
                #expect(solution.report.stopReason == .dualityGap)
                // Ridge gap of θ = r: ‖Aᵀr − λ₂x‖²/(2λ₂).
                let gap = try #require(solution.report.dualityGap)
                let expected = g.reduce(0) { $0 + $1 * $1 } / (2 * l2)
                #expect(abs(gap - expected) <= 1e-6 * expected + 1e-20, "ridge gap \(gap) vs \(expected)")
            }
        }
    }

    @Test("a consistent system converges to ‖r‖ ≈ tolerance·‖y‖ (the floor), not forever")
    func consistentSystem() throws {
        let (a, dense) = randomSmall(rows: 40, columns: 10, density: 0.6, seed: 31)
        var rng = SplitMix64(seed: 32)
        let xTrue = (0..<10).map { _ in rng.nextGaussian() }
        let y = DenseReference.multiply(dense, xTrue)
        let problem = try LeastSquaresProblem(matrix: a, rhs: y)
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-10), control: .none)
        #expect(solution.report.stopReason == .optimalityTolerance)
        #expect(relativeError(solution.x, xTrue) < 1e-6)
    }

    /// The working-set tests' problem: 40000 × 20000, the benchmark's shape (40 nonzeros a column, x_true 2 % dense), y, Aᵀy.
    static func violatorProblem() throws -> (CSRMatrix, [Double], [Double]) {
        let generated = try SyntheticProblem.generate(rows: 40000, columns: 20000, density: 0.001, solutionDensity: 0.02, noise: 0.01, seed: 43)
        return (generated.matrix, generated.rhs, try generated.matrix.transposeMultiply(generated.rhs))
    }

    @Test("every working set holds every KKT violator up to its cap (n/32): from x = 0 all columns with |ã_jᵀỹ| > λ₁, from a warm start its violators too")
    func workingSetTakesViolators() throws {
        let (a, y, aty) = try Self.violatorProblem()
        let n = a.columnCount
        let l1 = 0.1 * aty.map(abs).max()!
        // A warm start on the 50 columns most correlated with y, at tiny values: the support is there, and
        // the violators (more than the smallest working set) must all fit beside it.
        var warm = [Double](repeating: 0, count: n)
        for j in (0..<n).sorted(by: { abs(aty[$0]) > abs(aty[$1]) }).prefix(50) { warm[j] = 1e-3 * (aty[j] > 0 ? 1 : -1) }
        for x0 in [nil, warm] {
            let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1), initialGuess: x0)
            let start = x0 ?? [Double](repeating: 0, count: n)
            let g = try a.transposeMultiply(problem.residual(start))
            let violators = Set((0..<n).filter { start[$0] == 0 && abs(g[$0]) > l1 })
            try #require(violators.count > 2 * CoordinateDescent.minimumWorkingSet && violators.count <= n / 32)
            var statistics = CDStatistics()
            let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-10), control: .none, statistics: &statistics)
            let label = "warm start: \(x0 != nil), \(violators.count) violators, working sets \(statistics.workingSetSizes)"
            #expect(solution.report.stopReason == .dualityGap, "\(label)")
            let first = Set(statistics.firstWorkingSet.map(Int.init))
            #expect(violators.isSubset(of: first), "\(label): \(violators.subtracting(first).count) left out")
            #expect(!statistics.violatorsLeftOut.isEmpty && statistics.violatorsLeftOut.allSatisfy { $0 == 0 },
                    "\(label): left out \(statistics.violatorsLeftOut)")
            let gx = try a.transposeMultiply(problem.residual(solution.x))
            #expect(gx.map(abs).max()! <= l1 * (1 + 1e-6), "\(label)")
        }
    }

    @Test("at small λ₁ the first working set takes the n/32 most violated columns (normalized distance), not all violators")
    func workingSetCapsViolators() throws {
        let (a, y, aty) = try Self.violatorProblem()
        let n = a.columnCount
        let l1 = 0.01 * aty.map(abs).max()!
        let colSq = a.columnSquaredNorms()
        // Celer's distance of r = y to each violated constraint, independently: (λ₁ − |a_jᵀy|)/‖a_j‖ < 0.
        let violators = (0..<n).filter { abs(aty[$0]) > l1 }
        try #require(violators.count > n / 16)
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1))
        var statistics = CDStatistics()
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-8), control: .none, statistics: &statistics)
        #expect(solution.report.stopReason == .dualityGap)
        let first = Set(statistics.firstWorkingSet.map(Int.init))
        #expect(first.count == n / 32, "working sets \(statistics.workingSetSizes)")
        #expect(first.isSubset(of: Set(violators)))
        func distance(_ j: Int) -> Double { (l1 - abs(aty[j])) / colSq[j].squareRoot() }
        let inside = first.map(distance).max()!, outside = violators.filter { !first.contains($0) }.map(distance).min()!
        #expect(inside <= outside * (1 - 1e-9), "the least violated taken \(inside), the most violated left \(outside)")
        let gx = try a.transposeMultiply(problem.residual(solution.x))
        #expect(gx.map(abs).max()! <= l1 * (1 + 1e-5))
    }

    @Test("a saturated first working set grows by its runner-ups, copied in the same scan; KKT holds")
    func saturatedWorkingSetGrows() throws {
        // The benchmark's shape, scaled down: x_true 2 % dense, λ₁ = 0.1·λmax, where nearly every violator at
        // x = 0 ends up in the support, and the support reaches past them.
        let generated = try SyntheticProblem.generate(rows: 60000, columns: 30000, density: 0.04 / 30, solutionDensity: 0.02,
                                                      noise: 0.01, seed: 7)
        let a = generated.matrix, y = generated.rhs
        let aty = try a.transposeMultiply(y)
        let l1 = 0.1 * aty.map(abs).max()!
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1))
        var statistics = CDStatistics()
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-8), control: .none, statistics: &statistics)
        #expect(solution.report.stopReason == .dualityGap)
        let label = "\(solution.report.diagnostics), grown by \(statistics.extendedWorkingSets)"
        #expect(statistics.extendedWorkingSets.first ?? 0 > 0, "\(label)")
        // Without runner-ups the same solve takes more outer iterations (each a gradient pass) and scans.
        var plain = CDStatistics()
        _ = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-8), control: .none, statistics: &plain, runnerUps: false)
        #expect(statistics.outerIterations <= plain.outerIterations && statistics.copyPasses <= plain.copyPasses,
                "\(label); without runner-ups: \(plain.diagnostics(columns: a.columnCount))")
        #expect(statistics.violatorsLeftOut.allSatisfy { $0 == 0 }, "\(label)")
        // KKT: |ã_jᵀr| ≤ λ₁ everywhere, = λ₁·sign(x_j) on the support.
        let g = try a.transposeMultiply(problem.residual(solution.x))
        #expect(g.map(abs).max()! <= l1 * (1 + 1e-5), "\(label)")
        for j in 0..<a.columnCount where solution.x[j] != 0 {
            #expect(abs(g[j] - l1 * (solution.x[j] > 0 ? 1 : -1)) <= 1e-4 * l1, "column \(j)")
        }
    }

    @Test("runner-ups yield to the memory budget: every budget solves to KKT or refuses with the budget error, some solving by dropping them")
    func runnerUpsYieldToBudget() throws {
        // The benchmark's shape scaled down (runner-ups taken in), and a planted problem whose first working set does
        // not saturate (runner-ups left in the pool unused when round 2 needs a scan of its own).
        let generated = try SyntheticProblem.generate(rows: 20000, columns: 10000, density: 0.002, solutionDensity: 0.02,
                                                      noise: 0.01, seed: 7)
        let (planted, _, plantedY, _) = IterativeReference.plantedProblem(rows: 1500, columns: 3000, density: 0.01, support: 60,
                                                                          noise: 0.01, seed: 43)
        let cases = [(generated.matrix, generated.rhs, stride(from: 1_000_000, through: 4_000_000, by: 40_000)),
                     (planted, plantedY, stride(from: 250_000, through: 1_000_000, by: 10_000))]
        var dropped = 0, solved = 0
        for (a, y, budgets) in cases {
            let l1 = 0.1 * (try a.transposeMultiply(y)).map(abs).max()!
            let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1))
            var options = IterativeReference.cdOptions(tolerance: 1e-8)
            for budget in budgets {
                options.memoryBudgetBytes = budget
                var with = CDStatistics()
                do {
                    let solution = try CoordinateDescent.solve(problem, options: options, control: .none, statistics: &with)
                    solved += 1
                    let g = try a.transposeMultiply(problem.residual(solution.x))
                    #expect(g.map(abs).max()! <= l1 * (1 + 1e-5), "\(a.columnCount) columns, budget \(budget)")
                    if with.droppedRunnerUps > 0 { dropped += 1 }
                } catch let error as SolverError {
                    guard case .sparse(.exceedsMemoryBudget) = error else { Issue.record("budget \(budget): \(error)"); continue }
                }
            }
        }
        #expect(dropped > 0 && solved > dropped, "\(dropped) budgets dropped runner-ups, \(solved) solved")
    }

    @Test("screening and working sets: a 98%-sparse solution touches few columns")
    func workingSetSkipsColumns() throws {
        let n = 2000
        let (a, _, y, xTrue) = IterativeReference.plantedProblem(rows: 400, columns: n, density: 0.02, support: 30, noise: 0.01, seed: 41)
        let aty = try a.transposeMultiply(y)
        let l1 = 0.2 * aty.map(abs).max()!
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1))
        var statistics = CDStatistics()
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-10), control: .none, statistics: &statistics)
        #expect(solution.report.stopReason == .dualityGap)
        #expect(solution.report.nnzX <= n / 50, "nnz(x) = \(solution.report.nnzX), x_true has \(xTrue.filter { $0 != 0 }.count)")
        #expect(statistics.everInWorkingSet <= n / 5,
                "\(statistics.everInWorkingSet) of \(n) columns were ever updated; working sets \(statistics.workingSetSizes)")
        // The gap-safe rule removed columns for good (safely: the KKT check below covers them too). It fires
        // at the outer iterations before the last; subproblems solved tightly leave only a few of those.
        #expect(statistics.screenedColumns > 0, "no column screened: \(solution.report.diagnostics)")
        // Only working-set columns were copied out of A, and few scans of A were needed.
        #expect(statistics.fullPasses + statistics.copyPasses <= 2 * statistics.outerIterations)
        // Most visits went to a small set: far fewer than epochs × n.
        #expect(statistics.coordinateVisits < solution.report.iterations * n / 5)
        #expect(solution.report.diagnostics.first?.contains("screened") == true)
        // The certificate still holds for the whole problem (screened columns included).
        let g = try a.transposeMultiply(problem.residual(solution.x))
        #expect(g.map(abs).max()! <= l1 * (1 + 1e-6))
    }

    @Test("real matrices: ash219 least squares matches the dense reference; illc1850 lasso satisfies KKT")
    func sharedFixtures() throws {
        // ash219: 219 × 85, full column rank, cond ≈ 3 (pattern file, values 1).
        let ash = try ExactSolverFixtureReader.read("ash219.mtx")
        #expect(ash.rowCount == 219 && ash.columnCount == 85 && ash.nnz == 438)
        var rng = SplitMix64(seed: 219)
        let y = (0..<219).map { _ in rng.nextGaussian() }
        let ls = try CoordinateDescent.solve(try LeastSquaresProblem(matrix: ash, rhs: y), options: IterativeReference.cdOptions(tolerance: 1e-12),
                                             control: .none)
        #expect(ls.report.stopReason == .optimalityTolerance)
        #expect(relativeError(ls.x, DenseReference.ridge(ash.dense(), y)) < 1e-5)
        // illc1850: 1850 × 712, cond ≈ 1.4e3; lasso at 20% of λ_max (about 580 epochs: CD's slow tail on an
        // ill-conditioned problem), KKT checked with the library's products.
        let illc = try ExactSolverFixtureReader.read("illc1850.mtx")
        var rng2 = SplitMix64(seed: 1850)
        let b = (0..<1850).map { _ in rng2.nextGaussian() }
        let l1 = 0.2 * (try illc.transposeMultiply(b)).map(abs).max()!
        let problem = try LeastSquaresProblem(matrix: illc, rhs: b, regularization: Regularization(l1: l1))
        let lasso = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-8), control: .none)
        #expect(lasso.report.stopReason == .dualityGap)
        let g = try illc.transposeMultiply(problem.residual(lasso.x))
        var worst = 0.0
        for j in 0..<712 { worst = max(worst, lasso.x[j] == 0 ? abs(g[j]) - l1 : abs(g[j] - l1 * (lasso.x[j] > 0 ? 1 : -1))) }
        #expect(worst < 1e-4 * l1, "KKT violation \(worst) (λ₁ = \(l1)), nnz(x) = \(lasso.report.nnzX), epochs \(lasso.report.iterations)")
    }

    @Test("same seed gives the identical x; random and cyclic orders agree to tolerance")
    func seededRandomOrder() throws {
        let (a, _, y, _) = IterativeReference.plantedProblem(rows: 80, columns: 300, density: 0.05, support: 10, noise: 0.1, seed: 51)
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 1.0, l2: 0.1))
        let first = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-6, order: .random, seed: 9), control: .none)
        let second = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-6, order: .random, seed: 9), control: .none)
        #expect(first.x == second.x)
        let cyclic = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-13), control: .none)
        let random = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-13, order: .random, seed: 10), control: .none)
        #expect(relativeError(random.x, cyclic.x) < 1e-5)
    }

    @Test("x* = 0 when λ₁ ≥ ‖Aᵀy‖∞ (zero solution, gap 0)")
    func zeroSolution() throws {
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 20, columns: 8, density: 0.5, support: 2, noise: 0.1, seed: 61)
        let lambdaMax = IterativeReference.denseObjective(dense, y, [Double](repeating: 0, count: 8), l1: 0, l2: 0).g.map(abs).max()!
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: lambdaMax, l2: 1),
                                              initialGuess: [Double](repeating: 1, count: 8))
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none)
        #expect(solution.x == [Double](repeating: 0, count: 8))
        #expect(solution.report.stopReason == .zeroSolution)
        #expect(solution.report.dualityGap == 0)
        // Just below λ_max the solution is not zero.
        let below = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 0.99 * lambdaMax))
        #expect(try CoordinateDescent.solve(below, options: IterativeReference.cdOptions(), control: .none).report.nnzX > 0)
    }

    @Test("warm start from the solution stops at once")
    func warmStart() throws {
        let (a, _, y, _) = IterativeReference.plantedProblem(rows: 40, columns: 20, density: 0.3, support: 4, noise: 0.1, seed: 71)
        let reg = Regularization(l1: 0.5, l2: 0.1)
        let cold = try CoordinateDescent.solve(try LeastSquaresProblem(matrix: a, rhs: y, regularization: reg), options: IterativeReference.cdOptions(tolerance: 1e-10), control: .none)
        let warm = try CoordinateDescent.solve(try LeastSquaresProblem(matrix: a, rhs: y, regularization: reg, initialGuess: cold.x),
                                               options: IterativeReference.cdOptions(tolerance: 1e-10), control: .none)
        #expect(warm.report.iterations == 0)
        #expect(warm.x == cold.x)
    }

    @Test("cancellation from the progress callback stops at the next check with the current x")
    func cancellationFromProgress() throws {
        let (a, _) = randomSmall(rows: 300, columns: 200, density: 0.05, seed: 81)
        var rng = SplitMix64(seed: 82)
        let y = (0..<300).map { _ in rng.nextGaussian() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y)
        let flag = CancellationFlag()
        let calls = CDCallCounter()
        let control = SolveControl(progress: { _ in calls.increment(); flag.cancel() }, cancellation: flag)
        let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 0), control: control)
        #expect(solution.report.stopReason == .cancelled)
        #expect(solution.report.iterations == 1)
        #expect(calls.value == 1)
        #expect(solution.report.objective < problem.objective([Double](repeating: 0, count: 200)))
        #expect(abs(solution.report.objective - problem.objective(solution.x)) <= 1e-10 * solution.report.objective)
    }

    @Test("epoch and time limits stop with the right reason")
    func limits() throws {
        let (a, _) = randomSmall(rows: 100, columns: 80, density: 0.1, seed: 91)
        var rng = SplitMix64(seed: 92)
        let y = (0..<100).map { _ in rng.nextGaussian() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 0.01))
        let limited = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 0, epochs: 3), control: .none)
        #expect(limited.report.stopReason == .iterationLimit)
        #expect(limited.report.iterations == 3)
        #expect(limited.report.dualityGap != nil)
        let timed = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 0), control: SolveControl(timeLimit: 0))
        #expect(timed.report.stopReason == .timeLimit)
        #expect(timed.report.iterations == 0)
        let preCancelled = CancellationFlag()
        preCancelled.cancel()
        let cancelled = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: SolveControl(cancellation: preCancelled))
        #expect(cancelled.report.stopReason == .cancelled)
        #expect(!cancelled.report.stopReason.converged)
    }

    @Test("progress reports epochs with a decreasing objective")
    func progressReports() throws {
        let (a, _) = randomSmall(rows: 200, columns: 100, density: 0.05, seed: 93)
        var rng = SplitMix64(seed: 94)
        let y = (0..<200).map { _ in rng.nextGaussian() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: 0.1))
        let samples = CDProgressLog()
        _ = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: SolveControl(progress: { samples.append($0) }))
        let log = samples.values
        #expect(!log.isEmpty)
        #expect(log.first?.iteration == 1)
        for (p, q) in zip(log, log.dropFirst()) { #expect(q.objective <= p.objective * (1 + 1e-12)) }
    }

    @Test("bad options name the option", arguments: ["tolerance", "tolerance-nan", "epochs", "memoryBudgetBytes"])
    func invalidOptions(option: String) throws {
        let (a, _) = randomSmall(rows: 5, columns: 3, density: 0.8, seed: 1)
        let problem = try LeastSquaresProblem(matrix: a, rhs: [1, 2, 3, 4, 5])
        var options = IterativeReference.cdOptions()
        switch option {
        case "tolerance": options.tolerance = -1
        case "tolerance-nan": options.tolerance = .nan
        case "epochs": options.epochs = 0
        default: options.memoryBudgetBytes = -5
        }
        let name = option.replacingOccurrences(of: "-nan", with: "")
        #expect {
            _ = try CoordinateDescent.solve(problem, options: options, control: .none)
        } throws: { error in
            guard case let .invalidOption(message) = error as? SolverError else { return false }
            return message.contains(name)
        }
    }

    @Test("a memory budget too small for the CSC copy is refused before allocating")
    func memoryBudget() throws {
        let (a, _) = randomSmall(rows: 50, columns: 40, density: 0.2, seed: 2)
        let problem = try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 1, count: 50))
        var options = IterativeReference.cdOptions()
        options.memoryBudgetBytes = 1000
        #expect {
            _ = try CoordinateDescent.solve(problem, options: options, control: .none)
        } throws: { error in
            guard case .sparse(.exceedsMemoryBudget) = error as? SolverError else { return false }
            return true
        }
    }

    @Test("a dense column in a working set: its copy lists are counted against the budget as the scan finds them")
    func denseColumnBudget() throws {
        // 40 000 × 4 000, two entries a row, plus an intercept column of ones that y follows.
        let m = 40_000, n = 4_000
        let sparse = COOMatrix(RandomSparse.matrix(rows: m, columns: n - 1, density: 0.0005, seed: 21))
        let rows = sparse.rows.map(Int.init) + Array(0..<m), cols = sparse.columns.map { Int($0) + 1 } + [Int](repeating: 0, count: m)
        let a = try CSRMatrix(try COOMatrix(rowCount: m, columnCount: n, rows: rows, columns: cols,
                                            values: sparse.values + [Double](repeating: 1, count: m)))
        var y = [Double](repeating: 3, count: m)
        for i in stride(from: 0, to: m, by: 7) { y[i] += 1 }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 100))
        var options = IterativeReference.cdOptions()
        let reference = try CoordinateDescent.solve(problem, options: options, control: .none)
        #expect(reference.x[0] > 2.9)
        var stoppedInScan = 0
        for budget in stride(from: 600_000, through: 3_000_000, by: 40_000) {
            options.memoryBudgetBytes = budget
            let outcome = Result { () throws(SolverError) in try CoordinateDescent.solve(problem, options: options, control: .none) }
            switch outcome {
            case let .success(s):
                #expect(s.x == reference.x, "budget \(budget)")
            case let .failure(error):
                guard case let .sparse(.exceedsMemoryBudget(what, bytes, limit, _)) = error else {
                    Issue.record("budget \(budget): \(error)")
                    continue
                }
                #expect(bytes > Double(limit), "budget \(budget)")
                if what.contains("at least") { stoppedInScan += 1 }
            }
        }
        #expect(stoppedInScan > 0)
    }

    @Test("edge shapes: empty matrices, empty rows and columns")
    func edgeShapes() throws {
        for (m, n) in [(0, 0), (0, 4), (4, 0)] {
            let a = try CSRMatrix.zeros(rowCount: m, columnCount: n)
            let problem = try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 1, count: m), regularization: Regularization(l1: 0.1))
            let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none)
            #expect(solution.x.count == n)
            #expect(solution.report.stopReason == .zeroSolution)
            #expect(abs(solution.report.objective - 0.5 * Double(m)) < 1e-15)
        }
        // Column 1 and row 2 empty; x0 nonzero on the empty column is reset to 0.
        let a = try CSRMatrix(rowCount: 4, columnCount: 3, rowOffsets: [0, 2, 3, 3, 5],
                              columnIndices: [0, 2, 0, 0, 2], values: [1, 2, 3, -1, 1])
        let dense = a.dense()
        let y = [1.0, 2, 3, 4]
        for reg in [Regularization(), Regularization(l2: 0.5), Regularization(l1: 0.3, l2: 0.5)] {
            let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: reg, initialGuess: [0, 7, 0])
            let solution = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none)
            #expect(solution.x[1] == 0)
            let reference = IterativeReference.denseElasticNetISTA(dense, y, l1: reg.l1, l2: reg.l2)
            #expect(relativeError(solution.x, reference) < 1e-7, "\(reg): \(solution.x) vs \(reference)")
        }
    }

    @Test("the dispatcher runs CD when asked")
    func throughDispatcher() throws {
        let (a, dense, y, _) = IterativeReference.plantedProblem(rows: 30, columns: 10, density: 0.5, support: 3, noise: 0.1, seed: 101)
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 0.3))
        let solution = try LeastSquaresSolver.solve(problem, options: IterativeReference.cdOptions())
        #expect(solution.report.solver == .cd)
        #expect(relativeError(solution.x, IterativeReference.denseElasticNetISTA(dense, y, l1: 0.3, l2: 0)) < 1e-7)
    }
}

/// A thread-safe counter for callbacks.
final class CDCallCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A thread-safe log of progress samples.
final class CDProgressLog: Sendable {
    private let samples = Mutex<[SolverProgress]>([])
    func append(_ p: SolverProgress) { samples.withLock { $0.append(p) } }
    var values: [SolverProgress] { samples.withLock { $0 } }
}
