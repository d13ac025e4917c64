// LeastSquares/StochasticGradientDescent: SGD over shuffled CSR rows, O(nnz(row)) per step, with lazy regularisation and averaging.
import Foundation
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
/// contiguous chunk before their steps run (`SGDChunk`), which turns the random row accesses into
/// independent loads the processor overlaps; the arithmetic and the order are unchanged. With two or
/// more workers a helper gathers the next chunk (and shuffles the next epoch) while the steps run, so
/// the steps' thread rarely waits for memory (see `epochs`). The setup is one pass over A (`SGDSetup`).
///
/// **Stopping**: after each epoch, f is evaluated once (one SpMV) for the returned iterate and sent
/// to the progress callback (at most every 50 ms, and always for the first and last epoch). With a
/// helper thread that SpMV runs in blocks beside the next epoch's steps, and the epoch's stop tests
/// when it is done: a stop then returns that epoch's iterate (the same x as without the helper) and
/// drops the steps taken since. (The SpMV's blocks follow the worker count, so f's last bits may too;
/// the steps, hence x after a given epoch, do not.) The solve
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
        try solve(problem, options: options, control: control, chunkRows: 1 << 14, chunkNonzeros: 1 << 18)
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
        // Row order and a residual per row; x, v, and per schedule q (L1) or AdaGrad's packed ρ and share,
        // averaging sums and marks, the batch scatter buffers per column; the setup pass's column
        // counts and AᵀWy per part (`SGDSetup`).
        let perColumn = 2 + (l1 > 0 && !adagrad ? 1 : 0) + (adagrad ? 1 : 0) + (options.averaging ? 2 : 0) + (scatter ? 3 : 0)
        let setupParts = SGDSetup.parts(nnz: a.nnz, columns: n)
        let bytes = Double(m) * 12 + Double(n) * Double(8 * perColumn + 12 * setupParts) + Double(batch) * 8
            + chunkBytes(m: m, nnz: a.nnz, batch: batch, chunkRows: chunkRows, chunkNonzeros: chunkNonzeros)
        try IterativeOptionCheck.checkMemory(bytes, for: "SGD work vectors", options: options)

        // Setup: one pass over A for the weighted row norms, the column counts and AᵀWy; f(x⁰).
        let weights = problem.sampleWeights
        // Column counts only where they are used: AdaGrad's shares, and a warm start's untouched columns.
        let setup = SGDSetup(problem, counts: adagrad || problem.initialGuess != nil)
        let maxRowSq = setup.maxRowSquaredNorm
        let entrySq = setup.squaredNormSum
        let columnCounts = setup.columnCounts
        var x0 = problem.initialGuess ?? [Double](repeating: 0, count: n)
        for j in 0..<n where !columnCounts.isEmpty && columnCounts[j] == 0 { x0[j] = 0 }  // untouched by every row: optimal at 0
        var ySq = 0.0
        for i in 0..<m { ySq += (weights?[i] ?? 1) * problem.rhs[i] * problem.rhs[i] }
        // At x⁰ = 0 (the default), r⁰ = y and f(x⁰) = ½Σwᵢyᵢ²: no product needed.
        var f0 = 0.5 * ySq, r0Sq = ySq
        if x0.contains(where: { $0 != 0 }) {
            let r0: [Double]
            (f0, r0) = evaluate(problem, x0)
            r0Sq = 0
            for i in 0..<m { r0Sq += (weights?[i] ?? 1) * r0[i] * r0[i] }
        }
        let floor = Double.leastNormalMagnitude
        let reference = max(f0, 0.5 * ySq, floor)

        // x* = 0 when ‖AᵀWy‖∞ ≤ λ₁ (or AᵀWy = 0 without L1).
        let dualNorm0 = setup.dualNorm
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
        // √δ straight from the typical gradient: δ itself would underflow to 0 (and overflow) long before it does.
        let rootDelta = adagradDelta.squareRoot() * typicalGradient
        let delta = rootDelta * rootDelta
        let defaultEta = adagrad ? rootDelta * globalDefault : globalDefault
        let eta0 = options.initialLearningRate ?? defaultEta
        let epochLimit = options.epochs ?? 50

        // Buffers, allocated once.
        // v_j, then q_j (L1, global schedules) or AdaGrad's √G and share, interleaved (see SGDKernel).
        let stride = adagrad || l1 > 0 ? 2 : 1
        let state = ScratchBuffer(repeating: 0.0, count: n * stride)
        let hasReg = l1 > 0 || l2 > 0
        for j in 0..<n {
            state.pointer[j * stride] = x0[j]
            if adagrad {
                let share = hasReg && columnCounts[j] > 0 ? 1 / Double(columnCounts[j]) : 0
                state.pointer[j * stride + 1] = AdaGradSlot.make(rho: 1, share: share)
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
        // Chunks of ≤ 2¹⁸ nonzeros (3 MB) and ≤ 2¹⁴ rows by default: they stay in cache while the steps run.
        // (Rows of 16 or more nonzeros fill a chunk before its row limit: a larger limit would only add
        // 76 bytes of never-used row arrays per row.) Three layouts and two chunks when a helper works ahead
        // of the steps (see `epochs`): with two or more workers, when every batch fits a chunk. They are made
        // inside the epochs' closure below, so they are freed before the final report's products allocate
        // theirs.
        let rowCapacity = max(min(m, chunkRows), batch), nonzeroCapacity = min(a.nnz, chunkNonzeros)
        let pipelined = pipelinedGathering(m: m, batch: batch, longestRow: setup.longestRow,
                                           rowCapacity: rowCapacity, nonzeroCapacity: nonzeroCapacity)
        let residual = ScratchBuffer<Double>(uninitializedCount: m)
        let setupSeconds = clock.elapsed

        let schedule = options.learningRate
        let end: SGDEnd = a.storage.offsets.withUnsafeBufferPointer { off in
            a.storage.indices.withUnsafeBufferPointer { idx in
                a.storage.values.withUnsafeBufferPointer { val in
                    problem.rhs.withUnsafeBufferPointer { y in
                        (weights ?? []).withUnsafeBufferPointer { w in
                            let matrix = SGDRows(off: off, idx: idx, val: val, y: y, w: w)
                            let layouts = (0..<(pipelined ? 3 : 1)).map { _ in
                                SGDLayout(rowCapacity: rowCapacity, nonzeroCapacity: nonzeroCapacity)
                            }
                            let chunks = (0..<(pipelined ? 2 : 1)).map { _ in
                                SGDChunk(rowCapacity: rowCapacity, nonzeroCapacity: nonzeroCapacity, weighted: weights != nil)
                            }
                            let local = ScratchBuffer((0..<rowCapacity).map { Int32(truncatingIfNeeded: $0) })
                            var kernel = SGDKernel(
                                m: m, n: n, off: off, idx: idx, val: val, y: y, w: w, l1: l1, l2: l2,
                                adagrad: adagrad, inverseScaling: schedule == .inverseScaling, eta0: eta0,
                                inverseRootDelta: 1 / rootDelta, scaledEta0: eta0 / rootDelta,
                                rounding: roundingSeed(options.seed),
                                inverseRows: 1 / Double(max(m, 1)), l2PerRow: l2 / Double(max(m, 1)), l1PerRow: l1 / Double(max(m, 1)),
                                state: state.pointer, stride: stride,
                                acc: acc.pointer, mark: mark.pointer, batchResidual: batchResidual.pointer,
                                batchGradient: batchGradient.pointer, batchShare: batchShare.pointer,
                                touchedFlag: touchedFlag.pointer, touched: touched.pointer)
                            return epochs(&kernel, problem: problem, matrix: matrix, layouts: layouts, chunks: chunks,
                                          local: local.pointer, order: order.pointer, residual: residual.pointer, batch: batch,
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
        case let .finished(stop, epochs, x, objective):
            return finish(problem, x: x, stop: stop, epochs: epochs, clock: clock, setupSeconds: setupSeconds,
                          diagnostics: ["SGD: " + stepText], evaluation: objective.map { ($0, residual.array) })
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

    /// The (nonzero) starting state of AdaGrad's stochastic rounding (`SGDKernel.rounding`), from the solve's seed.
    static func roundingSeed(_ seed: UInt64) -> UInt64 {
        var mix = SplitMix64(seed: seed ^ 0x5EED_AD4A_6AD5_0000)
        return max(mix.next(), 1)
    }

    /// The epoch loop: shuffle, steps, then one objective evaluation, progress and the stop tests.
    ///
    /// Rows reach the steps through chunks (see `SGDRows`). With one worker, or when a batch might not
    /// fit a chunk, each chunk is laid out and copied right before its steps (a batch too big for the
    /// chunk is stepped in place, reading A). Otherwise a helper works ahead, beside the steps: while
    /// chunk c is stepped, chunk c+2 is laid out (after shuffling, when it opens the next epoch: the
    /// seeded generator is only ever used for shuffles, so it draws the same numbers) and chunk c+1 is
    /// copied, in blocks the helper takes first and the steps' thread takes once its steps are done
    /// (`SGDTaskCounter`). That takes two chunks and three layouts; the steps read the same rows in the
    /// same order either way, so x is identical.
    static func epochs(_ k: inout SGDKernel, problem: LeastSquaresProblem, matrix: SGDRows, layouts: [SGDLayout], chunks: [SGDChunk],
                       local: UnsafeMutableBufferPointer<Int32>, order: UnsafeMutableBufferPointer<Int32>,
                       residual: UnsafeMutableBufferPointer<Double>,
                       batch: Int, epochLimit: Int, options: SolverOptions, clock: SolveClock,
                       start f0: Double, reference: Double, floor: Double) -> SGDEnd {
        let m = k.m
        var rng = SplitMix64(seed: options.seed)
        var x = [Double](repeating: 0, count: k.n)
        var best = f0
        var stalled = 0
        var throttle = ProgressThrottle()
        let burnIn = epochLimit > 1 ? 1 : 0
        var last: Double?

        func returned(_ k: inout SGDKernel) -> [Double] {
            if k.averaging && k.averagedSteps > 0 { k.average(into: &x) } else { k.current(into: &x) }
            return x
        }
        // Fisher–Yates shuffle of the row order.
        func shuffle() {
            var i = m
            while i > 1 {
                let pick = Int(rng.next() % UInt64(i))
                i -= 1
                order.swapAt(i, pick)
            }
        }
        // Before an epoch's steps: the clock, and the start of averaging after the burn-in.
        func begin(_ epoch: Int, _ k: inout SGDKernel) -> SGDEnd? {
            if let stop = clock.interruption() { return .finished(stop, epochs: epoch - 1, x: returned(&k), objective: nil) }
            if options.averaging && epoch == burnIn + 1 { k.startAveraging() }
            return nil
        }
        // An epoch's f (of the iterate in `x`, residual in `residual`): progress and the stop tests.
        func conclude(_ epoch: Int, f: Double, residualNorm: Double) -> SGDEnd? {
            last = f
            if !f.isFinite || f > divergenceFactor * reference { return .diverged(epoch: epoch, objective: f) }
            if throttle.due(clock.elapsed, force: epoch == epochLimit) {
                clock.report(epoch, objective: f, residualNorm: residualNorm, fraction: Double(epoch) / Double(epochLimit))
            }
            if let stop = clock.interruption() { return .finished(stop, epochs: epoch, x: x, objective: last) }
            // Stalled: the best objective improved by less than tolerance·f.
            if options.tolerance > 0 && best - f < options.tolerance * max(f, floor) { stalled += 1 } else { stalled = 0 }
            best = min(best, f)
            if stalled >= stallPatience { return .finished(.objectiveStalled, epochs: epoch, x: x, objective: last) }
            if epoch == epochLimit { return .finished(.iterationLimit, epochs: epoch, x: x, objective: last) }
            return nil
        }
        // After an epoch's steps: f of the returned iterate, then `conclude`.
        func end(_ epoch: Int, _ k: inout SGDKernel) -> SGDEnd? {
            let iterate = returned(&k)
            let (f, residualNorm) = evaluate(problem, iterate, into: residual)
            return conclude(epoch, f: f, residualNorm: residualNorm)
        }
        func interrupted(_ outcome: SGDStepOutcome, _ epoch: Int, _ k: inout SGDKernel) -> SGDEnd? {
            switch outcome {
            case .done: return nil
            case .diverged: return .diverged(epoch: epoch, objective: nil)
            case let .interrupted(stop): return .finished(stop, epochs: epoch - 1, x: returned(&k), objective: nil)
            }
        }

        guard layouts.count >= 3, chunks.count >= 2, m > 0 else {
            // One chunk at a time.
            let layout = layouts[0], chunk = chunks[0]
            for epoch in 1...epochLimit {
                if let result = begin(epoch, &k) { return result }
                shuffle()
                var position = 0
                var sinceCheck = 0
                while position < m {
                    let rowList: UnsafeMutableBufferPointer<Int32>
                    let count: Int
                    let gathered = layout.layout(matrix, order: order, from: position, batch: batch)
                    if gathered > 0 {
                        chunk.copyAll(matrix, layout)
                        k.read(chunk.rows(layout))
                        count = gathered
                        rowList = UnsafeMutableBufferPointer(rebasing: local[0..<count])
                    } else {
                        // One batch too big for the chunk: stepped in place, reading A's rows.
                        k.read(matrix)
                        count = min(batch, m - position)
                        rowList = UnsafeMutableBufferPointer(rebasing: order[position..<(position + count)])
                    }
                    let outcome = steps(&k, rowList, count: count, batch: batch, clock: clock, sinceCheck: &sinceCheck)
                    if let result = interrupted(outcome, epoch, &k) { return result }
                    position += count
                }
                if let result = end(epoch, &k) { return result }
            }
            return .finished(.iterationLimit, epochs: epochLimit, x: returned(&k), objective: last)
        }

        // Pipelined: chunk c uses layouts[c % 3] and chunks[c % 2]; every layout holds ≥ 1 batch.
        // The chunk after the one laid out in `layout` (epoch `epoch`): its epoch and first position.
        func following(_ layout: SGDLayout, epoch: Int) -> (epoch: Int, position: Int)? {
            let position = layout.first + layout.rows
            if position < m { return (epoch, position) }
            return epoch < epochLimit ? (epoch + 1, 0) : nil
        }
        var epoch = 1
        if let result = begin(1, &k) { return result }
        shuffle()
        var shuffledFor = 1
        layouts[0].layout(matrix, order: order, from: 0, batch: batch)
        chunks[0].copyAll(matrix, layouts[0])
        var upcoming = following(layouts[0], epoch: 1)
        if let slot = upcoming {
            if slot.epoch != shuffledFor { shuffle(); shuffledFor = slot.epoch }
            layouts[1].layout(matrix, order: order, from: slot.position, batch: batch)
        }
        let tasks = SGDTaskCounter()
        // The objective of an epoch's iterate is computed during the next epoch, in blocks of rows the
        // helper takes when it has nothing else to do (the steps' thread never waits for them); that
        // epoch's stop tests run when the last block is done, at the latest when the next epoch ends.
        let blocks = Parallelism.balancedRanges(offsets: matrix.off, outerCount: m, parts: 32 * Parallelism.workerCount)
        let sums = ScratchBuffer(repeating: 0.0, count: 2 * blocks.count)
        var pending: Int?          // the epoch whose iterate (in `x`) awaits its objective
        var evaluated = 0          // its blocks handed out so far
        func evaluateBlock(_ b: Int) {
            x.withUnsafeBufferPointer { xp in
                let (loss, squares) = residualBlock(matrix, xp, rows: blocks[b], into: residual)
                sums.pointer[2 * b] = loss
                sums.pointer[2 * b + 1] = squares
            }
        }
        // The pending epoch's stop tests, after evaluating the blocks not handed out yet.
        func settle() -> SGDEnd? {
            guard let epoch = pending else { return nil }
            let first = evaluated
            if first < blocks.count { Parallelism.run(blocks.count - first) { t in evaluateBlock(first + t) } }
            pending = nil
            var loss = 0.0, squares = 0.0
            for b in 0..<blocks.count {
                loss += sums.pointer[2 * b]
                squares += sums.pointer[2 * b + 1]
            }
            return conclude(epoch, f: objective(problem, x, loss: loss), residualNorm: squares.squareRoot())
        }
        var sinceCheck = 0
        var c = 0
        while true {
            // Chunk c is copied; chunk c+1, if any (`upcoming`), is laid out.
            let layout = layouts[c % 3], chunk = chunks[c % 2]
            k.read(chunk.rows(layout))
            let rowList = UnsafeMutableBufferPointer(rebasing: local[0..<layout.rows])
            var outcome = SGDStepOutcome.done
            if let slot = upcoming {
                let nextLayout = layouts[(c + 1) % 3], nextChunk = chunks[(c + 1) % 2], afterLayout = layouts[(c + 2) % 3]
                let after = following(nextLayout, epoch: slot.epoch)
                // Tasks of this phase: laying out chunk c+2 (task 0, the biggest, so the helper takes it
                // first), copying chunk c+1 in blocks of rows, then the pending objective's blocks, which
                // only the helper takes, until the steps' thread is done.
                let rows = nextLayout.rows
                let pieces = max(1, min(16, rows / 64))
                let evaluations = pending == nil ? 0 : blocks.count - evaluated
                tasks.reset(required: pieces + 1, optional: evaluations)
                let firstBlock = evaluated
                func run(_ task: Int) {
                    if task == 0 {
                        if let after {
                            if after.epoch != shuffledFor { shuffle(); shuffledFor = after.epoch }
                            afterLayout.layout(matrix, order: order, from: after.position, batch: batch)
                        }
                    } else if task <= pieces {
                        let b = task - 1
                        nextChunk.copy(matrix, nextLayout, rows: (rows * b / pieces)..<(rows * (b + 1) / pieces))
                    } else {
                        evaluateBlock(firstBlock + task - pieces - 1)
                    }
                }
                runConcurrently({
                    outcome = steps(&k, rowList, count: layout.rows, batch: batch, clock: clock, sinceCheck: &sinceCheck)
                    while let task = tasks.claimRequired() { run(task) }
                    tasks.close()
                }, {
                    while let task = tasks.claim() { run(task) }
                })
                evaluated += tasks.optionalClaimed
                upcoming = after
            } else {
                outcome = steps(&k, rowList, count: layout.rows, batch: batch, clock: clock, sinceCheck: &sinceCheck)
            }
            if let result = interrupted(outcome, epoch, &k) { return result }
            if pending != nil && evaluated == blocks.count, let result = settle() { return result }
            if layout.first + layout.rows >= m {
                if let result = settle() { return result }
                // This epoch's iterate into `x`; its objective now if it is the last epoch, else beside the next.
                _ = returned(&k)
                pending = epoch
                evaluated = 0
                if epoch == epochLimit, let result = settle() { return result }
                epoch += 1
                sinceCheck = 0
                if let result = begin(epoch, &k) { return result }
            }
            c += 1
        }
    }

    /// Whether a helper gathers chunks ahead of the steps: two or more workers, and every batch fits a chunk.
    static func pipelinedGathering(m: Int, batch: Int, longestRow: Int, rowCapacity: Int, nonzeroCapacity: Int) -> Bool {
        Parallelism.workerCount > 1 && m > 0 && batch <= rowCapacity && batch * longestRow <= nonzeroCapacity
    }

    /// Upper bound on the bytes of the layouts, chunks and local row list (three and two when pipelined):
    /// per layout 20 bytes a row, per chunk 12 a nonzero and 16 a row, 4 a row for the list.
    static func chunkBytes(m: Int, nnz: Int, batch: Int, chunkRows: Int, chunkNonzeros: Int) -> Double {
        let rows = Double(max(min(m, chunkRows), batch)), nonzeros = Double(min(nnz, chunkNonzeros))
        let copies = Parallelism.workerCount > 1 ? 2.0 : 1.0
        return (copies + 1) * (rows + 1) * 20 + copies * (nonzeros * 12 + rows * 16) + rows * 4
    }

    /// Steps over the first `count` rows of `rowList` (rows of what the kernel reads), in batches;
    /// checks the clock every 4096 rows.
    static func steps(_ k: inout SGDKernel, _ rowList: UnsafeMutableBufferPointer<Int32>, count: Int, batch: Int,
                      clock: SolveClock, sinceCheck: inout Int) -> SGDStepOutcome {
        var first = 0
        // Each step prefetches x at the coordinates of the rows two batches on (`SGDKernel.prefetch(row:)`).
        let ahead = 2 * batch
        while first < count {
            let last = min(first + batch, count)
            var r = first + ahead
            while r < min(last + ahead, count) {
                k.prefetch(row: Int(rowList[r]))
                r += 1
            }
            let rows = UnsafeBufferPointer(rebasing: rowList[first..<last])
            let ok: Bool
            if k.adagrad {
                ok = rows.count == 1 ? k.adagradStep(rows) : k.adagradBatchStep(rows)
            } else {
                ok = k.globalStep(rows)
            }
            if !ok { return .diverged }
            sinceCheck += rows.count
            if sinceCheck >= 4096 {
                sinceCheck = 0
                if let stop = clock.interruption() { return .interrupted(stop) }
            }
            first = last
        }
        return .done
    }

    /// rᵢ = yᵢ − aᵢᵀx (unweighted) for the rows `rows` of `a` into `r`; returns Σ wᵢrᵢ² and Σ rᵢ² over them.
    static func residualBlock(_ a: SGDRows, _ x: UnsafeBufferPointer<Double>, rows: Range<Int>,
                              into r: UnsafeMutableBufferPointer<Double>) -> (loss: Double, squares: Double) {
        var loss = 0.0, squares = 0.0
        for i in rows {
            let ri = a.y[i] - sparseDot(a.off[i]..<a.off[i + 1], a.idx, a.val, x)
            r[i] = ri
            squares += ri * ri
            loss += a.w.isEmpty ? ri * ri : a.w[i] * ri * ri
        }
        return (loss, squares)
    }

    /// f(x) = ½·loss + λ₁‖x‖₁ + ½λ₂‖x‖², with loss = Σ wᵢrᵢ².
    static func objective(_ problem: LeastSquaresProblem, _ x: [Double], loss: Double) -> Double {
        var l1 = 0.0, l2 = 0.0
        for v in x {
            l1 += abs(v)
            l2 += v * v
        }
        let reg = problem.regularization
        return 0.5 * loss + reg.l1 * l1 + 0.5 * reg.l2 * l2
    }

    /// f(x) and ‖y − A·x‖, with r = y − A·x (unweighted) into `r`: one SpMV, in 32 blocks of rows per
    /// worker handed out as threads come free (a worker the system does not schedule leaves its blocks
    /// to the others); the blocks' sums are added in order, as in the pipelined epochs.
    static func evaluate(_ problem: LeastSquaresProblem, _ x: [Double], into r: UnsafeMutableBufferPointer<Double>)
        -> (f: Double, residualNorm: Double) {
        let a = problem.matrix, m = problem.rowCount
        var loss = 0.0, squares = 0.0
        a.storage.offsets.withUnsafeBufferPointer { off in
            a.storage.indices.withUnsafeBufferPointer { idx in
                a.storage.values.withUnsafeBufferPointer { val in
                    problem.rhs.withUnsafeBufferPointer { y in
                        (problem.sampleWeights ?? []).withUnsafeBufferPointer { w in
                            x.withUnsafeBufferPointer { xp in
                                let rows = SGDRows(off: off, idx: idx, val: val, y: y, w: w)
                                let blocks = Parallelism.balancedRanges(offsets: off, outerCount: m, parts: 32 * Parallelism.workerCount)
                                let sums = ScratchBuffer(repeating: 0.0, count: 2 * blocks.count)
                                let workers = Parallelism.workers(forWork: a.nnz)
                                let run: (Int) -> Void = { b in
                                    let (l, q) = residualBlock(rows, xp, rows: blocks[b], into: r)
                                    sums.pointer[2 * b] = l
                                    sums.pointer[2 * b + 1] = q
                                }
                                if workers > 1 { Parallelism.run(blocks.count, run) } else { for b in 0..<blocks.count { run(b) } }
                                for b in 0..<blocks.count {
                                    loss += sums.pointer[2 * b]
                                    squares += sums.pointer[2 * b + 1]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (objective(problem, x, loss: loss), squares.squareRoot())
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
                       setupSeconds: Double, diagnostics: [String], evaluation: (f: Double, r: [Double])? = nil) -> Solution {
        let (f, r) = evaluation ?? evaluate(problem, x)
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
    /// `objective`: f(x), when the loop computed it; the residual buffer then holds y − A·x.
    case finished(StopReason, epochs: Int, x: [Double], objective: Double?)
    /// `objective` is nil when a residual went non-finite mid-epoch.
    case diverged(epoch: Int, objective: Double?)
}

/// What SGD needs to know about A before its first step, from one pass over A's rows:
///
/// ```
/// max_i wᵢ‖aᵢ‖²  and  Σᵢ wᵢ‖aᵢ‖²   (the default step and AdaGrad's δ),
/// c_j = nnz(column j)                (AdaGrad's share of the regulariser; c_j = 0 keeps x_j = 0),
/// ‖AᵀWy‖∞                            (x* = 0 when it is ≤ λ₁)
/// ```
/// Split over nnz-balanced row ranges; each range counts into its own column buffers, summed in order.
struct SGDSetup {
    var maxRowSquaredNorm = 0.0
    var squaredNormSum = 0.0
    /// The most nonzeros in a row.
    var longestRow = 0
    /// Empty unless asked for.
    var columnCounts: [Int32]
    var dualNorm = 0.0

    /// Row ranges: one per worker when the work pays for the extra column buffers.
    static func parts(nnz: Int, columns n: Int) -> Int {
        nnz < 4 * n ? 1 : Parallelism.workers(forWork: nnz)
    }

    init(_ problem: LeastSquaresProblem, counts countColumns: Bool = true, parts wanted: Int? = nil) {
        let a = problem.matrix
        let m = a.rowCount, n = a.columnCount, nnz = a.nnz
        let parts = max(1, min(wanted ?? SGDSetup.parts(nnz: nnz, columns: n), max(m, 1)))
        var counts = [Int32](repeating: 0, count: countColumns ? parts * n : 0)
        var aty = [Double](repeating: 0, count: parts * n)
        var maxima = [Double](repeating: 0, count: parts), sums = [Double](repeating: 0, count: parts)
        var longest = [Int](repeating: 0, count: parts)
        let weights = problem.sampleWeights ?? []
        a.storage.offsets.withUnsafeBufferPointer { off in
            a.storage.indices.withUnsafeBufferPointer { idx in
                a.storage.values.withUnsafeBufferPointer { val in
                    problem.rhs.withUnsafeBufferPointer { y in
                        weights.withUnsafeBufferPointer { w in
                            counts.withUnsafeMutableBufferPointer { cnt in
                                aty.withUnsafeMutableBufferPointer { g in
                                    maxima.withUnsafeMutableBufferPointer { mx in
                                        sums.withUnsafeMutableBufferPointer { sm in
                                          longest.withUnsafeMutableBufferPointer { lr in
                                            let ranges = Parallelism.balancedRanges(offsets: off, outerCount: m, parts: parts)
                                            Parallelism.run(ranges.count) { part in
                                                let base = part &* n
                                                var biggest = 0.0, total = 0.0, length = 0
                                                for i in ranges[part] {
                                                    length = max(length, off[i + 1] - off[i])
                                                    let wi = w.isEmpty ? 1 : w[i]
                                                    let wy = wi * y[i]
                                                    var sq = 0.0
                                                    for p in off[i]..<off[i + 1] {
                                                        let j = base &+ Int(idx[p])
                                                        let v = val[p]
                                                        sq += v * v
                                                        if countColumns { cnt[j] &+= 1 }
                                                        g[j] += wy * v
                                                    }
                                                    biggest = max(biggest, wi * sq)
                                                    total += wi * sq
                                                }
                                                mx[part] = biggest
                                                sm[part] = total
                                                lr[part] = length
                                            }
                                            // Sum the parts in order (column ranges on all cores), then ‖AᵀWy‖∞.
                                            if ranges.count > 1 {
                                                let chunk = (n + ranges.count - 1) / ranges.count
                                                Parallelism.run(ranges.count) { part in
                                                    for j in min(n, part * chunk)..<min(n, (part + 1) * chunk) {
                                                        for q in 1..<ranges.count {
                                                            if countColumns { cnt[j] &+= cnt[q &* n &+ j] }
                                                            g[j] += g[q &* n &+ j]
                                                        }
                                                    }
                                                }
                                            }
                                          }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        longestRow = longest.max() ?? 0
        for part in 0..<parts {
            maxRowSquaredNorm = max(maxRowSquaredNorm, maxima[part])
            squaredNormSum += sums[part]
        }
        for j in 0..<n { dualNorm = max(dualNorm, abs(aty[j])) }
        if countColumns { counts.removeLast(counts.count - n) }
        columnCounts = counts
    }
}

/// How a run of steps ended.
enum SGDStepOutcome {
    case done
    /// A residual went non-finite or beyond 10¹⁵⁰.
    case diverged
    case interrupted(StopReason)
}

/// The tasks of one pipelined phase, handed out one at a time under a lock: the helper takes them from
/// the start of the phase, the steps' thread once its steps are done. Who does a task never changes its
/// result, only when it is done: a helper the system does not schedule leaves its tasks to the steps'
/// thread instead of stalling it, and the two finish together without any timing model.
final class SGDTaskCounter {
    private let lock = NSLock()
    private var next = 0
    private var required = 0
    private var count = 0
    private var closed = false

    /// Starts a phase: `required` tasks both threads take, then `optional` ones only the helper takes
    /// until `close` (called while no task is being claimed).
    func reset(required: Int, optional: Int) {
        lock.lock()
        next = 0
        self.required = required
        count = required + optional
        closed = false
        lock.unlock()
    }

    /// The next task for the helper, or nil when all are taken or the phase is closed.
    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count, !closed || next < required else { return nil }
        next += 1
        return next - 1
    }

    /// The next required task for the steps' thread, or nil when they are all taken.
    func claimRequired() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < required else { return nil }
        next += 1
        return next - 1
    }

    /// No optional task is handed out any more (the helper finishes the one it has).
    func close() {
        lock.lock()
        closed = true
        lock.unlock()
    }

    /// Optional tasks handed out in this phase (all done once the phase's threads have returned).
    var optionalClaimed: Int {
        lock.lock()
        defer { lock.unlock() }
        return max(0, next - required)
    }
}
