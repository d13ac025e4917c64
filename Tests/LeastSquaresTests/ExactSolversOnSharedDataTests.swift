// LeastSquaresTests/ExactSolversOnSharedDataTests: LSQR, LSMR and CHOLMOD's normal equations against SPQR on real matrices.
import Foundation
import Testing
import LeastSquares
import SparseTensor
import _TestSupport

/// The real rectangular matrices of /work/shared/data (see its README for shapes, ranks and cond),
/// with b = A·x_true + noise from a seeded generator.
///
/// Tolerances follow each problem's conditioning κ = cond(A) (README): the Krylov solvers run with
/// atol = btol = 1e-12, whose forward-error bound for least squares is about κ·atol + κ²·atol·‖r‖/(‖A‖‖x‖);
/// the normal equations lose κ²·eps. Every test also checks the optimality residual ‖Aᵀr‖/(‖A‖_F‖r‖)
/// (the quantity that is unique even when x is not).
@Suite("Exact and Krylov solvers on the shared real matrices")
struct ExactSolversOnSharedDataTests {
    struct Case: CustomStringConvertible, Sendable {
        var file: String
        /// cond(A) from the README (of the nonzero part of the spectrum for rank-deficient matrices).
        var cond: Double
        var rank: Int?
        var description: String { file }
    }

    static let fullRank: [Case] = [
        Case(file: "ash219.mtx", cond: 3.0),
        Case(file: "illc1850.mtx", cond: 1.4e3),
        Case(file: "lp_e226_transposed.mtx", cond: 9.1e3),
        Case(file: "Franz6_id1959_aug.mtx", cond: 1.03),
        Case(file: "Groebner_id2003_aug.mtx", cond: 1.02),
    ]

    /// b = A·x_true + 0.01·noise, x_true and noise standard normal from `seed`.
    static func problem(_ a: CSRMatrix, seed: UInt64, noise: Double = 0.01) throws -> LeastSquaresProblem {
        var rng = SplitMix64(seed: seed)
        let xTrue = (0..<a.columnCount).map { _ in rng.nextGaussian() }
        var b = try a.multiply(xTrue)
        for i in 0..<b.count { b[i] += noise * rng.nextGaussian() }
        return try LeastSquaresProblem(matrix: a, rhs: b)
    }

    static func krylovOptions(_ kind: SolverKind, columns n: Int) -> SolverOptions {
        var o = SolverOptions()
        o.solver = kind
        o.tolerance = 1e-12
        o.conditionLimit = .infinity
        o.maxIterations = 50 * n
        return o
    }

    @Test("LSQR, LSMR and normal equations match SPQR on full-rank problems", arguments: fullRank)
    func fullRankAgreement(_ c: Case) throws {
        let a = try ExactSolverFixtureReader.read(c.file)
        let problem = try Self.problem(a, seed: 0xA5A5 &+ UInt64(a.nnz))
        let reference = try SparseQR.solve(problem, options: SolverOptions(), control: .none)
        #expect(reference.report.rank == a.columnCount, "\(c): SPQR rank \(String(describing: reference.report.rank))")
        // A backward-stable solve leaves ‖Aᵀr‖ ≈ κ·eps·‖A‖·(‖A‖‖x‖ + ‖b‖): relative to ‖A‖‖r‖ that is
        // κ·eps·(1 + ‖A‖‖x‖/‖r‖), large when the noise (hence r) is tiny next to A·x (Groebner: ‖A‖ ≈ 1e9).
        let floor = 10 * c.cond * ExactSolverChecks.roundingFloor(problem, reference.x)
        let refOpt = ExactSolverChecks.relativeOptimality(problem, reference.x)
        #expect(refOpt <= floor, "\(c): SPQR ‖Aᵀr‖/(‖A‖‖r‖) = \(refOpt) (rounding floor \(floor))")

        // Krylov: ‖x − x_qr‖/‖x_qr‖ within κ·atol + κ²·atol (‖r‖/(‖A‖‖x‖) ≤ 1 here), with a 100× margin.
        let krylovTolerance = 100 * (c.cond + c.cond * c.cond) * 1e-12
        for kind in [SolverKind.lsqr, .lsmr] {
            let solution = try LeastSquaresSolver.solve(problem, options: Self.krylovOptions(kind, columns: a.columnCount))
            let err = ExactSolverChecks.relativeNormError(solution.x, reference.x)
            let opt = ExactSolverChecks.relativeOptimality(problem, solution.x)
            #expect(solution.report.stopReason.converged, "\(c) \(kind): stopped with \(solution.report.stopReason) after \(solution.report.iterations)")
            #expect(err <= krylovTolerance, "\(c) \(kind): relative error \(err) (tolerance \(krylovTolerance)), \(solution.report.iterations) iterations")
            #expect(opt <= 1e-10 + floor, "\(c) \(kind): ‖Aᵀr‖/(‖A‖‖r‖) = \(opt) (tolerance 1e-10 + \(floor))")
            #expect((solution.report.conditionEstimate ?? 0) > 0.5, "\(c) \(kind): cond estimate \(String(describing: solution.report.conditionEstimate))")
        }

        // Normal equations lose κ²·eps.
        let normal = try NormalEquations.solve(problem, options: SolverOptions(), control: .none)
        let normalTolerance = 100 * c.cond * c.cond * Double.ulpOfOne + 1e-13
        let err = ExactSolverChecks.relativeNormError(normal.x, reference.x)
        #expect(err <= normalTolerance, "\(c) normal equations: relative error \(err) (tolerance \(normalTolerance))")
        #expect(normal.report.choiceReason.hasPrefix("primal"), "\(c): \(normal.report.choiceReason)")
    }

