// LeastSquares/KrylovProblem: what LSQR and LSMR share — option checks, the damped/weighted/scaled system, the report.
import SparseTensor

/// The least-squares problem LSQR and LSMR actually iterate on, derived once from a
/// `LeastSquaresProblem` and `SolverOptions`:
///
/// ```
/// min_z ‖b̄ − Ā·z‖² + damp²·‖z‖²,     x = x₀ + C·z
/// ```
/// with Ā from `KrylovOperator`. Our objective ½‖y − A·x‖² + ½λ₂‖x‖² (λ₁ = 0) is half of LSQR's
/// with `damp = √λ₂`. Three cases:
/// - no warm start and no column scaling: Ā = W^½·A, b̄ = W^½·y and the papers' scalar `damp = √λ₂`;
/// - otherwise, with λ₂ > 0: the damping moves into Ā's `δ·C` block (δ = √λ₂) with
///   b̄ = [W^½·(y − A·x₀); −δ·x₀] and `damp = 0`, which is exactly the damped problem for the correction
///   (scipy's `x0` damps the correction instead, a different problem when λ₂ > 0);
/// - with λ₂ = 0 and a warm start: b̄ = W^½·(y − A·x₀), `damp = 0`.
///
/// Column scaling (Jacobi) uses dⱼ = √(‖W^½·aⱼ‖² + λ₂), the column norms of the damped Ā, so every
/// column of Ā has unit norm; a zero column (dⱼ = 0) keeps dⱼ = 1 and its zⱼ stays 0. When the solution
/// is unique (full column rank, or λ₂ > 0) scaling changes only the path. When it is not (rank-deficient
/// or underdetermined A with λ₂ = 0), the Krylov iterates from 0 stay in range(Āᵀ) and converge to the
/// z of least norm, i.e. the least-squares x of least ‖D·x‖, not of least ‖x‖; without scaling it is
/// the minimum-norm x (the one SPQR returns).
struct KrylovProblem {
    let op: KrylovOperator
    /// b̄, length `op.rowCount`.
    let b: [Double]
    /// The algorithms' scalar damping (0 when carried by `op`).
    let damp: Double
    /// ‖b‖ in the relative residual test ‖r‖/‖b‖: ‖W^½·y‖, or ‖b̄‖ when y = 0 (then only x₀ makes b̄ nonzero).
    let bnorm: Double
    /// x₀ in the original coordinates, when given and nonzero.
    let start: [Double]?
    let atol: Double, btol: Double, conlim: Double
    let iterationLimit: Int
    /// Notes for the report (scaling, copies made).
    var notes: [String] = []
    let setupSeconds: Double

    init(_ problem: LeastSquaresProblem, options: SolverOptions, solverName: String, clock: SolveClock) throws(SolverError) {
        let reg = problem.regularization
        guard reg.l1 == 0 else {
            throw .unsupported("\(solverName) solves λ₁ = 0 problems only (ridge λ₂ through damping), got l1 = \(reg.l1); for the lasso / elastic net use --solver cd")
        }
        guard options.tolerance.isFinite, options.tolerance >= 0 else {
            throw .invalidOption("tolerance (atol = btol for \(solverName)) must be a finite number ≥ 0, got \(options.tolerance)")
        }
        guard options.conditionLimit > 0 else {
            throw .invalidOption("conditionLimit (conlim for \(solverName)) must be > 0 (use .infinity for no limit), got \(options.conditionLimit)")
        }
        if let k = options.maxIterations, k < 0 {
            throw .invalidOption("maxIterations must be ≥ 0, got \(k)")
        }
        let m = problem.rowCount, n = problem.columnCount
        let budget = options.memoryBudgetBytes.map(MemoryBudget.init) ?? .default
        let λ2 = reg.l2
        let δ = λ2.squareRoot()
        atol = options.tolerance
        btol = options.tolerance
        conlim = options.conditionLimit
        iterationLimit = options.maxIterations ?? 2 * n

        let rowScale = problem.sampleWeights.map { $0.map { $0.squareRoot() } }
        var columnScale: [Double]? = nil
        if options.columnScaling {
            var d = problem.matrix.columnSquaredNorms()
            if let w = problem.sampleWeights {
                // ‖W^½·aⱼ‖² = Σᵢ wᵢ·aᵢⱼ²
                d = [Double](repeating: 0, count: n)
                let s = problem.matrix.storage
                for i in 0..<m where w[i] != 0 {
                    for p in s.offsets[i]..<s.offsets[i + 1] { d[Int(s.indices[p])] += w[i] * s.values[p] * s.values[p] }
                }
            }
            var zero = 0
            columnScale = d.map { dj in
                let norm = (dj + λ2).squareRoot()
                if norm == 0 { zero += 1; return 1 }
                return 1 / norm
            }
            notes.append("Jacobi column scaling: iterating on z = D·x with D = diag(√(‖aⱼ‖² + λ₂))\(zero > 0 ? ", \(zero) zero column(s) left unscaled" : ""); ‖A‖ and cond(A) estimates refer to the scaled operator")
        }
        let x0 = problem.initialGuess.flatMap { $0.contains(where: { $0 != 0 }) ? $0 : nil }
        start = x0
        let augmented = λ2 > 0 && (x0 != nil || columnScale != nil)
        op = KrylovOperator(matrix: problem.matrix, rowScale: rowScale, columnScale: columnScale,
                            augmentedDamping: augmented ? δ : 0, transposeCopy: .whenFaster, budget: budget)
        damp = augmented ? 0 : δ

        // b̄ = [W^½·(y − A·x₀); −δ·x₀]
        var top = problem.rhs
        if let s = rowScale { for i in 0..<m { top[i] *= s[i] } }
        let ynorm = DenseVector.norm(top)
        if let x0 {
            let ax0 = op.weightedProduct(x0)
            for i in 0..<m { top[i] -= ax0[i] }
        }
        if augmented {
            top.reserveCapacity(m + n)
            for j in 0..<n { top.append(-δ * (x0?[j] ?? 0)) }
        }
        b = top
        bnorm = ynorm > 0 ? ynorm : DenseVector.norm(top)
        if op.columns != nil { notes.append("Aᵀ·u by gather over a CSC copy of A (\(ByteCount.format(StorageBytes.compressed(outer: n, nnz: Double(problem.matrix.nnz)))))") }
        setupSeconds = clock.elapsed
    }

