// LeastSquares/NormalEquations: (AᵀA + λ₂I)x = Aᵀy (primal) or x = Aᵀ(A·Aᵀ + λ₂I)⁻¹y (dual) by sparse Cholesky (CHOLMOD).
import Foundation
import SparseTensor

/// Ridge / plain least squares through the regularised normal equations, factored by CHOLMOD
/// (Chen, Davis, Hager & Rajamanickam, ACM TOMS 35(3), 2008):
/// ```
/// primal (n ≤ m):  (AᵀWA + λ₂I)·x = AᵀW·y                      n × n system
/// dual   (m < n):  (W^½AAᵀW^½ + λ₂I)·z = W^½·y,  x = AᵀW^½·z   m × m system
/// ```
/// Both give the minimiser of ½‖W^½(y − A·x)‖² + ½λ₂‖x‖² (λ₁ must be 0); the smaller Gram matrix is
/// factored (the choice is reported in `SolveReport.choiceReason`). With λ₂ = 0 the dual gives the
/// minimum-norm solution of an underdetermined system of full row rank.
///
/// The Gram matrix is not formed here: CHOLMOD factors F·Fᵀ + λ₂I from F (F = AᵀW^½ or W^½A) with
/// `cholmod_l_analyze` / `cholmod_l_factorize_p` and solves with `cholmod_l_solve`.
///
/// Accuracy: the normal equations square the condition number (cond(AᵀA) = cond(A)²), so expect
/// about 16 − 2·log₁₀ cond(A) correct digits; `SparseQR` does not square it. With λ₂ = 0 and a singular
/// (rank-deficient) Gram matrix CHOLMOD reports `CHOLMOD_NOT_POSDEF`, or the factor's diagonal shows it;
/// that is an error here, with the advice to use QR (rank-revealing, minimum-norm) or add λ₂ > 0.
///
/// Memory: the copy of F and, after the symbolic analysis, the factor (nnz(L) from CHOLMOD) are
/// checked against `options.memoryBudgetBytes` (default `MemoryBudget.default`) before allocation.
/// `initialGuess` is not used (the solve is direct); cancellation and the time limit are honoured
/// between the phases (copy, analysis + factorization, solve).
public enum NormalEquations {
    /// Which Gram matrix to factor.
    public enum Form: String, Sendable, Codable, CaseIterable {
        /// Primal when n ≤ m, dual when m < n (the smaller system).
        case automatic
        /// (AᵀA + λ₂I)·x = Aᵀy.
        case primal
        /// x = Aᵀ·(A·Aᵀ + λ₂I)⁻¹·y.
        case dual
    }

    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        try solve(problem, options: options, control: control, form: .automatic)
    }

    /// As `solve(_:options:control:)`, with the form forced (`.automatic` picks by shape).
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl,
                             form: Form) throws(SolverError) -> Solution {
        let λ1 = problem.regularization.l1, λ2 = problem.regularization.l2
        guard λ1 == 0 else {
            throw .unsupported("the normal equations solve λ₁ = 0 problems only (plain or ridge), got l1 = \(λ1); for the lasso / elastic net use --solver cd")
        }
        let clock = SolveClock(control)
        let m = problem.rowCount, n = problem.columnCount
        let budget = options.memoryBudgetBytes.map(MemoryBudget.init) ?? .default
        let dual = form == .dual || (form == .automatic && m < n)
        var reason = dual
            ? "dual x = Aᵀ(A·Aᵀ + λ₂I)⁻¹y: the \(m) × \(m) Gram matrix" + (form == .dual ? " (forced)" : " is the smaller (m < n)")
            : "primal (AᵀA + λ₂I)x = Aᵀy: the \(n) × \(n) Gram matrix" + (form == .primal ? " (forced)" : " is the smaller or equal (n ≤ m)")
        var diagnostics: [String] = []
        if problem.initialGuess != nil { diagnostics.append("initial guess ignored: the normal equations are solved directly") }
        let s = problem.sampleWeights.map { $0.map { $0.squareRoot() } }
        // W^½·y
        var b = problem.rhs
        if let s { for i in 0..<m { b[i] *= s[i] } }

        var x = [Double](repeating: 0, count: n)
        var stop = StopReason.exact
        var setupSeconds = 0.0
        let gramOrder = dual ? m : n
        if gramOrder == 0 || problem.matrix.nnz == 0 || !b.contains(where: { $0 != 0 }) {
            // A = 0 or W^½y = 0 (or an empty side): x = 0 is the minimiser of least norm.
            stop = .zeroSolution
            reason += "; x = 0 is exact (A = 0 or y = 0)"
        } else if let interruption = clock.interruption() {
            stop = interruption
        } else {
            do throws(SparseError) {
                let context = CholmodContext()
                let rows = problem.matrix.storage
                // F: primal F = AᵀW^½ (n × m, the CSR arrays of A with row i scaled by √wᵢ);
                //    dual   F = W^½A  (m × n, the CSC of A with row i scaled by √wᵢ).
                let f = dual
                    ? try CholmodSparse.copyingColumns(ofRows: rows, innerScale: s, budget: budget, what: "W^½A for CHOLMOD", context: context)
                    : try CholmodSparse.copying(rows, outerScale: s, budget: budget, what: "AᵀW^½ for CHOLMOD", context: context)
                setupSeconds = clock.elapsed
                // F stays alive, and cholmod_l_factorize_p also holds Fᵀ while it works: both count.
                let operandBytes = StorageBytes.cholmod(outer: f.columnCount, nnz: Double(rows.nnz))
                    + StorageBytes.cholmod(outer: gramOrder, nnz: Double(rows.nnz))
                let weighted = problem.sampleWeights != nil
                let gram = (dual ? (weighted ? "W^½AAᵀW^½" : "AAᵀ") : (weighted ? "AᵀWA" : "AᵀA")) + (λ2 > 0 ? " + λ₂I" : "")
                let remaining = budget.holding(operandBytes, by: "A's copies for CHOLMOD")
                // The analysis orders the pattern of F·Fᵀ, which CHOLMOD forms itself: checked before it does.
                let amdBytes = try OrderingBudget.checkAMD(dual ? .aat : .ata, of: problem.matrix, budget: remaining,
                                                           for: "the Cholesky factorization of \(gram)")
                if let note = OrderingBudget.restrictToAMDIfNeeded(context, amdBytes: amdBytes, budget: remaining) { diagnostics.append(note) }
                let cholesky = try CholeskyFactorization(gramOf: f, shift: λ2, budget: remaining, what: gram)
                diagnostics += cholesky.warnings.filter { !$0.contains("not positive definite") }
                let rcond = cholesky.reciprocalCondition
                // With λ₂ > 0 the shifted Gram matrix is positive definite: a factor CHOLMOD completed is used, however
                // small the diagonal's rcond estimate (a zero column next to a large one gives ~λ₂/‖a‖², an exact
                // factor); the report then warns about the digits. Without the shift, rcond ≤ eps means rank deficiency.
                let singular = !cholesky.isPositiveDefinite || (λ2 == 0 && rcond <= Double.ulpOfOne)
                if singular {
                    let detail = cholesky.isPositiveDefinite
                        ? String(format: "the factor's diagonal gives rcond ≈ %.2g ≤ eps", rcond)
                        : "CHOLMOD_NOT_POSDEF at column \(cholesky.minor) of \(cholesky.order)"
                    let advice = λ2 == 0
                        ? "A is rank-deficient (\(dual ? "A·Aᵀ" : "AᵀA") is singular); use --solver qr for the rank-revealing minimum-norm solution, or add --l2 λ > 0"
                        : "λ₂ = \(λ2) is too small to make \(gram) numerically positive definite; use --solver qr or a larger --l2"
                    let what = cholesky.isPositiveDefinite ? "numerically singular" : "not positive definite"
                    throw SparseError.suiteSparse(routine: "cholmod_l_factorize_p", status: Int(1), reason: "\(gram) is \(what) (\(detail)): \(advice)")
                }
                diagnostics.append(String(format: "nnz(L) = %.0f; rcond(%@) ≈ %.2g (estimate from the factor's diagonal)", cholesky.factorNonzeros, gram, rcond))
                if rcond < Double.ulpOfOne.squareRoot() {
                    diagnostics.append("ill-conditioned Gram matrix: expect about \(max(0, Int((-log10(Double.ulpOfOne / rcond)).rounded(.down)))) correct digits at best; --solver qr avoids squaring cond(A)")
                }
                if let interruption = clock.interruption() {
                    stop = interruption
                } else if dual {
                    // z = (W^½AAᵀW^½ + λ₂I)⁻¹ W^½y;  x = AᵀW^½z
                    var z = try cholesky.solve(b)
                    if let s { for i in 0..<m { z[i] *= s[i] } }
                    x = rows.scatter(z)
                } else {
                    // x = (AᵀWA + λ₂I)⁻¹ AᵀW y
                    var t = b
                    if let s { for i in 0..<m { t[i] *= s[i] } }
                    x = try cholesky.solve(rows.scatter(t))
                }
            } catch {
                throw .sparse(error)
            }
        }
        let measures = ResidualMeasures(problem: problem, x: x)
        // One progress sample at the end (a direct solve has no iterations to report).
        if stop == .exact { clock.report(1, objective: measures.objective, residualNorm: measures.residualNorm, fraction: 1) }
        let elapsed = clock.elapsed
        let report = SolveReport(
            solver: .normal, choiceReason: reason, iterations: stop == .exact ? 1 : 0, stopReason: stop,
            objective: measures.objective, residualNorm: measures.residualNorm, optimalityNorm: measures.optimalityNorm,
            nnzX: measures.nnzX, setupSeconds: setupSeconds, solveSeconds: elapsed - setupSeconds, diagnostics: diagnostics)
        return Solution(x: x, report: report)
    }
}