    @Test("Column scaling reaches the same solution on the badly scaled lp_e226ᵀ")
    func columnScalingOnBadlyScaled() throws {
        let a = try ExactSolverFixtureReader.read("lp_e226_transposed.mtx")
        let problem = try Self.problem(a, seed: 226)
        let reference = try SparseQR.solve(problem, options: SolverOptions(), control: .none)
        for kind in [SolverKind.lsqr, .lsmr] {
            var options = Self.krylovOptions(kind, columns: a.columnCount)
            options.columnScaling = true
            let scaled = try LeastSquaresSolver.solve(problem, options: options)
            let err = ExactSolverChecks.relativeNormError(scaled.x, reference.x)
            #expect(scaled.report.stopReason.converged, "\(kind): \(scaled.report.stopReason)")
            #expect(err <= 1e-6, "\(kind) with column scaling: relative error \(err), \(scaled.report.iterations) iterations")
            #expect(scaled.report.diagnostics.contains { $0.contains("column scaling") })
        }
    }

    @Test("Underdetermined lp_share1b: every solver returns SPQR's minimum-norm solution")
    func underdeterminedMinimumNorm() throws {
        let a = try ExactSolverFixtureReader.read("lp_share1b.mtx")
        #expect(a.rowCount == 117 && a.columnCount == 253)
        let problem = try Self.problem(a, seed: 1179)
        let reference = try SparseQR.solve(problem, options: SolverOptions(), control: .none)
        #expect(reference.report.rank == 117)
        #expect(reference.report.choiceReason.contains("minimum-norm"))
        // Consistent (full row rank): the residual vanishes.
        let ynorm = DenseVector.norm(problem.rhs)
        #expect(reference.report.residualNorm <= 1e-9 * ynorm, "SPQR ‖r‖ = \(reference.report.residualNorm)")
        // Minimum norm: x is in the row space of A, i.e. x = Aᵀz; check against an independent route,
        // the dual normal equations x = Aᵀ(AAᵀ)⁻¹y (accuracy κ²·eps with κ ≈ 1.05e5).
        let dual = try NormalEquations.solve(problem, options: SolverOptions(), control: .none)
        #expect(dual.report.choiceReason.hasPrefix("dual"), "\(dual.report.choiceReason)")
        let dualErr = ExactSolverChecks.relativeNormError(dual.x, reference.x)
        #expect(dualErr <= 100 * 1.05e5 * 1.05e5 * Double.ulpOfOne, "dual normal equations vs SPQR: \(dualErr)")
        // A solution plus a null-space vector is longer: min-norm really is minimal among solutions.
        #expect(DenseVector.norm(reference.x) < DenseVector.norm(try ExactSolverChecks.someOtherSolution(a, reference.x)))
        for kind in [SolverKind.lsqr, .lsmr] {
            let solution = try LeastSquaresSolver.solve(problem, options: Self.krylovOptions(kind, columns: a.columnCount))
            let err = ExactSolverChecks.relativeNormError(solution.x, reference.x)
            #expect(solution.report.stopReason == .residualTolerance, "\(kind): \(solution.report.stopReason)")
            #expect(err <= 100 * 1.05e5 * 1e-12, "\(kind) vs SPQR min-norm: \(err), \(solution.report.iterations) iterations")
        }
    }

