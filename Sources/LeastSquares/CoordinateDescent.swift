// LeastSquares/CoordinateDescent: exact coordinate minimisation (lasso, elastic net, ridge, least squares) with r = y − A·x kept current.
import SparseTensor

/// Coordinate descent for
///
/// ```
/// f(x) = ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖²        (½Σ wᵢ(yᵢ − aᵢᵀx)² with sample weights)
/// ```
///
/// Sample weights are folded in: Ã = W^{1/2}·A, ỹ = W^{1/2}·y, so f is the unweighted objective of
/// (Ã, ỹ). Each step minimises f exactly along one coordinate
/// (Friedman, Hastie & Tibshirani 2010, "Regularization paths for GLMs via coordinate descent"):
///
/// ```
/// x_j ← S(‖ã_j‖²·x_j + ã_jᵀr, λ₁) / (‖ã_j‖² + λ₂),    r ← r − Δx_j·ã_j,    S(z, t) = sign(z)·max(|z| − t, 0)
/// ```
/// at O(nnz(ã_j)) cost; ‖ã_j‖² (the diagonal of ÃᵀÃ) is computed once, and columns with ã_j = 0
/// keep x_j = 0. With λ₁ = 0 this is Gauss–Seidel on the (ridge) normal equations.
///
/// **Where the columns come from** (`CDColumnPool`). Updates read columns, but A arrives in rows.
/// The passes over A (the first one, which takes ‖ã_j‖² and Ãᵀỹ, and the gradients Ãᵀr) read A's
/// rows in place, on all cores; with L1 a gradient is Ãᵀỹ − Ãᵀ(Ãx) and reads only the rows that meet
/// a column with x_j ≠ 0; a column is copied out of A (into a pool, in CSC form) only when it first
/// enters a working set, all of an outer iteration's new columns in one scan of A. A lasso solve
/// thus never converts all of A to CSC; ridge and least squares, whose working set is every
/// column, copy every column once, at the start.
///
/// **Working sets and screening (λ₁ > 0).** An outer iteration computes ĝ = Ãᵀr − λ₂x on every
/// column (one pass over the rows that meet the support), the duality gap, and then
/// - discards the columns the gap-safe sphere test proves inactive (Fercoq, Gramfort & Salmon 2015;
///   Ndiaye, Fercoq, Gramfort & Salmon 2017): they are never updated again and leave the candidates;
/// - picks a working set: the support of x plus the zero columns nearest to violating their dual
///   constraint, max(100, 2·nnz(x), nnz(x) + number of KKT violators |ĝ_j| > λ₁, at most
///   max(n/32, 2·nnz(x)) of those) columns in all (Massias,
///   Gramfort & Salmon 2018, "Celer", who double 2·nnz(x) from 10; taking the violators at once
///   saves the outer O(nnz) passes that doubling from a small set would cost), and copies its new
///   columns out of A, with as many runner-ups (the next candidates, at most n/16) in the same scan;
///   when every violator is in the pool already, the set is filled from the pool and no scan is made;
/// - runs passes over the working set until its own gap is below the sub-target: Celer's 0.3× the
///   outer gap (never below half the target) — but an outer iteration costs two scans of A, so while
///   the passes since the last one cost less than that (in nonzeros read) the subproblem is solved on,
///   to half the target. To half the target at once when the working set holds every column still in
///   play, or when no column outside the previous working set violates its KKT condition. The sub-gap
///   is checked when a pass decreases f by less than the sub-target, or every 10 passes. A solved
///   subproblem whose support fills more than half its working set takes the runner-ups in and goes
///   on (`extendSaturatedWorkingSet`): Celer's next set would be twice the support, and this one is
///   had without a gradient pass or a scan.
/// A 98%-sparse solution is thus found while passes touch mostly the active columns: on the seed-shaped
/// benchmark (200k × 100k, nnz 4M, λ₁ = 0.1·λmax) in 2 outer iterations: one full pass over A for
/// ‖ã_j‖² and Ãᵀỹ, one gradient over the rows that meet the support and one scan for copies, with
/// 2.3k of the 100k columns ever updated (1174 violators at x = 0, grown by as many; a support of 1145).
///
/// **Determinism.** The same options (and `seed`) on the same machine and number of workers give the
/// identical x. The O(nnz) passes add the parts of A's rows in a fixed order, but the parts follow the
/// worker count (`LSQ_THREADS`), and the first pass's split follows the cache size
/// (`CDColumnPool.prepare`), so across those ĝ can differ in its last bits, and x within the tolerance.
///
/// **Stopping.** Stop when `gap ≤ tolerance·max(f(x), floor)`, floor = max(tolerance·½‖ỹ‖², tiny) (the
/// floor makes a consistent system, f → 0, stop at ‖r‖ ≈ tolerance·‖ỹ‖ like LSQR's btol). The gap is
///
/// - λ₁ > 0 (lasso, elastic net): the true gap P(x) − D(θ) of the feasible dual point obtained by the
///   standard rescaling θ = s·r̂, s = min(1, λ₁/‖Âᵀr̂‖∞), in the augmented formulation
///   Â = [Ã; √λ₂·I], ŷ = [ỹ; 0], r̂ = ŷ − Âx, for which f(x) = ½‖ŷ − Âx‖² + λ₁‖x‖₁. Screened
///   columns are included in the reported gap (they can only shrink s, never break feasibility).
/// - λ₁ = 0, λ₂ > 0 (ridge): the true gap of θ = r in the ridge dual, which is ‖Ãᵀr − λ₂x‖²/(2λ₂).
/// - λ₁ = λ₂ = 0 (plain least squares, no bounded dual gap without a projection onto null(Ãᵀ)):
///   the surrogate ½Σ_j (ã_jᵀr)²/‖ã_j‖², the decrease one Jacobi sweep would promise. The stop
///   reason is then `.optimalityTolerance` and the report's `dualityGap` is nil.
///
/// Progress samples (at most every 50 ms, the first always) carry f and the weighted ‖ỹ − Ãx‖ after
/// a pass; cancellation and the time limit are checked after every pass and every ≤ 4096 coordinates.
/// Epochs (`SolveReport.iterations`) count passes over the working set; the outer O(nnz) passes
/// over A are extra. The limit is `options.epochs ?? 1000`. The order within a pass is by column
/// index (`.cyclic`) or a fresh seeded shuffle per pass (`.random`, `options.seed`).
public enum CoordinateDescent {
    /// The smallest working set (columns).
    static let minimumWorkingSet = 100

