// LeastSquares/StochasticGradientDescent: SGD over shuffled CSR rows, O(nnz(row)) per step, with lazy regularisation and averaging.
import SparseTensor

/// Stochastic gradient descent for
///
/// ```
/// f(x) = ½Σᵢ wᵢ(yᵢ − aᵢᵀx)² + λ₁‖x‖₁ + ½λ₂‖x‖²  =  Σᵢ fᵢ(x),   fᵢ(x) = ½wᵢ(yᵢ − aᵢᵀx)² + R(x)/m
/// ```
///
/// Each epoch visits the rows in a fresh order (a seeded SplitMix64 Fisher–Yates shuffle, so the
/// same `options.seed` gives the identical x) in mini-batches of `options.batchSize` rows; a step
/// on batch B is the proximal step
///
/// ```
/// x ← prox_{η·R/m}( x + η·(1/|B|)·Σ_{i∈B} wᵢ(yᵢ − aᵢᵀx)·aᵢ )
/// ```
/// and costs O(Σ nnz(aᵢ)) — the regulariser is applied lazily (see `SGDKernel`): L2 through a
/// scale factor x = s·v, L1 through the cumulative penalty of Tsuruoka, Tsujii & Ananiadou (2009);
/// under AdaGrad both through the per-row share of R on the row's own coordinates.
///
/// **Learning rates** (`options.learningRate`, base rate η₀ = `options.initialLearningRate`):
/// - `.constant`: η_t = η₀;  `.inverseScaling`: η_t = η₀/√(1 + t/m), t = rows seen (so it halves by epoch 3);
///   default η₀ = 1/maxᵢ wᵢ‖aᵢ‖² (the diagonal of W·A·Aᵀ): no single-row step overshoots its row,
///   so the iteration is a relaxed projection method and cannot blow up;
/// - `.adagrad` (Duchi, Hazan & Singer 2011): η_t,j = η₀/√(δ + Σ g_j²) with δ = 2·(rms of wᵢ^{½}r⁰ᵢ ·
///   rms of wᵢ^{½}a_ij)², twice the squared size of a typical first gradient entry (r⁰ = y − A·x⁰), and
///   default η₀ = √δ/maxᵢ wᵢ‖aᵢ‖², so that the first steps equal the safe global step above and
///   AdaGrad then shrinks them per coordinate. The factor 2 (δ's `adagradDelta`) trades a fast start
///   against AdaGrad's noise floor: it was the best of 1, 2, 4 for the last iterate after 50 epochs on
///   seeded sparse Gaussian problems (m/n = 10…40, noise 10–100% of the signal per row).
/// - Mini-batches (|B| > 1) average the batch gradient and keep the same safe default step, so
///   constant and invscaling make |B|× fewer steps per epoch: give them more epochs, a larger
///   `initialLearningRate` (up to about |B|× the default when rows are nearly orthogonal), or AdaGrad,
///   which adapts to the smaller averaged gradients by itself.
///
/// **Averaging** (`options.averaging`): the returned x is the Polyak–Ruppert average of the
/// iterates after a one-epoch burn-in (from the first step when only one epoch is allowed), kept
/// lazily per coordinate.
///
/// **Memory access**: the shuffled rows are copied, a few thousand at a time, into a cache-sized
/// contiguous chunk before their steps run (`SGDRows`), which turns the random row accesses into
/// independent loads the processor overlaps; the arithmetic and the order are unchanged.
///
/// **Stopping**: after each epoch, f is evaluated once (one SpMV) for the returned iterate and sent
/// to the progress callback (at most every 50 ms, and always for the first and last epoch). The solve
/// stops with `.objectiveStalled` when the best f so far has not dropped by more than
/// `tolerance·max(f, tiny)` for 3 epochs in a row (a single noisy epoch does not stop it; tolerance 0
/// turns the test off), or with `.iterationLimit` after `options.epochs ?? 50` epochs. Cancellation
/// and the time limit are checked before each epoch and every 4096 rows. A non-finite residual, or f
/// above 10⁶ × max(f(x⁰), ½‖W^{½}y‖²), throws `.diverged` with advice instead of returning NaN.
public enum StochasticGradientDescent {
    /// Epochs without a relative improvement ≥ tolerance before `.objectiveStalled`.
    static let stallPatience = 3
    /// f above this multiple of the reference objective means divergence.
    static let divergenceFactor = 1e6
    /// AdaGrad's δ in units of the squared typical first gradient entry.
    static let adagradDelta = 2.0