    @Test("Maragal_1 with its own b: rank 10, minimum-norm ‖x‖ ≈ 1.4626 from SPQR, LSQR and LSMR")
    func maragal() throws {
        let a = try ExactSolverFixtureReader.read("Maragal_1.mtx")
        let b = try ExactSolverFixtureReader.readVector("Maragal_1.b.txt")
        #expect(a.rowCount == 32 && a.columnCount == 14 && b.count == 32)
        let problem = try LeastSquaresProblem(matrix: a, rhs: b)
        let qr = try SparseQR.solve(problem, options: SolverOptions(), control: .none)
        #expect(qr.report.rank == 10, "SPQR rank \(String(describing: qr.report.rank)); \(qr.report.diagnostics)")
        #expect(qr.report.diagnostics.contains { $0.contains("rank-deficient") })
        #expect(abs(DenseVector.norm(qr.x) - 1.4626) < 1e-4, "SPQR ‖x‖ = \(DenseVector.norm(qr.x))")
        #expect(qr.report.residualNorm < 1e-9, "SPQR ‖r‖ = \(qr.report.residualNorm)")
        for kind in [SolverKind.lsqr, .lsmr] {
            var options = Self.krylovOptions(kind, columns: a.columnCount)
            options.tolerance = 1e-10
            let solution = try LeastSquaresSolver.solve(problem, options: options)
            #expect(abs(DenseVector.norm(solution.x) - 1.4626) < 1e-4, "\(kind) ‖x‖ = \(DenseVector.norm(solution.x))")
            #expect(ExactSolverChecks.relativeNormError(solution.x, qr.x) < 1e-6, "\(kind) vs SPQR: \(ExactSolverChecks.relativeNormError(solution.x, qr.x))")
            #expect(solution.report.residualNorm < 1e-8, "\(kind) ‖r‖ = \(solution.report.residualNorm)")
        }
        // AᵀA is singular: the normal equations refuse with advice.
        #expect {
            _ = try NormalEquations.solve(problem, options: SolverOptions(), control: .none)
        } throws: { error in
            "\(error)".contains("--solver qr") && ("\(error)".contains("not positive definite") || "\(error)".contains("numerically singular"))
        }
    }

    @Test("n3c5-b3 (rank 84 of 120): same optimality residual and the same minimum-norm x")
    func homologyBoundary() throws {
        let a = try ExactSolverFixtureReader.read("n3c5-b3.mtx")
        let problem = try Self.problem(a, seed: 84)
        let qr = try SparseQR.solve(problem, options: SolverOptions(), control: .none)
        #expect(qr.report.rank == 84, "SPQR rank \(String(describing: qr.report.rank))")
        #expect(ExactSolverChecks.relativeOptimality(problem, qr.x) < 1e-12)
        for kind in [SolverKind.lsqr, .lsmr] {
            let solution = try LeastSquaresSolver.solve(problem, options: Self.krylovOptions(kind, columns: a.columnCount))
            let opt = ExactSolverChecks.relativeOptimality(problem, solution.x)
            #expect(opt < 1e-10, "\(kind): ‖Aᵀr‖/(‖A‖‖r‖) = \(opt)")
            #expect(abs(solution.report.residualNorm - qr.report.residualNorm) <= 1e-8 * qr.report.residualNorm,
                    "\(kind) ‖r‖ = \(solution.report.residualNorm), SPQR ‖r‖ = \(qr.report.residualNorm)")
            // Started at 0, LSQR and LSMR stay in range(Aᵀ): the minimum-norm solution, as SPQR's two-step route.
            #expect(ExactSolverChecks.relativeNormError(solution.x, qr.x) < 1e-8, "\(kind) vs SPQR: \(ExactSolverChecks.relativeNormError(solution.x, qr.x))")
        }
        #expect(throws: SolverError.self) { try NormalEquations.solve(problem, options: SolverOptions(), control: .none) }
    }

    @Test("Damping identity on illc1850: LSQR/LSMR with λ₂ == QR of the explicitly stacked [A; √λ₂I], [b; 0] == normal equations")
    func dampingIdentity() throws {
        let a = try ExactSolverFixtureReader.read("illc1850.mtx")
        let base = try Self.problem(a, seed: 1850)
        let λ = 1e-2
        let problem = try LeastSquaresProblem(matrix: a, rhs: base.rhs, regularization: Regularization(l2: λ))
        let stacked = try ExactSolverChecks.stacked(a, λ.squareRoot())
        let augmented = try LeastSquaresProblem(matrix: stacked, rhs: base.rhs + [Double](repeating: 0, count: a.columnCount))
        let qr = try SparseQR.solve(augmented, options: SolverOptions(), control: .none)
        // The solver's own ridge route (QR of [A; √λ₂I] built internally) and CHOLMOD agree with it.
        let ridgeQR = try SparseQR.solve(problem, options: SolverOptions(), control: .none)
        #expect(ExactSolverChecks.relativeNormError(ridgeQR.x, qr.x) < 1e-12)
        let normal = try NormalEquations.solve(problem, options: SolverOptions(), control: .none)
        // cond([A; √λI]) ≤ cond(A) ≈ 1.4e3: the normal equations keep about 16 − 2·3.2 digits.
        #expect(ExactSolverChecks.relativeNormError(normal.x, qr.x) < 100 * 1.4e3 * 1.4e3 * Double.ulpOfOne)
        for kind in [SolverKind.lsqr, .lsmr] {
            let solution = try LeastSquaresSolver.solve(problem, options: Self.krylovOptions(kind, columns: a.columnCount))
            let err = ExactSolverChecks.relativeNormError(solution.x, qr.x)
            #expect(err < 100 * (1.4e3 + 1.4e3 * 1.4e3) * 1e-12, "\(kind): \(err) after \(solution.report.iterations) iterations")
        }
    }
}