    /// Solves the problem by coordinate descent; see the type's documentation.
    ///
    /// - Returns: x and a report: `iterations` = epochs, `dualityGap` = the gap described above
    ///   (nil for plain least squares), `optimalityNorm` = ‖AᵀW r − λ₂x‖₂, `residualNorm` = ‖y − A·x‖₂
    ///   (unweighted), `diagnostics` = working-set and screening counts.
    /// - Throws: `.invalidOption` for a negative or non-finite tolerance, `epochs < 1` or a negative
    ///   memory budget; `.sparse(.exceedsMemoryBudget)` when the work vectors do not fit (with ridge and
    ///   least squares: with the CSC copy of A), or, later, when the working-set columns outgrow the budget.
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        var statistics = CDStatistics()
        return try solve(problem, options: options, control: control, statistics: &statistics)
    }

    /// `solve` that also fills in `statistics` (tests look at how many columns were touched), with the
    /// number of row ranges of the passes over A as a parameter (tests split small matrices too).
    static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl,
                      statistics: inout CDStatistics, parts: Int? = nil, runnerUps: Bool = true) throws(SolverError) -> Solution {
        try IterativeOptionCheck.common(options)
        let clock = SolveClock(control)
        let m = problem.rowCount, n = problem.columnCount, nnz = problem.matrix.nnz
        let reg = problem.regularization
        // The pool's bookkeeping and scatter buffers per column (`CDColumnPool.fixedBytes`); x, ‖ã_j‖²,
        // ĝ, ãᵀỹ, the keys (8 bytes each), flags (1), working set (4) per column; r (and ỹ, √w) and the
        // sparse scatter's row list (4, with L1) per row.
        // The pool itself is checked as it grows; ridge and least squares copy every column at once.
        let parts = max(1, min(parts ?? CDColumnPool.parts(nnz: nnz, columns: n), max(m, 1)))
        let fixed = CDColumnPool.fixedBytes(columns: n, parts: parts) + Double(n) * (5 * 8 + 1 + 4)
            + Double(m) * ((problem.sampleWeights == nil ? 8 : 24) + (reg.l1 > 0 ? 4 : 0))
        let upfront = fixed + (reg.l1 > 0 ? 0 : Double(nnz) * CDColumnPool.bytesPerEntry)
        try IterativeOptionCheck.checkMemory(upfront, for: "coordinate descent (work vectors" + (reg.l1 > 0 ? ")" : " and A in CSC)"),
                                             options: options)

        // Setup: ỹ = W^{1/2}·y; ‖ã_j‖² and ãᵀỹ in one pass over A (`CDColumnPool.prepare`).
        // ỹ = W^{1/2}·y (y itself when unweighted). Buffers written before they are read are not zero-filled.
        let rootWeights = ScratchBuffer((problem.sampleWeights ?? []).map { $0.squareRoot() })
        let weightedY = ScratchBuffer<Double>(uninitializedCount: problem.sampleWeights == nil ? 0 : m)
        for i in 0..<weightedY.count { weightedY.pointer[i] = problem.rhs[i] * rootWeights.pointer[i] }
        let colSq = ScratchBuffer<Double>(uninitializedCount: n)
        let score = ScratchBuffer<Double>(uninitializedCount: n)
        let cy = ScratchBuffer<Double>(uninitializedCount: n)
        let x = problem.initialGuess.map { ScratchBuffer($0) } ?? ScratchBuffer(repeating: 0.0, count: n)
        let r = ScratchBuffer<Double>(uninitializedCount: m)
        let grad = ScratchBuffer<Double>(uninitializedCount: n)
        let status = ScratchBuffer(repeating: UInt8(0), count: n)
        let ws = ScratchBuffer<Int32>(uninitializedCount: n)
        let budget = IterativeOptionCheck.budget(options)

        let result: Result<CDOutcome, SolverError> = problem.matrix.storage.offsets.withUnsafeBufferPointer { off in
            problem.matrix.storage.indices.withUnsafeBufferPointer { idx in
                problem.matrix.storage.values.withUnsafeBufferPointer { val in
                  problem.rhs.withUnsafeBufferPointer { rhs in
                    let y = problem.sampleWeights == nil ? rhs : UnsafeBufferPointer(weightedY.pointer)
                    let a = CDRows(m: m, n: n, off: off, idx: idx, val: val, rootWeights: UnsafeBufferPointer(rootWeights.pointer))
                    let pool = CDColumnPool(a, parts: parts, sparseScatters: reg.l1 > 0, budget: budget, fixedBytes: fixed)
                    pool.prepare(a, y: y, squaredNorms: colSq.pointer, dotY: cy.pointer)
                    statistics.setupSeconds = clock.elapsed
                    var kernel = CDKernel(a: a, pool: pool, l1: reg.l1, l2: reg.l2, y: y, x: x.pointer, r: r.pointer,
                                          colSq: colSq.pointer, cy: cy.pointer, grad: grad.pointer, score: score.pointer,
                                          status: status.pointer, ws: ws.pointer)
                    kernel.takesRunnerUps = runnerUps
                    do throws(SolverError) {
                        return .success(try iterate(&kernel, options: options, clock: clock, statistics: &statistics))
                    } catch {
                        return .failure(error)
                    }
                  }
                }
            }
        }
        let outcome = try result.get()
        let setupSeconds = statistics.setupSeconds
        statistics.everInWorkingSet = status.pointer.reduce(0) { $0 + ($1 & CDColumn.everInWorkingSet != 0 ? 1 : 0) }
        statistics.screenedColumns = status.pointer.reduce(0) { $0 + ($1 & CDColumn.screened != 0 ? 1 : 0) }

        let solution = x.array
        var residualNorm = outcome.weightedResidualNorm
        if problem.sampleWeights != nil { residualNorm = DenseVector.norm(problem.residual(solution)) }
        let report = SolveReport(
            solver: .cd, iterations: outcome.epochs, stopReason: outcome.stop,
            objective: outcome.objective, residualNorm: residualNorm,
            optimalityNorm: outcome.certificate.gradientNorm,
            dualityGap: (reg.l1 > 0 || reg.l2 > 0) ? outcome.certificate.gap : nil,
            nnzX: solution.reduce(0) { $0 + ($1 != 0 ? 1 : 0) },
            setupSeconds: setupSeconds, solveSeconds: clock.elapsed - setupSeconds,
            diagnostics: statistics.diagnostics(columns: n))
        return Solution(x: solution, report: report)
    }

    /// The outer loop: gap and screening on all columns, then passes over a working set.
    static func iterate(_ k: inout CDKernel, options: SolverOptions, clock: SolveClock,
                        statistics: inout CDStatistics) throws(SolverError) -> CDOutcome {
        let n = k.n
        let epochLimit = options.epochs ?? 1000
        let tolerance = options.tolerance
        var rng = SplitMix64(seed: options.seed)
        var throttle = ProgressThrottle()

        // Columns with ã_j = 0 keep x_j = 0.
        for j in 0..<n where k.colSq[j] == 0 {
            k.status[j] |= CDColumn.excluded
            k.x[j] = 0
        }
        // ãᵀỹ (from `prepare`) gives the zero-solution test: x* = 0 iff ‖Ãᵀỹ‖∞ ≤ λ₁.
        let ySq = sumOfSquares(k.y)
        let floor = max(tolerance * 0.5 * ySq, Double.leastNormalMagnitude)
        var dualNorm0 = 0.0
        for j in 0..<n { dualNorm0 = max(dualNorm0, abs(k.cy[j])) }
        if k.l1 > 0 ? dualNorm0 <= k.l1 : dualNorm0 == 0 {
            for j in 0..<n { k.x[j] = 0 }
            let certificate = k.evaluateAll()
            return CDOutcome(stop: .zeroSolution, epochs: 0, certificate: certificate, objective: k.primal,
                             weightedResidualNorm: k.rSq.squareRoot())
        }
        // A warm start's nonzero columns are needed for r = ỹ − Ãx.
        var warm: [Int32] = []
        for j in 0..<n where k.x[j] != 0 { warm.append(Int32(truncatingIfNeeded: j)) }
        try k.copyColumns(warm)

        var epochs = 0
        var stop: StopReason = .iterationLimit
        var final: CDCertificate?
        var allColumnsBuilt = false
        let leastSquares = k.l1 == 0 && k.l2 == 0
        outer: while true {
            statistics.outerIterations += 1
            // Exact r, ĝ on every column, and the gap of the whole problem. At the start from x = 0,
            // ĝ = Ãᵀỹ is already known (the keys of the working sets overwrite it later).
            k.recomputeResidual()
            if k.xL1 == 0 && statistics.workingSetSizes.isEmpty {
                _ = k.grad.update(fromContentsOf: k.cy)
            } else {
                k.fullGradient()
                statistics.fullPasses += 1
            }
            let whole = k.certificate(columns: k.columns(forbidden: CDColumn.excluded), rSq: k.rSq)
            let target = tolerance * max(k.primal, floor)
            if whole.gap <= target {
                final = whole
                stop = leastSquares ? .optimalityTolerance : .dualityGap
                break outer
            }
            if epochs >= epochLimit { stop = .iterationLimit; break outer }
            if let interruption = clock.interruption() { stop = interruption; break outer }

            // Whether the last working set was right: no column outside it violates its KKT condition.
            var settled = false
            var covers = true
            if k.l1 > 0 {
                let refresh = k.refreshWorkingSet(scale: whole.scale, gap: whole.gap, minimumSize: minimumWorkingSet)
                settled = statistics.outerIterations > 1 && refresh.violatorsOutside == 0 && refresh.violatorsBeyondCap == 0
                statistics.violatorsLeftOut.append(refresh.violatorsLeftOut)
                if statistics.firstWorkingSet.isEmpty { statistics.firstWorkingSet = Array(k.ws[0..<k.wsCount]) }
                if refresh.changedX { k.recomputeResidual() }
                covers = k.wsCount == refresh.inPlay
            } else if !allColumnsBuilt {
                k.workingSetOfAllColumns()
                allColumnsBuilt = true
            }
            // Columns new to the pool are copied out (one scan of A for all of them).
            var fresh: [Int32] = []
            for t in 0..<k.wsCount where !k.pool.holds(Int(k.ws[t])) { fresh.append(k.ws[t]) }
            if !fresh.isEmpty {
                // The runner-ups ride along (the scan costs the same); without a scan they stay out. When the
                // copy does not fit the memory budget, they are dropped instead of the solve, and so are the
                // earlier rounds' runner-ups that never entered a working set.
                let speculative = k.runnerUps.filter { !k.pool.holds(Int($0)) }
                do {
                    try k.copyColumns(fresh + speculative)
                    statistics.copiedColumns.append(fresh.count + speculative.count)
                } catch {
                    k.runnerUps = []
                    let compacted = k.dropUnusedPoolColumns()
                    if speculative.isEmpty && compacted == 0 { throw error }
                    statistics.copyPasses += 1
                    statistics.droppedRunnerUps += speculative.count + compacted
                    try k.copyColumns(fresh)
                    statistics.copiedColumns.append(fresh.count)
                }
                statistics.copyPasses += 1
            }
            statistics.workingSetSizes.append(k.wsCount)
            // The subproblem's target. Celer's rule stops it at 0.3× the outer gap, so that the next outer
            // iteration can bring in the violators; but an outer iteration costs two scans of A (the
            // gradient, the copy of new columns), so while the passes since it cost less than that the
            // subproblem is solved on, to half the target. At once to half the target when the working
            // set holds every column in play, or when the last one brought in no new violator.
            let tight = 0.5 * target
            var subTarget = (covers || settled) ? tight : max(0.3 * whole.gap, tight)
            let outerWork = 2 * k.a.nnz
            var innerWork = 0
            var wsWork = k.workingSetEntries

            // Passes over the working set until its own certificate is below the sub-target.
            var sinceCheck = 0
            while epochs < epochLimit {
                if options.coordinateOrder == .random { k.shuffleWorkingSet(&rng) }
                let (decrease, interruption) = k.pass(clock: clock)
                epochs += 1
                innerWork += wsWork
                let now = clock.elapsed
                if throttle.due(now) {
                    clock.report(epochs, objective: k.primal, residualNorm: max(k.rSq, 0).squareRoot(),
                                 fraction: Double(epochs) / Double(epochLimit))
                }
                if let stopNow = interruption ?? clock.interruption() { stop = stopNow; break outer }
                sinceCheck += 1
                if decrease <= subTarget || sinceCheck >= 10 {
                    sinceCheck = 0
                    let sub: CDCertificate
                    if k.l1 > 0 {
                        k.workingSetGradient()
                        innerWork += wsWork
                        sub = k.certificate(columns: k.workingSetColumns(), rSq: k.rSq)
                    } else {
                        k.fullGradient()
                        statistics.fullPasses += 1
                        sub = k.certificate(columns: k.columns(forbidden: CDColumn.inactive), rSq: k.rSq)
                    }
                    if sub.gap <= subTarget {
                        if subTarget <= tight || innerWork >= outerWork {
                            // A saturated working set grows by its runner-ups, and the subproblem goes on.
                            let added = k.extendSaturatedWorkingSet()
                            if added == 0 { break }
                            statistics.extendedWorkingSets.append(added)
                            wsWork = k.workingSetEntries
                            sinceCheck = 0
                            continue
                        }
                        subTarget = tight
                    }
                }
            }
        }
        statistics.coordinateVisits = k.visits
        let certificate = final ?? k.evaluateAll()
        return CDOutcome(stop: stop, epochs: epochs, certificate: certificate, objective: k.primal,
                         weightedResidualNorm: max(k.rSq, 0).squareRoot())
    }
}

