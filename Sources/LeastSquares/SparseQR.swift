// LeastSquares/SparseQR: exact least squares by SuiteSparseQR — x = E·R⁻¹·Qᵀy, minimum-norm x = Q·R⁻ᵀ·Eᵀy, ridge via [A; √λ₂I].
import Foundation
import SparseTensor

/// Exact (direct) least squares with the multifrontal sparse QR of SuiteSparseQR
/// (T. A. Davis, "Algorithm 915, SuiteSparseQR: Multifrontal multithreaded rank-revealing sparse QR
/// factorization", ACM TOMS 38(1), 2011), default ordering and default rank tolerance.
///
/// Minimises ½‖W^½(y − A·x)‖² + ½λ₂‖x‖² (λ₁ must be 0; W = I without sample weights):
/// ```
/// λ₂ > 0:            min ‖[W^½y; 0] − [W^½A; √λ₂·I]·x‖      QR of the (m+n) × n stacked matrix
/// λ₂ = 0, m ≥ n:     A·E = Q·R,  x = E·R⁻¹·Qᵀ·y              (the least-squares solution)
/// λ₂ = 0, m < n:     Aᵀ·E = Q·R, x = Q·R⁻ᵀ·Eᵀ·y              (the minimum-norm solution)
/// ```
/// SPQR's C API in 5.12 has no `min2norm`, so the minimum-norm solution is formed from
/// `SuiteSparseQR_C_solve(SPQR_RTX_EQUALS_ETB)` and `SuiteSparseQR_C_qmult(SPQR_QX)` on the QR of Aᵀ.
///
/// Rank deficiency is a result, not an error: `SolveReport.rank` is SPQR's estimate and a diagnostic
/// names it. With λ₂ = 0 and rank r < n, x is still the *minimum-norm* least-squares solution, in two
/// steps: a basic solution x_b from the QR of A (any least-squares solution; ŷ = A·x_b is the projection
/// of y onto range(A)), then the minimum-norm solution of the consistent system A·x = ŷ from the QR of
/// Aᵀ. That costs a second factorization only in the rank-deficient case.
///
/// Memory: every copy handed to SuiteSparse, the ordering's AᵀA pattern when SPQR orders with AMD
/// (more than twice as many rows as columns), and the factors (SPQR's symbolic upper bounds on nnz(R)
/// and nnz(H)) are checked against `options.memoryBudgetBytes` (default `MemoryBudget.default`) before
/// they are allocated. `initialGuess` is not used; cancellation and the time limit are honoured
/// between factorizations.
public enum SparseQR {
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        let λ1 = problem.regularization.l1, λ2 = problem.regularization.l2
        guard λ1 == 0 else {
            throw .unsupported("sparse QR solves λ₁ = 0 problems only (plain or ridge), got l1 = \(λ1); for the lasso / elastic net use --solver cd")
        }
        let clock = SolveClock(control)
        let m = problem.rowCount, n = problem.columnCount
        let budget = options.memoryBudgetBytes.map(MemoryBudget.init) ?? .default
        let s = problem.sampleWeights.map { $0.map { $0.squareRoot() } }
        var b = problem.rhs
        if let s { for i in 0..<m { b[i] *= s[i] } }

        var diagnostics: [String] = []
        if problem.initialGuess != nil { diagnostics.append("initial guess ignored: QR solves directly") }
        var x = [Double](repeating: 0, count: n)
        var stop = StopReason.exact
        var rank: Int? = nil
        var reason: String
        var factorizations = 0
        var setupSeconds = 0.0