// MARK: - Test fixture reader and checks

/// The shared fixtures through lsq's own readers (`MatrixIO`): Matrix Market coordinate files and
/// one-number-per-line vectors.
enum ExactSolverFixtureReader {
    static func read(_ name: String) throws -> CSRMatrix {
        try MatrixIO.readMatrix(at: Fixtures.shared(name)).matrix
    }

    static func readVector(_ name: String) throws -> [Double] {
        try MatrixIO.readVector(at: Fixtures.shared(name))
    }
}

/// Small independent checks shared by the solver tests of this group.
enum ExactSolverChecks {
    /// ‖x − ref‖₂ / max(‖ref‖₂, tiny).
    static func relativeNormError(_ x: [Double], _ ref: [Double]) -> Double {
        precondition(x.count == ref.count)
        let d = zip(x, ref).map { $0 - $1 }
        return DenseVector.norm(d) / max(DenseVector.norm(ref), 1e-300)
    }

    /// eps·(1 + ‖A‖_F·‖x‖/‖r‖): the relative optimality residual that rounding alone leaves (per unit of κ).
    static func roundingFloor(_ problem: LeastSquaresProblem, _ x: [Double]) -> Double {
        let ax = try! problem.matrix.multiply(x)
        let rn = DenseVector.norm(zip(problem.rhs, ax).map { $0 - $1 })
        let fro = problem.matrix.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return Double.ulpOfOne * (1 + fro * DenseVector.norm(x) / max(rn, 1e-300))
    }

    /// ‖Aᵀ(y − Ax) − λ₂x‖ / (‖A‖_F·‖y − Ax‖), computed here from scratch (not from the report).
    static func relativeOptimality(_ problem: LeastSquaresProblem, _ x: [Double]) -> Double {
        let a = problem.matrix
        let ax = try! a.multiply(x)
        let r = zip(problem.rhs, ax).map { $0 - $1 }
        var g = try! a.transposeMultiply(r)
        for j in 0..<g.count { g[j] -= problem.regularization.l2 * x[j] }
        let fro = a.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let rn = DenseVector.norm(r)
        return rn == 0 ? DenseVector.norm(g) : DenseVector.norm(g) / (fro * rn)
    }

    /// x + v for a null-space vector v of an underdetermined A: v = e − p with p the minimum-norm
    /// solution of A·p = A·e (the row-space part of e = e_{n−1}), so A·v = 0 and v ≠ 0 when n > rank.
    static func someOtherSolution(_ a: CSRMatrix, _ x: [Double]) throws -> [Double] {
        var e = [Double](repeating: 0, count: a.columnCount)
        e[a.columnCount - 1] = 1
        let ae = try a.multiply(e)
        // p = minimum-norm solution of A·p = A·e: the row-space part of e, so v = e − p is in null(A).
        let p = try SparseQR.solve(try LeastSquaresProblem(matrix: a, rhs: ae), options: SolverOptions(), control: .none).x
        return (0..<x.count).map { x[$0] + e[$0] - p[$0] }
    }

    /// The dense matrix [A; δI] as a CSR matrix (for the damping identity).
    static func stacked(_ a: CSRMatrix, _ δ: Double) throws -> CSRMatrix {
        var coo = COOMatrix(a)
        var rows = coo.rows.map(Int.init), cols = coo.columns.map(Int.init), vals = coo.values
        for j in 0..<a.columnCount { rows.append(a.rowCount + j); cols.append(j); vals.append(δ) }
        coo = try COOMatrix(rowCount: a.rowCount + a.columnCount, columnCount: a.columnCount, rows: rows, columns: cols, values: vals)
        return try CSRMatrix(coo)
    }

    /// Dense minimum-norm solution of a full-row-rank A·x = b: x = Aᵀ(AAᵀ)⁻¹b.
    static func denseMinimumNorm(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let m = a.count, n = a.first?.count ?? 0
        let aat = (0..<m).map { i in (0..<m).map { k in (0..<n).reduce(0) { $0 + a[i][$1] * a[k][$1] } } }
        let z = DenseReference.solve(aat, b)
        return (0..<n).map { j in (0..<m).reduce(0) { $0 + a[$1][j] * z[$1] } }
    }
}
