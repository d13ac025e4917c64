// LeastSquares/CoordinateDescent: exact coordinate minimisation (lasso, elastic net, ridge, least squares) on CSC with r = y − A·x kept current.
import SparseTensor

/// Coordinate descent for
///
/// ```
/// f(x) = ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖²        (½Σ wᵢ(yᵢ − aᵢᵀx)² with sample weights)
/// ```
///
/// Sample weights are folded in once: Ã = W^{1/2}·A (converted to CSC once, in parallel: `CDColumns`), ỹ = W^{1/2}·y, so
/// f is the unweighted objective of (Ã, ỹ). Each step minimises f exactly along one coordinate
/// (Friedman, Hastie & Tibshirani 2010, "Regularization paths for GLMs via coordinate descent"):
///
/// ```
/// x_j ← S(‖ã_j‖²·x_j + ã_jᵀr, λ₁) / (‖ã_j‖² + λ₂),    r ← r − Δx_j·ã_j,    S(z, t) = sign(z)·max(|z| − t, 0)
/// ```
/// at O(nnz(ã_j)) cost; ‖ã_j‖² (the diagonal of ÃᵀÃ) is computed once, and columns with ã_j = 0
/// keep x_j = 0. With λ₁ = 0 this is Gauss–Seidel on the (ridge) normal equations.
///
/// **Working sets and screening (λ₁ > 0).** An outer iteration computes ĝ = Ãᵀr − λ₂x on every
/// column still in play (one O(nnz) pass, on all cores), the duality gap, and then
/// - discards the columns the gap-safe sphere test proves inactive (Fercoq, Gramfort & Salmon 2015;
///   Ndiaye, Fercoq, Gramfort & Salmon 2017): they are never visited again;
/// - picks a working set: the support of x plus the zero columns nearest to violating their dual
///   constraint, max(100, 2·nnz(x), number of KKT violators |ĝ_j| > λ₁) columns in all (Massias,
///   Gramfort & Salmon 2018, "Celer", who double 2·nnz(x) from 10; taking every violator at once
///   saves the outer O(nnz) passes that doubling from a small set would cost);
/// - runs passes over the working set until its own gap is below 0.3× the outer gap (or half the
///   target; to half the target at once when the working set holds every column still in play, or
///   when no column outside the previous working set violates its KKT condition),
///   checking that sub-gap when a pass decreases f by less than the sub-target, or every 10 passes.
/// A 98%-sparse solution is thus found while passes touch mostly the active columns.
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
/// Epochs (`SolveReport.iterations`) count passes over the working set; the outer O(nnz) gradient
/// passes are extra. The limit is `options.epochs ?? 1000`. The order within a pass is by column
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
    ///   memory budget; `.sparse(.exceedsMemoryBudget)` when the CSC copy and work vectors do not fit.
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        var statistics = CDStatistics()
        return try solve(problem, options: options, control: control, statistics: &statistics)
    }

    /// `solve` that also fills in `statistics` (tests look at how many columns were touched).
    static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl,
                      statistics: inout CDStatistics) throws(SolverError) -> Solution {
        try IterativeOptionCheck.common(options)
        let clock = SolveClock(control)
        let m = problem.rowCount, n = problem.columnCount, nnz = problem.matrix.nnz
        // CSC copy (8-byte offsets, 4-byte indices, 8-byte values) and its per-worker column counts;
        // x, ‖ã_j‖², ãᵀỹ, ĝ, keys (8 bytes each), flags (1), working set (4) per column; r and ỹ per row.
        let bytes = StorageBytes.compressed(outer: n, nnz: Double(nnz)) + Double(n) * Double(8 * Parallelism.workerCount)
            + Double(n) * (5 * 8 + 1 + 4) + Double(m) * 16
        try IterativeOptionCheck.checkMemory(bytes, for: "coordinate descent (A in CSC plus work vectors)", options: options)

        // Setup: Ã = W^{1/2}·A in CSC with ‖ã_j‖², ỹ = W^{1/2}·y.
        let csc = CDColumns(problem.matrix, weights: problem.sampleWeights)
        var yt = problem.rhs
        if let w = problem.sampleWeights { for i in 0..<m { yt[i] *= w[i].squareRoot() } }
        let y = ScratchBuffer(yt)
        yt = []
        let colSq = ScratchBuffer(csc.squaredNorms)
        let x = ScratchBuffer(problem.initialGuess ?? [Double](repeating: 0, count: n))
        let r = ScratchBuffer(repeating: 0.0, count: m)
        let cy = ScratchBuffer(repeating: 0.0, count: n)
        let grad = ScratchBuffer(repeating: 0.0, count: n)
        let score = ScratchBuffer(repeating: 0.0, count: n)
        let status = ScratchBuffer(repeating: UInt8(0), count: n)
        let ws = ScratchBuffer(repeating: Int32(0), count: n)
        let setupSeconds = clock.elapsed

        let outcome = csc.offsets.withUnsafeBufferPointer { off in
            csc.rows.withUnsafeBufferPointer { idx in
                csc.values.withUnsafeBufferPointer { val in
                    var kernel = CDKernel(m: m, n: n, off: off, idx: idx, val: val,
                                          l1: problem.regularization.l1, l2: problem.regularization.l2,
                                          y: y.pointer, x: x.pointer, r: r.pointer, colSq: colSq.pointer, cy: cy.pointer,
                                          grad: grad.pointer, score: score.pointer, status: status.pointer, ws: ws.pointer)
                    return iterate(&kernel, options: options, clock: clock, statistics: &statistics)
                }
            }
        }
        statistics.everInWorkingSet = status.pointer.reduce(0) { $0 + ($1 & CDColumn.everInWorkingSet != 0 ? 1 : 0) }
        statistics.screenedColumns = status.pointer.reduce(0) { $0 + ($1 & CDColumn.screened != 0 ? 1 : 0) }

        let solution = x.array
        var residualNorm = outcome.weightedResidualNorm
        if problem.sampleWeights != nil { residualNorm = DenseVector.norm(problem.residual(solution)) }
        let reg = problem.regularization
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

    /// The outer loop: gap and screening on all columns in play, then passes over a working set.
    static func iterate(_ k: inout CDKernel, options: SolverOptions, clock: SolveClock,
                        statistics: inout CDStatistics) -> CDOutcome {
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
        // ãᵀỹ, for ỹᵀr tracking and the zero-solution test (x* = 0 iff ‖Ãᵀỹ‖∞ ≤ λ₁).
        k.columnDots(of: k.y, into: k.cy, shift: 0, forbidden: CDColumn.excluded)
        var ySq = 0.0
        for i in 0..<k.m { ySq += k.y[i] * k.y[i] }
        let floor = max(tolerance * 0.5 * ySq, Double.leastNormalMagnitude)
        var dualNorm0 = 0.0
        for j in 0..<n { dualNorm0 = max(dualNorm0, abs(k.cy[j])) }
        if k.l1 > 0 ? dualNorm0 <= k.l1 : dualNorm0 == 0 {
            for j in 0..<n { k.x[j] = 0 }
            let certificate = k.evaluateAll()
            return CDOutcome(stop: .zeroSolution, epochs: 0, certificate: certificate, objective: k.primal,
                             weightedResidualNorm: k.rSq.squareRoot())
        }

        var epochs = 0
        var stop: StopReason = .iterationLimit
        var final: CDCertificate?
        var allColumnsBuilt = false
        let leastSquares = k.l1 == 0 && k.l2 == 0
        outer: while true {
            statistics.outerIterations += 1
            // Exact r, ĝ on the columns in play, and their gap. At x = 0, ĝ = Ãᵀỹ is already known.
            k.recomputeResidual()
            if k.xL1 == 0 {
                _ = k.grad.update(fromContentsOf: k.cy)
            } else {
                k.columnDots(of: k.r, into: k.grad, shift: k.l2, forbidden: CDColumn.inactive)
            }
            let reduced = k.certificate(columns: k.columns(forbidden: CDColumn.inactive), rSq: k.rSq)
            let target = tolerance * max(k.primal, floor)
            if reduced.gap <= target {
                // r is exact and ĝ current on the columns in play: add the screened ones for the true gap.
                k.columnDots(of: k.r, into: k.grad, shift: k.l2, forbidden: CDColumn.excluded, required: CDColumn.screened)
                let whole = k.certificate(columns: k.columns(forbidden: CDColumn.excluded), rSq: k.rSq)
                if whole.gap <= target {
                    final = whole
                    stop = leastSquares ? .optimalityTolerance : .dualityGap
                    break outer
                }
            }
            if epochs >= epochLimit { stop = .iterationLimit; break outer }
            if let interruption = clock.interruption() { stop = interruption; break outer }

            // Whether the last working set was right: no column outside it violates its KKT condition.
            var settled = false
            if k.l1 > 0 {
                settled = statistics.outerIterations > 1 && k.violatorCount(outsideWorkingSet: true) == 0
                let screening = k.screen(scale: reduced.scale, gap: reduced.gap)
                if screening.changedX { k.recomputeResidual() }
                let size = max(minimumWorkingSet, 2 * k.supportSize(), k.violatorCount())
                k.buildWorkingSet(size: size, scale: reduced.scale)
            } else if !allColumnsBuilt {
                k.workingSetOfAllColumns()
                allColumnsBuilt = true
            }
            statistics.workingSetSizes.append(k.wsCount)
            // A working set that covers every column in play has the problem's own gap: solve it to
            // half the target at once. Otherwise stop the subproblem at 0.3× the outer gap, so that the
            // next outer iteration can bring in the violators (Celer's rule).
            // The same when the last working set brought in no new violator: its subproblem was the right one.
            let covers = k.wsCount == k.inPlayCount()
            var subTarget = reduced.gap > target ? max(0.3 * reduced.gap, 0.5 * target) : 0.3 * reduced.gap
            if covers || settled { subTarget = min(subTarget, 0.5 * target) }

            // Passes over the working set until its own certificate is below the sub-target.
            var sinceCheck = 0
            while epochs < epochLimit {
                if options.coordinateOrder == .random { k.shuffleWorkingSet(&rng) }
                let (decrease, interruption) = k.pass(clock: clock)
                epochs += 1
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
                        sub = k.certificate(columns: k.workingSetColumns(), rSq: k.rSq)
                    } else {
                        k.columnDots(of: k.r, into: k.grad, shift: k.l2, forbidden: CDColumn.inactive)
                        sub = k.certificate(columns: k.columns(forbidden: CDColumn.inactive), rSq: k.rSq)
                    }
                    if sub.gap <= subTarget { break }
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

    func diagnostics(columns n: Int) -> [String] {
        guard outerIterations > 0 else { return [] }
        return ["coordinate descent: \(outerIterations) outer iterations, working sets of \(workingSetSizes.map(String.init).joined(separator: ", ")) columns; "
                + "\(everInWorkingSet) of \(n) columns ever updated, \(screenedColumns) screened out by the gap-safe rule"]
    }
}