    /// Solves the problem by SGD; see the type's documentation.
    ///
    /// - Returns: x (the last iterate, or the average) and a report: `iterations` = epochs completed,
    ///   `objective` and `residualNorm` (‖y − A·x‖₂, unweighted) of the returned x, `optimalityNorm`
    ///   = ‖AᵀWr − λ₂x‖₂, `diagnostics` = the schedule and base step used.
    /// - Throws: `.invalidOption` (tolerance, epochs, batchSize, initialLearningRate, memoryBudgetBytes),
    ///   `.diverged` with advice, `.sparse(.exceedsMemoryBudget)` when the work vectors do not fit.
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        try solve(problem, options: options, control: control, chunkRows: 1 << 16, chunkNonzeros: 1 << 18)
    }

    /// `solve` with the chunk size of the row gathering as parameters (tests make chunks tiny, so
    /// that batches straddle chunks and oversized batches are stepped in place).
    static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl,
                      chunkRows: Int, chunkNonzeros: Int) throws(SolverError) -> Solution {
        try IterativeOptionCheck.stochastic(options)
        let clock = SolveClock(control)
        let a = problem.matrix
        let m = problem.rowCount, n = problem.columnCount
        let l1 = problem.regularization.l1, l2 = problem.regularization.l2
        let adagrad = options.learningRate == .adagrad
        let batch = min(options.batchSize, max(m, 1))
        let scatter = adagrad && batch > 1
        // Row order and row norms per row; x, v, and per schedule q (L1), AdaGrad sums and shares,
        // averaging sums and marks, the batch scatter buffers per column.
        let perColumn = 2 + (l1 > 0 && !adagrad ? 1 : 0) + (adagrad ? 2 : 0) + (options.averaging ? 2 : 0) + (scatter ? 3 : 0)
        let bytes = Double(m) * 12 + Double(n) * Double(8 * perColumn) + Double(batch) * 8
            + Double(min(a.nnz, chunkNonzeros)) * 12 + Double(max(min(m, chunkRows), batch)) * 36
        try IterativeOptionCheck.checkMemory(bytes, for: "SGD work vectors", options: options)

        // Setup: weighted row norms, column counts, f(x⁰).
        let weights = problem.sampleWeights
        var rowSq = a.rowSquaredNorms()
        if let w = weights { for i in 0..<m { rowSq[i] *= w[i] } }
        let maxRowSq = rowSq.max() ?? 0
        var entrySq = 0.0
        for v in rowSq { entrySq += v }
        let columnCounts = a.storage.innerCounts()
        var x0 = problem.initialGuess ?? [Double](repeating: 0, count: n)
        for j in 0..<n where columnCounts[j] == 0 { x0[j] = 0 }  // untouched by every row: optimal at 0
        let (f0, r0) = evaluate(problem, x0)
        var ySq = 0.0, r0Sq = 0.0
        for i in 0..<m {
            let wi = weights?[i] ?? 1
            ySq += wi * problem.rhs[i] * problem.rhs[i]
            r0Sq += wi * r0[i] * r0[i]
        }
        let floor = Double.leastNormalMagnitude
        let reference = max(f0, 0.5 * ySq, floor)

        // x* = 0 when ‖AᵀWy‖∞ ≤ λ₁ (or AᵀWy = 0 without L1).
        var wy = problem.rhs
        if let w = weights { for i in 0..<m { wy[i] *= w[i] } }
        let aty = (try? a.transposeMultiply(wy)) ?? []
        let dualNorm0 = aty.reduce(0) { max($0, abs($1)) }
        if l1 > 0 ? dualNorm0 <= l1 : dualNorm0 == 0 {
            let zero = [Double](repeating: 0, count: n)
            return finish(problem, x: zero, stop: .zeroSolution, epochs: 0, clock: clock, setupSeconds: clock.elapsed,
                          diagnostics: ["SGD: x = 0 is optimal (‖AᵀWy‖∞ = \(dualNorm0) ≤ λ₁ = \(l1))"])
        }

        // Step sizes.
        let globalDefault = maxRowSq > 0 ? 1 / maxRowSq : 1
        let nnz = a.nnz
        let rmsEntry = nnz > 0 ? (entrySq / Double(nnz)).squareRoot() : 0
        let rmsResidual = m > 0 ? (r0Sq / Double(m)).squareRoot() : 0
        var typicalGradient = rmsResidual * rmsEntry
        if !(typicalGradient > 0) { typicalGradient = rmsEntry > 0 ? rmsEntry : 1 }
        let delta = adagradDelta * typicalGradient * typicalGradient
        let defaultEta = adagrad ? delta.squareRoot() * globalDefault : globalDefault
        let eta0 = options.initialLearningRate ?? defaultEta
        let epochLimit = options.epochs ?? 50

        // Buffers, allocated once.
        // v_j, then q_j (L1, global schedules) or the AdaGrad sum and share, interleaved (see SGDKernel).
        let stride = adagrad ? (l1 > 0 || l2 > 0 ? 3 : 2) : (l1 > 0 ? 2 : 1)
        let state = ScratchBuffer(repeating: 0.0, count: n * stride)
        for j in 0..<n {
            state.pointer[j * stride] = x0[j]
            if adagrad {
                state.pointer[j * stride + 1] = delta
                if stride == 3 { state.pointer[j * stride + 2] = columnCounts[j] > 0 ? 1 / Double(columnCounts[j]) : 0 }
            }
        }
        let acc = ScratchBuffer(repeating: 0.0, count: options.averaging ? n : 0)
        let mark = ScratchBuffer(repeating: 0.0, count: options.averaging ? n : 0)
        let batchResidual = ScratchBuffer(repeating: 0.0, count: batch)
        let batchGradient = ScratchBuffer(repeating: 0.0, count: scatter ? n : 0)
        let batchShare = ScratchBuffer(repeating: 0.0, count: scatter ? n : 0)
        let touchedFlag = ScratchBuffer(repeating: UInt8(0), count: scatter ? n : 0)
        let touched = ScratchBuffer(repeating: Int32(0), count: scatter ? n : 0)
        let order = ScratchBuffer((0..<m).map { Int32(truncatingIfNeeded: $0) })
        // Chunks of ≤ 2¹⁸ nonzeros (3 MB) and ≤ 2¹⁶ rows by default: they stay in cache while the steps run.
        let chunk = SGDChunk(rowCapacity: max(min(m, chunkRows), batch), nonzeroCapacity: min(a.nnz, chunkNonzeros),
                             weighted: weights != nil)
        let setupSeconds = clock.elapsed

        let schedule = options.learningRate
        let end: SGDEnd = a.storage.offsets.withUnsafeBufferPointer { off in
            a.storage.indices.withUnsafeBufferPointer { idx in
                a.storage.values.withUnsafeBufferPointer { val in
                    problem.rhs.withUnsafeBufferPointer { y in
                        (weights ?? []).withUnsafeBufferPointer { w in
                            let matrix = SGDRows(off: off, idx: idx, val: val, y: y, w: w)
                            var kernel = SGDKernel(
                                m: m, n: n, off: off, idx: idx, val: val, y: y, w: w, l1: l1, l2: l2,
                                adagrad: adagrad, inverseScaling: schedule == .inverseScaling, eta0: eta0,
                                state: state.pointer, stride: stride,
                                acc: acc.pointer, mark: mark.pointer, batchResidual: batchResidual.pointer,
                                batchGradient: batchGradient.pointer, batchShare: batchShare.pointer,
                                touchedFlag: touchedFlag.pointer, touched: touched.pointer)
                            return epochs(&kernel, problem: problem, matrix: matrix, chunk: chunk, order: order.pointer, batch: batch,
                                          epochLimit: epochLimit, options: options, clock: clock,
                                          start: f0, reference: reference, floor: floor)
                        }
                    }
                }
            }
        }

        let stepText = "schedule \(schedule.rawValue), η₀ = \(eta0)" + (options.initialLearningRate == nil ? " (default from row norms)" : "")
            + (adagrad ? ", δ = \(delta)" : "") + ", batch \(batch)" + (options.averaging ? ", averaged" : "")
        switch end {
        case let .finished(stop, epochs, x):
            return finish(problem, x: x, stop: stop, epochs: epochs, clock: clock, setupSeconds: setupSeconds,
                          diagnostics: ["SGD: " + stepText])
        case let .diverged(epoch, objective):
            let smaller = eta0 / 10
            let what = objective.map { "the objective reached \($0) (it was \(f0) at the start)" } ?? "a residual became non-finite or exceeded 1e150"
            var advice = "try a smaller step, e.g. --initial-learning-rate \(smaller)"
            if options.initialLearningRate != nil { advice += " (the default derived from row norms is \(defaultEta))" }
            if schedule != .adagrad { advice += ", or --learning-rate adagrad" } else if options.initialLearningRate != nil {
                advice += ", or --learning-rate invscaling"
            }
            throw .diverged("SGD diverged in epoch \(epoch): \(what) with \(stepText); \(advice)")
        }
    }

    /// The epoch loop: shuffle, steps, then one objective evaluation, progress and the stop tests.
    static func epochs(_ k: inout SGDKernel, problem: LeastSquaresProblem, matrix: SGDRows, chunk: SGDChunk,
                       order: UnsafeMutableBufferPointer<Int32>,
                       batch: Int, epochLimit: Int, options: SolverOptions, clock: SolveClock,
                       start f0: Double, reference: Double, floor: Double) -> SGDEnd {
        let m = k.m
        var rng = SplitMix64(seed: options.seed)
        var x = [Double](repeating: 0, count: k.n)
        var best = f0
        var stalled = 0
        var throttle = ProgressThrottle()
        let burnIn = epochLimit > 1 ? 1 : 0

        func returned(_ k: inout SGDKernel) -> [Double] {
            if k.averaging && k.averagedSteps > 0 { k.average(into: &x) } else { k.current(into: &x) }
            return x
        }

        for epoch in 1...epochLimit {
            if let stop = clock.interruption() { return .finished(stop, epochs: epoch - 1, x: returned(&k)) }
            if options.averaging && epoch == burnIn + 1 { k.startAveraging() }
            // Fisher–Yates shuffle of the row order.
            var i = m
            while i > 1 {
                let pick = Int(rng.next() % UInt64(i))
                i -= 1
                order.swapAt(i, pick)
            }
            var position = 0
            var sinceCheck = 0
            while position < m {
                // The next rows of the order, gathered into the chunk (or one oversized batch in place).
                let gathered = chunk.gather(matrix, order: order, from: position, batch: batch)
                let rowList: UnsafeMutableBufferPointer<Int32>
                let count: Int
                if gathered > 0 {
                    k.read(chunk.rows)
                    rowList = UnsafeMutableBufferPointer(rebasing: chunk.local.pointer[0..<gathered])
                    count = gathered
                } else {
                    k.read(matrix)
                    count = min(batch, m - position)
                    rowList = UnsafeMutableBufferPointer(rebasing: order[position..<(position + count)])
                }
                var first = 0
                while first < count {
                    let last = min(first + batch, count)
                    let rows = UnsafeBufferPointer(rebasing: rowList[first..<last])
                    let ok: Bool
                    if k.adagrad {
                        ok = rows.count == 1 ? k.adagradStep(rows) : k.adagradBatchStep(rows)
                    } else {
                        ok = k.globalStep(rows)
                    }
                    if !ok { return .diverged(epoch: epoch, objective: nil) }
                    sinceCheck += rows.count
                    if sinceCheck >= 4096 {
                        sinceCheck = 0
                        if let stop = clock.interruption() { return .finished(stop, epochs: epoch - 1, x: returned(&k)) }
                    }
                    first = last
                }
                position += count
            }
            let current = returned(&k)
            let (f, r) = evaluate(problem, current)
            if !f.isFinite || f > divergenceFactor * reference { return .diverged(epoch: epoch, objective: f) }
            if throttle.due(clock.elapsed, force: epoch == epochLimit) {
                clock.report(epoch, objective: f, residualNorm: DenseVector.norm(r), fraction: Double(epoch) / Double(epochLimit))
            }
            if let stop = clock.interruption() { return .finished(stop, epochs: epoch, x: current) }
            // Stalled: the best objective improved by less than tolerance·f.
            if options.tolerance > 0 && best - f < options.tolerance * max(f, floor) { stalled += 1 } else { stalled = 0 }
            best = min(best, f)
            if stalled >= stallPatience { return .finished(.objectiveStalled, epochs: epoch, x: current) }
        }
        return .finished(.iterationLimit, epochs: epochLimit, x: returned(&k))
    }

    /// f(x) and r = y − A·x (unweighted), with one SpMV.
    static func evaluate(_ problem: LeastSquaresProblem, _ x: [Double]) -> (Double, [Double]) {
        let r = problem.residual(x)
        var loss = 0.0
        if let w = problem.sampleWeights {
            for i in 0..<r.count { loss += w[i] * r[i] * r[i] }
        } else {
            for v in r { loss += v * v }
        }
        var l1 = 0.0, l2 = 0.0
        for v in x {
            l1 += abs(v)
            l2 += v * v
        }
        let reg = problem.regularization
        return (0.5 * loss + reg.l1 * l1 + 0.5 * reg.l2 * l2, r)
    }

    /// The report for x: objective, ‖r‖, ‖AᵀWr − λ₂x‖ (one more SpMV).
    static func finish(_ problem: LeastSquaresProblem, x: [Double], stop: StopReason, epochs: Int, clock: SolveClock,
                       setupSeconds: Double, diagnostics: [String]) -> Solution {
        let (f, r) = evaluate(problem, x)
        var wr = r
        if let w = problem.sampleWeights { for i in 0..<wr.count { wr[i] *= w[i] } }
        var g = (try? problem.matrix.transposeMultiply(wr)) ?? []
        for j in 0..<g.count { g[j] -= problem.regularization.l2 * x[j] }
        let report = SolveReport(
            solver: .sgd, iterations: epochs, stopReason: stop, objective: f, residualNorm: DenseVector.norm(r),
            optimalityNorm: DenseVector.norm(g), nnzX: x.reduce(0) { $0 + ($1 != 0 ? 1 : 0) },
            setupSeconds: setupSeconds, solveSeconds: clock.elapsed - setupSeconds, diagnostics: diagnostics)
        return Solution(x: x, report: report)
    }
}

/// How the epoch loop ended.
enum SGDEnd {
    case finished(StopReason, epochs: Int, x: [Double])
    /// `objective` is nil when a residual went non-finite mid-epoch.
    case diverged(epoch: Int, objective: Double?)
}