        if n == 0 || problem.matrix.nnz == 0 || !b.contains(where: { $0 != 0 }) {
            reason = "x = 0 is exact (A = 0 or y = 0)"
            stop = .zeroSolution
            if problem.matrix.nnz == 0 { rank = 0 }
        } else {
            let rows = problem.matrix.storage
            let what = problem.sampleWeights == nil ? "A" : "W^½A"
            let whatT = problem.sampleWeights == nil ? "Aᵀ" : "AᵀW^½"
            // One started cholmod_common for the whole solve.
            let context = CholmodContext()
            // Bytes of factorizations kept alive while another one is made: they count against the budget.
            var held = 0.0
            func remaining(_ more: Double = 0) -> MemoryBudget {
                budget.holding(held, by: "the factorizations kept").holding(more, by: "the copy for SPQR")
            }
            // Stop between phases when asked to.
            func interrupted() -> Bool {
                if let interruption = clock.interruption() { stop = interruption; return true }
                return false
            }
            // The QR of W^½A ((m × n) CSC, or [W^½A; δI] with δ > 0).
            func factorA(appending δ: Double = 0) throws(SparseError) -> QRFactorization {
                let label = δ > 0 ? "[\(what); √λ₂·I]" : what
                if m + (δ > 0 ? n : 0) > 2 * n { try OrderingBudget.checkAMD(.ata, of: problem.matrix, budget: remaining(), for: "the QR of \(label)") }
                let copy = try CholmodSparse.copyingColumns(ofRows: rows, innerScale: s, appendingDiagonal: δ, budget: remaining(),
                                                     what: "\(label) for SPQR", context: context)
                if setupSeconds == 0 { setupSeconds = clock.elapsed }
                factorizations += 1
                let copyBytes = StorageBytes.cholmod(outer: n, nnz: Double(rows.nnz + (δ > 0 ? n : 0)))
                return try QRFactorization(copy, budget: remaining(copyBytes), what: label)
            }
            // The QR of AᵀW^½ ((n × m) CSC: A's CSR arrays as they are).
            func factorAT() throws(SparseError) -> QRFactorization {
                if n > 2 * m { try OrderingBudget.checkAMD(.aat, of: problem.matrix, budget: remaining(), for: "the QR of \(whatT)") }
                let copy = try CholmodSparse.copying(rows, outerScale: s, budget: remaining(), what: "\(whatT) for SPQR", context: context)
                if setupSeconds == 0 { setupSeconds = clock.elapsed }
                factorizations += 1
                return try QRFactorization(copy, budget: remaining(StorageBytes.cholmod(outer: m, nnz: Double(rows.nnz))), what: whatT)
            }
            // ŷ = W^½·A·x_b.
            func projected(_ xb: [Double]) -> [Double] {
                var yhat = rows.gather(xb)
                if let s { for i in 0..<m { yhat[i] *= s[i] } }
                return yhat
            }
            func rankNote(_ r: Int, of label: String, _ qr: QRFactorization) -> String {
                String(format: "rank-deficient: SPQR estimates rank(%@) = %d < %d (column tolerance %.3g)",
                       label, r, min(qr.rowCount, qr.columnCount), qr.tolerance)
            }
            do throws(SparseError) {
                if λ2 > 0 {
                    reason = "ridge: QR of [\(what); √λ₂·I] ((\(m)+\(n)) × \(n)) with right-hand side [\(problem.sampleWeights == nil ? "y" : "W^½y"); 0]"
                    if !interrupted() {
                        let qr = try factorA(appending: λ2.squareRoot())
                        rank = qr.rank
                        if qr.rank < n {
                            diagnostics.append(rankNote(qr.rank, of: "[\(what); √λ₂·I]", qr) + "; λ₂ is negligible next to ‖A‖: basic solution")
                        }
                        if !interrupted() { x = try qr.solveLeastSquares(b + [Double](repeating: 0, count: n)) }
                    }
                } else if m >= n {
                    reason = "overdetermined (m ≥ n): x = E·R⁻¹·Qᵀy from the QR of \(what)"
                    if !interrupted() {
                        var xb: [Double] = []
                        var r = 0
                        do {
                            let qr = try factorA()
                            r = qr.rank
                            rank = r
                            if r < n { diagnostics.append(rankNote(r, of: what, qr)) }
                            if !interrupted() { xb = try qr.solveLeastSquares(b) }
                        }
                        if r == n {
                            x = xb
                        } else if !xb.isEmpty, !interrupted() {
                            // Minimum-norm least squares: A·x = ŷ = A·x_b is consistent; solve it from the QR of Aᵀ.
                            let qrT = try factorAT()
                            if qrT.rank != r { diagnostics.append("rank estimates differ: \(r) from the QR of \(what), \(qrT.rank) from the QR of \(whatT)") }
                            if !interrupted() { x = try qrT.minimumNormSolution(projected(xb)) }
                            reason += "; rank-deficient, so the minimum-norm solution of A·x = A·x_b from the QR of \(whatT)"
                        }
                    }
                } else {
                    reason = "underdetermined (m < n): minimum-norm x = Q·R⁻ᵀ·Eᵀy from the QR of \(whatT)"
                    if !interrupted() {
                        let qrT = try factorAT()
                        rank = qrT.rank
                        if qrT.rank == m {
                            if !interrupted() { x = try qrT.minimumNormSolution(b) }
                        } else {
                            diagnostics.append(rankNote(qrT.rank, of: whatT, qrT))
                            // Rank-deficient rows: y may be inconsistent. Project it onto range(A) first
                            // (with the QR of Aᵀ still held).
                            held = qrT.factorBytes
                            var xb: [Double] = []
                            if !interrupted() {
                                let qr = try factorA()
                                if !interrupted() { xb = try qr.solveLeastSquares(b) }
                            }
                            if !xb.isEmpty, !interrupted() { x = try qrT.minimumNormSolution(projected(xb)) }
                            reason += "; rank-deficient, so y is first projected onto range(A) with a basic solution from the QR of \(what)"
                        }
                    }
                }
                diagnostics += context.warnings
            } catch {
                throw .sparse(error)
            }
        }
        if stop == .cancelled || stop == .timeLimit { x = [Double](repeating: 0, count: n) }
        let measures = ResidualMeasures(problem: problem, x: x)
        if let r = rank, r < min(m, n) {
            diagnostics.append(String(format: "‖Aᵀr‖/(‖A‖_F‖r‖) = %.2g at the returned x", measures.relativeOptimality))
        }
        // One progress sample at the end (a direct solve has no iterations to report).
        if stop == .exact { clock.report(1, objective: measures.objective, residualNorm: measures.residualNorm, fraction: 1) }
        let elapsed = clock.elapsed
        let report = SolveReport(
            solver: .qr, choiceReason: reason, iterations: factorizations, stopReason: stop,
            objective: measures.objective, residualNorm: measures.residualNorm, optimalityNorm: measures.optimalityNorm,
            rank: rank, nnzX: measures.nnzX, setupSeconds: setupSeconds, solveSeconds: elapsed - setupSeconds,
            diagnostics: diagnostics)
        return Solution(x: x, report: report)
    }
}