    /// x = x₀ + C·z.
    func recover(_ z: [Double]) -> [Double] {
        var x = z
        if let c = op.columnScale { for j in 0..<x.count { x[j] *= c[j] } }
        if let x0 = start { for j in 0..<x.count { x[j] += x0[j] } }
        return x
    }

    /// The papers' `istop` (0…7) as a `StopReason`, with a note for the machine-precision variants.
    /// The driver LSQR and LSMR share: sets up Ā from the problem, runs the solver's `iterate` on it, maps
    /// its `istop` (or interruption) to a stop reason and builds the solution with `finish`.
    static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl, solver: SolverKind,
                      solverName: String, iterate: (KrylovProblem, SolveClock) -> KrylovRun) throws(SolverError) -> Solution {
        let clock = SolveClock(control)
        let system = try KrylovProblem(problem, options: options, solverName: solverName, clock: clock)
        let run = iterate(system, clock)
        let (stop, note) = run.interruption.map { ($0, nil) } ?? stopReason(istop: run.istop)
        return system.finish(z: run.z, problem: problem, solver: solver, iterations: run.iterations, stop: stop, stopNote: note,
                             normEstimate: run.normEstimate, conditionEstimate: run.conditionEstimate, clock: clock)
    }

    static func stopReason(istop: Int) -> (StopReason, String?) {
        switch istop {
        case 0: return (.zeroSolution, nil)
        case 1: return (.residualTolerance, nil)
        case 2: return (.optimalityTolerance, nil)
        case 3: return (.conditionLimit, nil)
        case 4: return (.residualTolerance, "Ax − b is as small as machine precision allows (atol, btol below eps)")
        case 5: return (.optimalityTolerance, "the least-squares solution is as good as machine precision allows (atol below eps)")
        case 6: return (.conditionLimit, "cond(Abar) appears too large for this machine (1/cond below eps)")
        default: return (.iterationLimit, nil)
        }
    }

    /// The stopping rules LSQR (Paige & Saunders 1982, §6) and LSMR (Fong & Saunders 2011, §3.6) share:
    /// `istop` for one iteration's tests (test1 = ‖r̄‖/‖b‖, test2 = ‖Āᵀr̄‖/(‖Ā‖‖r̄‖), test3 = 1/cond(Ā),
    /// t1test = test1/(1 + ‖Ā‖‖x‖/‖b‖), rtol = btol + atol·‖Ā‖‖x‖/‖b‖), or 0 to go on.
    /// The later tests win: tolerances (1–3) over machine precision (4–6) over the limit (7).
    func istop(iteration itn: Int, test1: Double, test2: Double, test3: Double, t1test: Double, rtol: Double) -> Int {
        let ctol = conlim.isFinite ? 1 / conlim : 0
        var istop = 0
        if itn >= iterationLimit { istop = 7 }
        if 1 + test3 <= 1 { istop = 6 }
        if 1 + test2 <= 1 { istop = 5 }
        if 1 + t1test <= 1 { istop = 4 }
        if test3 <= ctol { istop = 3 }
        if test2 <= atol { istop = 2 }
        if test1 <= rtol { istop = 1 }
        return istop
    }

    /// Builds the solution from the iterate z: x = x₀ + C·z, then the exact residual, gradient and
    /// objective at x (`ResidualMeasures`), so that the report does not depend on the recurrences' estimates.
    func finish(z: [Double], problem: LeastSquaresProblem, solver: SolverKind, iterations: Int, stop: StopReason,
                stopNote: String?, normEstimate: Double, conditionEstimate: Double, clock: SolveClock) -> Solution {
        let x = recover(z)
        let measures = ResidualMeasures(problem: problem, x: x, columns: op.columns)
        var diagnostics = notes
        if let stopNote { diagnostics.append(stopNote) }
        if stop == .zeroSolution, start != nil { diagnostics.append("Āᵀ·r₀ = 0 at the initial guess: x = x₀ is already optimal") }
        let elapsed = clock.elapsed
        let report = SolveReport(
            solver: solver, iterations: iterations, stopReason: stop,
            objective: measures.objective, residualNorm: measures.residualNorm, optimalityNorm: measures.optimalityNorm,
            normEstimate: normEstimate, conditionEstimate: conditionEstimate, nnzX: measures.nnzX,
            setupSeconds: setupSeconds, solveSeconds: elapsed - setupSeconds, diagnostics: diagnostics)
        return Solution(x: x, report: report)
    }
}

/// The end of an LSQR or LSMR iteration: the iterate z, the papers' `istop` (0…7, see `stopReason`), the
/// iterations, the solver's estimates of ‖Ā‖ and cond(Ā), and the interruption (cancellation or the time
/// limit) that ended it early, if any.
struct KrylovRun {
    var z: [Double]
    var istop: Int
    var iterations: Int
    var normEstimate: Double
    var conditionEstimate: Double
    var interruption: StopReason?
}