/// How the outer loop ended.
struct CDOutcome {
    var stop: StopReason
    var epochs: Int
    /// Of the returned x, with r recomputed exactly and every nonzero column included.
    var certificate: CDCertificate
    var objective: Double
    /// ‖ỹ − Ãx‖.
    var weightedResidualNorm: Double
}

/// What a CD solve touched (for tests and the report's diagnostics).
struct CDStatistics {
    /// Gap evaluations over all columns in play.
    var outerIterations = 0
    /// Coordinate visits (updates attempted) over all passes.
    var coordinateVisits = 0
    /// Size of each working set.
    var workingSetSizes: [Int] = []
    /// Columns that were in at least one working set (the only ones ever updated).
    var everInWorkingSet = 0
    /// Columns the gap-safe rule removed.
    var screenedColumns = 0
    /// KKT violators each working set left out (`CDRefresh.violatorsLeftOut`).
    var violatorsLeftOut: [Int] = []
    /// Columns added to saturated working sets (`CDKernel.extendSaturatedWorkingSet`).
    var extendedWorkingSets: [Int] = []
    /// The first working set (l1 > 0), and the columns each successful copy scan took.
    var firstWorkingSet: [Int32] = []
    var copiedColumns: [Int] = []
    /// Runner-ups left out of a copy, or dropped from the pool, to fit the memory budget (columns).
    /// `copyPasses` counts the copies attempted, a refused attempt before such a drop included.
    var droppedRunnerUps = 0
    /// Passes over A: gradients Ãᵀr (besides the first pass, which takes ‖ã_j‖² and Ãᵀỹ; with L1 they
    /// read only the rows that meet the support), and scans that copy new working-set columns out.
    var fullPasses = 0
    var copyPasses = 0
    /// Seconds until the first pass was done.
    var setupSeconds = 0.0

    func diagnostics(columns n: Int) -> [String] {
        guard outerIterations > 0 else { return [] }
        return ["coordinate descent: \(outerIterations) outer iterations, working sets of \(workingSetSizes.map(String.init).joined(separator: ", ")) columns; "
                + "\(everInWorkingSet) of \(n) columns ever updated, \(screenedColumns) screened out by the gap-safe rule; "
                + "\(1 + fullPasses) gradient passes and \(copyPasses) column-copy scans over A"
                + (extendedWorkingSets.isEmpty ? "" : "; saturated working sets grown by \(extendedWorkingSets.map(String.init).joined(separator: ", ")) columns")]
    }
}
