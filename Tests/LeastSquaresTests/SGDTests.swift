// LeastSquaresTests/SGDTests: SGD against exact optima, against a naive dense SGD (same seed), divergence, seeds, limits and options.
import Foundation
import Testing
@testable import LeastSquares
import SparseTensor
import _TestSupport

/// A naive dense SGD: the same steps as `StochasticGradientDescent`, with the regulariser, the
/// average and the L1 penalty applied eagerly, O(n) per step. Same seed → same row order. AdaGrad keeps
/// ρ_j = √(G_j/δ) and the share 1/c_j as the solver documents them (`AdaGradSlot`): `Float`s, ρ stochastically
/// rounded with one xorshift step per SGD step from the solve's seed, offset by k·φ for the step's k-th coordinate
/// in the order the step first touches them.
enum NaiveSGD {
    static func run(_ a: [[Double]], _ y: [Double], weights: [Double]? = nil, l1: Double, l2: Double,
                    schedule: LearningRateSchedule, eta0: Double, rootDelta: Double, batch: Int, epochs: Int,
                    seed: UInt64, averaging: Bool) -> [Double] {
        let m = a.count, n = a.first?.count ?? 0
        let w = weights ?? [Double](repeating: 1, count: m)
        var counts = [Int](repeating: 0, count: n)
        for i in 0..<m { for j in 0..<n where a[i][j] != 0 { counts[j] += 1 } }
        var x = [Double](repeating: 0, count: n)
        var order = (0..<m).map { $0 }
        var rng = SplitMix64(seed: seed)
        var slots = [Double](repeating: AdaGradSlot.make(rho: 1, share: 0), count: n)
        var rounding = StochasticGradientDescent.roundingSeed(seed)
        var q = [Double](repeating: 0, count: n)
        var u = 0.0
        var sum = [Double](repeating: 0, count: n)
        var steps = 0
        var averagingOn = false
        var seen = 0
        let burnIn = epochs > 1 ? 1 : 0
        for epoch in 1...epochs {
            if averaging && epoch == burnIn + 1 { sum = [Double](repeating: 0, count: n); steps = 0; averagingOn = true }
            var i = m
            while i > 1 {
                let pick = Int(rng.next() % UInt64(i))
                i -= 1
                order.swapAt(i, pick)
            }
            var first = 0
            while first < m {
                let rows = Array(order[first..<min(first + batch, m)])
                let b = Double(rows.count)
                let res = rows.map { r in w[r] * (y[r] - zip(a[r], x).reduce(0) { $0 + $1.0 * $1.1 }) }
                var touched = [Bool](repeating: false, count: n)
                var firstTouched: [Int] = []
                var gradient = [Double](repeating: 0, count: n)
                var share = [Double](repeating: 0, count: n)
                for (k, r) in rows.enumerated() {
                    for j in 0..<n where a[r][j] != 0 {
                        if !touched[j] { firstTouched.append(j) }
                        touched[j] = true
                        gradient[j] -= res[k] * a[r][j] / b
                        share[j] += Double(Float(1 / Double(counts[j]))) / b
                    }
                }
                if schedule == .adagrad {
                    rounding ^= rounding &<< 13
                    rounding ^= rounding &>> 7
                    rounding ^= rounding &<< 17
                    var draw = rounding
                    for j in firstTouched {
                        let rho = AdaGradSlot.rho(slots[j])
                        let q = gradient[j] * (1 / rootDelta)
                        let grown = (rho * rho + q * q).squareRoot()
                        slots[j] = AdaGradSlot.replacingRho(slots[j], with: grown, draw: draw)
                        draw &+= 0x9E37_79B9_7F4A_7C15
                        let step = eta0 / (rootDelta * grown)
                        let z = x[j] - step * gradient[j]
                        let t = step * share[j]
                        x[j] = (z > t * l1 ? z - t * l1 : (z < -t * l1 ? z + t * l1 : 0)) / (1 + t * l2)
                    }
                } else {
                    let eta = schedule == .constant ? eta0 : eta0 / (1 + Double(seen) / Double(m)).squareRoot()
                    for j in 0..<n { x[j] = (x[j] - eta * gradient[j]) / (1 + eta * l2 / Double(m)) }
                    if l1 > 0 {
                        u += eta * l1 / Double(m)
                        for j in 0..<n where touched[j] {
                            let z = x[j]
                            if z > 0 { x[j] = max(0, z - (u + q[j])) } else if z < 0 { x[j] = min(0, z + (u - q[j])) }
                            q[j] += x[j] - z
                        }
                    }
                }
                seen += rows.count
                if averagingOn {
                    for j in 0..<n { sum[j] += x[j] }
                    steps += 1
                }
                first += batch
            }
        }
        return averaging ? sum.map { $0 / Double(steps) } : x
    }
}

/// A well-conditioned seeded problem y = A·x_true + noise and its exact ridge optimum.
func sgdProblem(rows m: Int = 2000, columns n: Int = 50, density: Double = 0.2, noise: Double = 0.1, l2: Double = 1,
                seed: UInt64 = 5) throws -> (LeastSquaresProblem, [[Double]], [Double], Double) {
    let (a, dense) = randomSmall(rows: m, columns: n, density: density, seed: seed)
    var rng = SplitMix64(seed: seed &+ 100)
    let xTrue = (0..<n).map { _ in rng.nextGaussian() }
    var y = DenseReference.multiply(dense, xTrue)
    for i in 0..<m { y[i] += noise * rng.nextGaussian() }
    let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: l2))
    let optimum = DenseReference.ridge(dense, y, lambda: l2)
    return (problem, dense, y, problem.objective(optimum))
}

func sgdOptions(_ schedule: LearningRateSchedule = .adagrad, eta0: Double? = nil, batch: Int = 1, epochs: Int? = nil,
                tolerance: Double = 1e-8, averaging: Bool = false, seed: UInt64 = 0) -> SolverOptions {
    var o = SolverOptions()
    o.solver = .sgd
    o.learningRate = schedule
    o.initialLearningRate = eta0
    o.batchSize = batch
    o.epochs = epochs
    o.tolerance = tolerance
    o.averaging = averaging
    o.seed = seed
    return o
}

@Suite("SGD")
struct SGDTests {
    /// Stated relative objective gaps (f − f*)/f* with default step, epochs and tolerance, per
    /// schedule, on `sgdProblem()` (2000 × 50, 20% dense, 10% noise, λ₂ = 1). Measured when written:
    /// 1.9e-3, 9.8e-4, 6.8e-3, 3.5e-5, 3.5e-5, 2.5e-4, 4.7e-5.
    @Test("default steps reach a stated objective gap on a well-conditioned problem", arguments: [
        (LearningRateSchedule.adagrad, 1, false, 5e-3),
        (.adagrad, 1, true, 5e-3),
        (.inverseScaling, 1, false, 2e-2),
        (.constant, 1, true, 1e-3),
        (.constant, 4, true, 1e-3),
        (.inverseScaling, 4, true, 5e-3),
        (.adagrad, 16, false, 1e-3),
    ])
    func reachesStatedGap(schedule: LearningRateSchedule, batch: Int, averaging: Bool, stated: Double) throws {
        let (problem, _, _, fStar) = try sgdProblem()
        let solution = try StochasticGradientDescent.solve(problem, options: sgdOptions(schedule, batch: batch, averaging: averaging, seed: 3),
                                                           control: .none)
        let gap = (solution.report.objective - fStar) / fStar
        #expect(gap >= -1e-12)
        #expect(gap <= stated, "\(schedule) batch \(batch) averaging \(averaging): relative gap \(gap) after \(solution.report.iterations) epochs (\(solution.report.stopReason)); stated \(stated)")
        #expect(abs(solution.report.objective - problem.objective(solution.x)) <= 1e-12 * fStar)
        #expect(solution.report.solver == .sgd)
    }

    @Test("each schedule takes exactly the steps of a naive dense SGD with the same seed", arguments: [
        (LearningRateSchedule.adagrad, 1, false, 0.0, 0.5),
        (.adagrad, 1, true, 0.3, 0.5),
        (.adagrad, 1, false, 0.0, 0.0),
        (.adagrad, 4, true, 0.3, 0.5),
        (.constant, 1, true, 0.0, 2.0),
        (.inverseScaling, 1, false, 0.4, 1.0),
        (.inverseScaling, 3, true, 0.4, 1.0),
        (.constant, 5, false, 0.4, 0.0),
    ])
    func matchesNaiveDenseSGD(schedule: LearningRateSchedule, batch: Int, averaging: Bool, l1: Double, l2: Double) throws {
        let (a, dense) = randomSmall(rows: 60, columns: 15, density: 0.3, seed: 17)
        var rng = SplitMix64(seed: 18)
        let y = (0..<60).map { _ in rng.nextGaussian() }
        let weights = (0..<60).map { _ in 0.5 + rng.nextUnit() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: l1, l2: l2), sampleWeights: weights)
        let eta0 = schedule == .adagrad ? 0.3 : 0.02
        let options = sgdOptions(schedule, eta0: eta0, batch: batch, epochs: 4, tolerance: 0, averaging: averaging, seed: 42)
        let solution = try StochasticGradientDescent.solve(problem, options: options, control: .none)
        // δ as the solver derives it (the test reproduces the documented formula).
        var rowSq = a.rowSquaredNorms()
        for i in 0..<60 { rowSq[i] *= weights[i] }
        var r0Sq = 0.0
        for i in 0..<60 { r0Sq += weights[i] * y[i] * y[i] }
        let typical = (r0Sq / 60).squareRoot() * (rowSq.reduce(0, +) / Double(a.nnz)).squareRoot()
        let rootDelta = StochasticGradientDescent.adagradDelta.squareRoot() * typical
        let reference = NaiveSGD.run(dense, y, weights: weights, l1: l1, l2: l2, schedule: schedule, eta0: eta0, rootDelta: rootDelta,
                                     batch: batch, epochs: 4, seed: 42, averaging: averaging)
        let err = relativeError(solution.x, reference)
        #expect(err < 1e-9, "\(schedule) batch \(batch) averaging \(averaging) λ₁ \(l1) λ₂ \(l2): relative error \(err)\n x \(solution.x)\n ref \(reference)")
    }

    @Test("AdaGrad's Float ρ is stochastically rounded: 4·10⁶ increments below half an ulp still add up")
    func adagradSlotRounding() {
        // ρ grows by a relative 3·10⁻⁸ each time, under half a Float ulp for ρ in [1.5, 1.7] (3.5·10⁻⁸ and up):
        // rounding to nearest would never move it (it would end 11 % low). In expectation the stored value follows
        // the exact one; the walk's spread is about √T·ulp/2 ≈ 7·10⁻⁵ relative here.
        var slot = AdaGradSlot.make(rho: 1.5, share: 0.25)
        var exact = 1.5
        var rng = SplitMix64(seed: 3)
        for _ in 0..<4_000_000 {
            let grown = AdaGradSlot.rho(slot) * (1 + 3e-8)
            exact *= 1 + 3e-8
            slot = AdaGradSlot.replacingRho(slot, with: grown, draw: rng.next())
        }
        let stored = AdaGradSlot.rho(slot)
        #expect(abs(stored - exact) / exact < 2e-3, "stored \(stored), exact \(exact)")
        #expect(AdaGradSlot.share(slot) == 0.25)
        // Exactly representable values stay put; NaN and ∞ (a diverged ρ) pass through.
        #expect(AdaGradSlot.rho(AdaGradSlot.replacingRho(slot, with: 2, draw: .max)) == 2)
        #expect(AdaGradSlot.rho(AdaGradSlot.replacingRho(slot, with: .infinity, draw: 0)) == .infinity)
        #expect(AdaGradSlot.rho(AdaGradSlot.replacingRho(slot, with: .nan, draw: 0)).isNaN)
    }

    @Test("gathering rows in chunks changes nothing: tiny chunks, straddling and oversized batches", arguments: [
        (LearningRateSchedule.adagrad, 1), (.adagrad, 5), (.inverseScaling, 1), (.constant, 4),
    ])
    func chunkingIsInvisible(schedule: LearningRateSchedule, batch: Int) throws {
        let (a, _) = randomSmall(rows: 90, columns: 25, density: 0.2, seed: 19)
        var rng = SplitMix64(seed: 20)
        let y = (0..<90).map { _ in rng.nextGaussian() }
        let w = (0..<90).map { _ in 0.5 + rng.nextUnit() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 0.2, l2: 0.3), sampleWeights: w)
        let options = sgdOptions(schedule, batch: batch, epochs: 3, tolerance: 0, averaging: true, seed: 4)
        let whole = try StochasticGradientDescent.solve(problem, options: options, control: .none)
        for (rows, nonzeros) in [(7, 40), (3, 9), (1, 1)] {
            let chunked = try StochasticGradientDescent.solve(problem, options: options, control: .none,
                                                              chunkRows: rows, chunkNonzeros: nonzeros)
            #expect(chunked.x == whole.x, "chunks of \(rows) rows / \(nonzeros) nonzeros")
        }
    }

    @Test("the setup pass (row norms, column counts, ‖AᵀWy‖∞) agrees with a dense computation for 1, 2, 3 and 7 row ranges")
    func setupPass() throws {
        let (a, dense) = randomSmall(rows: 70, columns: 25, density: 0.15, seed: 81)
        var rng = SplitMix64(seed: 82)
        let y = (0..<70).map { _ in rng.nextGaussian() }
        let w = (0..<70).map { _ in 0.1 + rng.nextUnit() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, sampleWeights: w)
        var rowMax = 0.0, rowSum = 0.0
        var counts = [Int32](repeating: 0, count: 25), aty = [Double](repeating: 0, count: 25)
        for i in 0..<70 {
            var sq = 0.0
            for j in 0..<25 where dense[i][j] != 0 {
                sq += dense[i][j] * dense[i][j]
                counts[j] += 1
                aty[j] += w[i] * y[i] * dense[i][j]
            }
            rowMax = max(rowMax, w[i] * sq)
            rowSum += w[i] * sq
        }
        for parts in [1, 2, 3, 7] {
            let setup = SGDSetup(problem, parts: parts)
            #expect(setup.columnCounts == counts, "\(parts) parts")
            #expect(abs(setup.maxRowSquaredNorm - rowMax) <= 1e-14 * rowMax)
            #expect(abs(setup.squaredNormSum - rowSum) <= 1e-13 * rowSum)
            let norm = aty.map(abs).max()!
            #expect(abs(setup.dualNorm - norm) <= 1e-13 * norm, "\(parts) parts: \(setup.dualNorm) vs \(norm)")
        }
    }

    @Test("the lazy L2 scale renormalises correctly when λ₂ is huge")
    func renormalisation() throws {
        let (a, dense) = randomSmall(rows: 40, columns: 10, density: 0.4, seed: 23)
        var rng = SplitMix64(seed: 24)
        let y = (0..<40).map { _ in rng.nextGaussian() }
        let maxRowSq = a.rowSquaredNorms().max()!
        let l2 = 200 * maxRowSq  // s shrinks by e^{-200/…} per epoch: many renormalisations
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: l2))
        for averaging in [false, true] {
            let options = sgdOptions(.constant, batch: 1, epochs: 3, tolerance: 0, averaging: averaging, seed: 7)
            let solution = try StochasticGradientDescent.solve(problem, options: options, control: .none)
            let reference = NaiveSGD.run(dense, y, l1: 0, l2: l2, schedule: .constant, eta0: 1 / maxRowSq, rootDelta: 1,
                                         batch: 1, epochs: 3, seed: 7, averaging: averaging)
            #expect(relativeError(solution.x, reference) < 1e-9, "averaging \(averaging)")
            #expect(solution.x.allSatisfy { $0.isFinite })
        }
    }

    @Test("an enormous λ₂ gives x ≈ 0 without NaN, in SGD and CD", arguments: LearningRateSchedule.allCases)
    func enormousRidge(schedule: LearningRateSchedule) throws {
        let (a, _) = randomSmall(rows: 50, columns: 10, density: 0.4, seed: 27)
        var rng = SplitMix64(seed: 28)
        let y = (0..<50).map { _ in rng.nextGaussian() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 0.1, l2: 1e300),
                                              initialGuess: [Double](repeating: 1, count: 10))
        let sgd = try StochasticGradientDescent.solve(problem, options: sgdOptions(schedule, batch: 2, epochs: 3, averaging: true),
                                                      control: .none)
        #expect(sgd.x.allSatisfy { $0.isFinite && abs($0) < 1e-200 }, "\(sgd.x)")
        let cd = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(), control: .none)
        #expect(cd.x.allSatisfy { $0.isFinite && abs($0) < 1e-200 })
        #expect(cd.report.objective.isFinite)
    }

    @Test("L1: SGD approaches the lasso optimum that CD certifies", arguments: [LearningRateSchedule.adagrad, .inverseScaling])
    func lassoObjective(schedule: LearningRateSchedule) throws {
        let (a, _, y, _) = IterativeReference.plantedProblem(rows: 1500, columns: 60, density: 0.1, support: 10, noise: 0.1, seed: 29)
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 5, l2: 0.5))
        let exact = try CoordinateDescent.solve(problem, options: IterativeReference.cdOptions(tolerance: 1e-12), control: .none)
        let solution = try StochasticGradientDescent.solve(problem, options: sgdOptions(schedule, epochs: 60, tolerance: 0), control: .none)
        let gap = (solution.report.objective - exact.report.objective) / exact.report.objective
        #expect(gap >= -1e-9)
        #expect(gap <= 1e-2, "\(schedule): relative gap \(gap) to the lasso optimum")
    }

    @Test("sample weights: converges to the weighted ridge optimum")
    func weighted() throws {
        let (a, dense) = randomSmall(rows: 1500, columns: 40, density: 0.25, seed: 31)
        var rng = SplitMix64(seed: 32)
        let xTrue = (0..<40).map { _ in rng.nextGaussian() }
        var y = DenseReference.multiply(dense, xTrue)
        for i in 0..<1500 { y[i] += 0.1 * rng.nextGaussian() }
        let w = (0..<1500).map { _ in 0.5 + rng.nextUnit() }
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: 2), sampleWeights: w)
        // Weighted ridge = ridge on (W^{½}A, W^{½}y).
        let scaled = dense.enumerated().map { i, row in row.map { $0 * w[i].squareRoot() } }
        let optimum = DenseReference.ridge(scaled, zip(y, w).map { $0 * $1.squareRoot() }, lambda: 2)
        let fStar = problem.objective(optimum)
        let solution = try StochasticGradientDescent.solve(problem, options: sgdOptions(), control: .none)
        let gap = (solution.report.objective - fStar) / fStar
        #expect(gap <= 5e-3, "weighted relative gap \(gap)")
    }

    @Test("a huge constant learning rate is reported as divergence with advice")
    func divergence() throws {
        let (problem, _, _, _) = try sgdProblem(rows: 300, columns: 20)
        #expect {
            _ = try StochasticGradientDescent.solve(problem, options: sgdOptions(.constant, eta0: 1e6), control: .none)
        } throws: { error in
            guard case let .diverged(message) = error as? SolverError else { return false }
            return message.contains("--initial-learning-rate") && message.contains("--learning-rate adagrad")
        }
        #expect {
            _ = try StochasticGradientDescent.solve(problem, options: sgdOptions(.adagrad, eta0: 1e8), control: .none)
        } throws: { error in
            guard case .diverged = error as? SolverError else { return false }
            return true
        }
    }

    @Test("same seed gives the identical x, another seed a different one")
    func seeds() throws {
        let (problem, _, _, _) = try sgdProblem(rows: 500, columns: 30)
        for schedule in LearningRateSchedule.allCases {
            let a = try StochasticGradientDescent.solve(problem, options: sgdOptions(schedule, batch: 3, epochs: 5, averaging: true, seed: 11), control: .none)
            let b = try StochasticGradientDescent.solve(problem, options: sgdOptions(schedule, batch: 3, epochs: 5, averaging: true, seed: 11), control: .none)
            let c = try StochasticGradientDescent.solve(problem, options: sgdOptions(schedule, batch: 3, epochs: 5, averaging: true, seed: 12), control: .none)
            #expect(a.x == b.x, "\(schedule)")
            #expect(a.x != c.x, "\(schedule)")
        }
    }

    @Test("cancellation from the progress callback stops after that epoch")
    func cancellation() throws {
        let (problem, _, _, _) = try sgdProblem(rows: 500, columns: 30)
        let flag = CancellationFlag()
        let calls = CDCallCounter()
        let control = SolveControl(progress: { _ in calls.increment(); flag.cancel() }, cancellation: flag)
        let solution = try StochasticGradientDescent.solve(problem, options: sgdOptions(tolerance: 0), control: control)
        #expect(solution.report.stopReason == .cancelled)
        #expect(solution.report.iterations == 1)
        #expect(calls.value == 1)
        #expect(solution.report.objective < problem.objective([Double](repeating: 0, count: 30)))
    }

    @Test("epoch and time limits, and the stall rule, stop with the right reason")
    func limits() throws {
        let (problem, _, _, _) = try sgdProblem(rows: 500, columns: 30)
        let two = try StochasticGradientDescent.solve(problem, options: sgdOptions(epochs: 2, tolerance: 0), control: .none)
        #expect(two.report.stopReason == .iterationLimit)
        #expect(two.report.iterations == 2)
        let timed = try StochasticGradientDescent.solve(problem, options: sgdOptions(tolerance: 0), control: SolveControl(timeLimit: 0))
        #expect(timed.report.stopReason == .timeLimit)
        #expect(timed.report.iterations == 0)
        let loose = try StochasticGradientDescent.solve(problem, options: sgdOptions(tolerance: 1e-2), control: .none)
        #expect(loose.report.stopReason == .objectiveStalled)
        #expect(loose.report.iterations < 50)
        #expect(loose.report.stopReason.converged)
    }

    @Test("progress reports one objective per epoch")
    func progress() throws {
        let (problem, _, _, _) = try sgdProblem(rows: 300, columns: 20)
        let log = CDProgressLog()
        let solution = try StochasticGradientDescent.solve(problem, options: sgdOptions(epochs: 4, tolerance: 0),
                                                           control: SolveControl(progress: { log.append($0) }))
        let samples = log.values
        #expect(samples.first?.iteration == 1)
        #expect(samples.last?.iteration == 4)
        #expect(abs((samples.last?.objective ?? 0) - solution.report.objective) <= 1e-12 * solution.report.objective)
    }

    @Test("x* = 0 when λ₁ ≥ ‖Aᵀy‖∞, and edge shapes")
    func zeroAndEdges() throws {
        let (a, _) = randomSmall(rows: 30, columns: 8, density: 0.4, seed: 37)
        var rng = SplitMix64(seed: 38)
        let y = (0..<30).map { _ in rng.nextGaussian() }
        let lambdaMax = try a.transposeMultiply(y).map(abs).max()!
        let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: lambdaMax))
        let zero = try StochasticGradientDescent.solve(problem, options: sgdOptions(), control: .none)
        #expect(zero.report.stopReason == .zeroSolution)
        #expect(zero.x == [Double](repeating: 0, count: 8))
        for (m, n) in [(0, 0), (0, 3), (3, 0)] {
            let empty = try LeastSquaresProblem(matrix: try CSRMatrix.zeros(rowCount: m, columnCount: n), rhs: [Double](repeating: 1, count: m))
            let s = try StochasticGradientDescent.solve(empty, options: sgdOptions(), control: .none)
            #expect(s.x.count == n)
            #expect(s.report.stopReason == .zeroSolution)
        }
        // An empty column keeps x_j = 0 even from a nonzero start.
        let b = try CSRMatrix(rowCount: 3, columnCount: 2, rowOffsets: [0, 1, 2, 3], columnIndices: [0, 0, 0], values: [1, 2, 3])
        let p = try LeastSquaresProblem(matrix: b, rhs: [1, 2, 3], initialGuess: [0, 5])
        let s = try StochasticGradientDescent.solve(p, options: sgdOptions(), control: .none)
        #expect(s.x[1] == 0)
        #expect(abs(s.x[0] - 1) < 1e-3)
    }

    @Test("bad options name the option", arguments: ["batchSize", "initialLearningRate", "initialLearningRate-zero",
                                                     "initialLearningRate-nan", "epochs", "tolerance"])
    func invalidOptions(option: String) throws {
        let (a, _) = randomSmall(rows: 5, columns: 3, density: 0.8, seed: 1)
        let problem = try LeastSquaresProblem(matrix: a, rhs: [1, 2, 3, 4, 5])
        var options = sgdOptions()
        switch option {
        case "batchSize": options.batchSize = 0
        case "initialLearningRate": options.initialLearningRate = -1
        case "initialLearningRate-zero": options.initialLearningRate = 0
        case "initialLearningRate-nan": options.initialLearningRate = .nan
        case "epochs": options.epochs = -3
        default: options.tolerance = -1e-3
        }
        let name = String(option.split(separator: "-")[0])
        #expect {
            _ = try StochasticGradientDescent.solve(problem, options: options, control: .none)
        } throws: { error in
            guard case let .invalidOption(message) = error as? SolverError else { return false }
            return message.contains(name)
        }
    }

    @Test("the dispatcher runs SGD when asked")
    func throughDispatcher() throws {
        let (problem, _, _, fStar) = try sgdProblem(rows: 1000, columns: 20)
        let solution = try LeastSquaresSolver.solve(problem, options: sgdOptions())
        #expect(solution.report.solver == .sgd)
        #expect((solution.report.objective - fStar) / fStar < 1e-2)
    }
}
