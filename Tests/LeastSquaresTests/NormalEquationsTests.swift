// LeastSquaresTests/NormalEquationsTests: CHOLMOD primal and dual normal equations against dense references and each other.
import Foundation
import Testing
@testable import LeastSquares
import SparseTensor
import _TestSupport

@Suite("Normal equations (CHOLMOD)")
struct NormalEquationsTests {
    static func rhs(_ m: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<m).map { _ in rng.nextGaussian() }
    }

    static func options(budget: Int? = nil) -> SolverOptions {
        var o = SolverOptions()
        o.solver = .normal
        o.memoryBudgetBytes = budget
        return o
    }

    @Test("matches DenseReference.ridge (tall, primal), with and without λ₂ and weights")
    func denseReference() throws {
        for seed: UInt64 in 1...5 {
            for λ in [0.0, 0.3] {
                let (a, dense) = randomSmall(rows: 30, columns: 10, density: 0.4, seed: seed)
                let b = Self.rhs(30, seed: seed)
                let s = try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: λ)),
                                                     options: Self.options())
                let expected = DenseReference.ridge(dense, b, lambda: λ)
                #expect(relativeError(s.x, expected) < 1e-10, "seed \(seed) λ₂ = \(λ): \(relativeError(s.x, expected))")
                #expect(s.report.solver == .normal && s.report.stopReason == .exact)
                #expect(s.report.choiceReason.hasPrefix("primal"), "\(s.report.choiceReason)")
            }
        }
        let (a, dense) = randomSmall(rows: 30, columns: 10, density: 0.4, seed: 7)
        let b = Self.rhs(30, seed: 7)
        let w = (0..<30).map { 0.2 + Double($0 % 3) }
        for form in [NormalEquations.Form.primal, .dual] {
            let s = try NormalEquations.solve(try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: 0.5), sampleWeights: w),
                                              options: SolverOptions(), control: .none, form: form)
            let expected = DenseReference.ridge(dense.enumerated().map { i, r in r.map { $0 * w[i].squareRoot() } },
                                                b.enumerated().map { $1 * w[$0].squareRoot() }, lambda: 0.5)
            #expect(relativeError(s.x, expected) < 1e-10, "\(form) with weights: \(relativeError(s.x, expected))")
        }
    }

    @Test("dual and primal agree on both shapes (λ₂ > 0); automatic picks the smaller Gram matrix",
          arguments: [(40, 12), (12, 40), (25, 25)])
    func dualEqualsPrimal(_ shape: (Int, Int)) throws {
        let (m, n) = shape
        let (a, _) = randomSmall(rows: m, columns: n, density: 0.3, seed: UInt64(m * 100 + n))
        let p = try LeastSquaresProblem(matrix: a, rhs: Self.rhs(m, seed: 5), regularization: Regularization(l2: 0.25))
        let primal = try NormalEquations.solve(p, options: SolverOptions(), control: .none, form: .primal)
        let dual = try NormalEquations.solve(p, options: SolverOptions(), control: .none, form: .dual)
        let automatic = try NormalEquations.solve(p, options: SolverOptions(), control: .none)
        #expect(relativeError(primal.x, dual.x) < 1e-11, "\(m) × \(n): \(relativeError(primal.x, dual.x))")
        #expect(primal.report.choiceReason.hasPrefix("primal") && primal.report.choiceReason.contains("forced"))
        #expect(dual.report.choiceReason.hasPrefix("dual") && dual.report.choiceReason.contains("forced"))
        #expect(automatic.report.choiceReason.hasPrefix(m < n ? "dual" : "primal"), "\(automatic.report.choiceReason)")
        let qr = try SparseQR.solve(p, options: SolverOptions(), control: .none)
        #expect(relativeError(automatic.x, qr.x) < 1e-11)
    }

    @Test("the dual with λ₂ = 0 gives the minimum-norm solution of an underdetermined system")
    func dualMinimumNorm() throws {
        let (a, dense) = randomSmall(rows: 8, columns: 20, density: 0.5, seed: 4)
        let b = Self.rhs(8, seed: 4)
        let s = try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: a, rhs: b), options: Self.options())
        #expect(s.report.choiceReason.hasPrefix("dual"))
        #expect(relativeError(s.x, ExactSolverChecks.denseMinimumNorm(dense, b)) < 1e-10)
    }

    @Test("a singular Gram matrix with λ₂ = 0 is an error with advice; λ₂ > 0 fixes it")
    func singular() throws {
        // Tall with a repeated column: AᵀA is singular.
        let (b0, _) = randomSmall(rows: 20, columns: 4, density: 0.7, seed: 8)
        var coo = COOMatrix(b0)
        var rows = coo.rows.map(Int.init), cols = coo.columns.map(Int.init), vals = coo.values
        for (t, c) in coo.columns.enumerated() where c == 1 { rows.append(Int(coo.rows[t])); cols.append(4); vals.append(coo.values[t]) }
        coo = try COOMatrix(rowCount: 20, columnCount: 5, rows: rows, columns: cols, values: vals)
        let a = try CSRMatrix(coo)
        let y = Self.rhs(20, seed: 9)
        #expect { try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: a, rhs: y), options: Self.options()) } throws: { error in
            guard case let SolverError.sparse(.suiteSparse(routine, status, reason)) = error else { return false }
            return routine == "cholmod_l_factorize_p" && status > 0 && reason.contains("--solver qr") && reason.contains("--l2")
        }
        let ridge = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: 1e-3))
        let s = try LeastSquaresSolver.solve(ridge, options: Self.options())
        let qr = try SparseQR.solve(ridge, options: SolverOptions(), control: .none)
        #expect(relativeError(s.x, qr.x) < 1e-8, "\(relativeError(s.x, qr.x))")

        // λ₂ > 0 keeps the system positive definite however small the diagonal's rcond: a zero column beside a
        // 1e4 one (rcond ≈ 1e-17) is solved, with a warning, not refused — also when auto picks the normal equations.
        let spread = try CSRMatrix(COOMatrix(rowCount: 2, columnCount: 2, rows: [0] as [Int], columns: [0], values: [1e4]))
        let tiny = try LeastSquaresProblem(matrix: spread, rhs: [1, 1], regularization: Regularization(l2: 1e-9))
        for solver in [SolverKind.normal, .auto] {
            var o = Self.options()
            o.solver = solver
            let t = try LeastSquaresSolver.solve(tiny, options: o)
            #expect(t.report.solver == .normal)
            #expect(abs(t.x[0] - 1e4 / (1e8 + 1e-9)) < 1e-18 && t.x[1] == 0, "\(t.x)")
            #expect(t.report.diagnostics.contains { $0.contains("ill-conditioned") }, "\(t.report.diagnostics)")
        }
    }

    @Test("the memory budget refuses the copy, then AMD's pattern of AᵀA, with figures; METIS only with room to spare")
    func memoryBudget() throws {
        let a = RandomSparse.matrix(rows: 600, columns: 300, density: 0.05, seed: 11)
        let p = try LeastSquaresProblem(matrix: a, rhs: Self.rhs(600, seed: 12))
        #expect { try LeastSquaresSolver.solve(p, options: Self.options(budget: 2000)) } throws: { error in
            guard case let SolverError.sparse(.exceedsMemoryBudget(what, bytes, budget, detail)) = error else { return false }
            return budget == 2000 && bytes > 2000 && what.contains("CHOLMOD") && detail.contains("nonzeros")
        }
        // The copy of Aᵀ (and its transpose inside CHOLMOD) fit; the pattern of AᵀA (nearly dense: ≈ 300² entries)
        // that CHOLMOD's AMD would build does not, and is refused before CHOLMOD allocates it.
        let copies = 2 * StorageBytes.cholmod(outer: 300, nnz: Double(a.nnz))
        let pattern = OrderingBudget.amdBytes(nnz: Double(try a.product(.ata).nnz), order: 300)
        #expect { try LeastSquaresSolver.solve(p, options: Self.options(budget: Int(copies + 0.9 * pattern))) } throws: { error in
            guard case let SolverError.sparse(.exceedsMemoryBudget(what, _, _, detail)) = error else { return false }
            // The need counts the copies of A that stay allocated meanwhile, and the message says so.
            return what.contains("AMD ordering pattern of AᵀA") && what.contains("Cholesky factorization") && detail.contains("nnz ≈")
                && detail.contains("held by A's copies for CHOLMOD")
        }
        // Room for AMD and the factor but not for METIS with its margin: AMD only, said in the report.
        let tight = try LeastSquaresSolver.solve(p, options: Self.options(budget: Int(copies + 1.5 * pattern)))
        #expect(tight.report.stopReason == .exact && tight.report.diagnostics.contains { $0.contains("AMD only") })
        let roomy = try LeastSquaresSolver.solve(p, options: Self.options(budget: 100_000_000))
        #expect(roomy.report.stopReason == .exact && !roomy.report.diagnostics.contains { $0.contains("AMD only") })
        #expect(zip(tight.x, roomy.x).map { abs($0 - $1) }.max()! <= 1e-9 * max(1, roomy.x.map(abs).max()!))
    }

    @Test("the memory budget refuses a factor whose fill (nnz(L) from the analysis) exceeds it, with figures")
    func factorBudget() throws {
        // A random AᵀA with ~12 entries a row: a small pattern, but its Cholesky factor fills in heavily.
        let a = RandomSparse.matrix(rows: 3000, columns: 1500, density: 0.002, seed: 5)
        let p = try LeastSquaresProblem(matrix: a, rhs: Self.rhs(3000, seed: 6))
        let copies = 2 * StorageBytes.cholmod(outer: 1500, nnz: Double(a.nnz))
        let pattern = OrderingBudget.amdBytes(nnz: Double(try a.product(.ata).nnz), order: 1500)
        #expect { try LeastSquaresSolver.solve(p, options: Self.options(budget: Int(copies + 1.2 * pattern))) } throws: { error in
            guard case let SolverError.sparse(.exceedsMemoryBudget(what, _, _, detail)) = error else { return false }
            return what.contains("Cholesky factor") && detail.contains("nnz(L)")
        }
    }

    @Test("λ₁ > 0 is unsupported; zero and empty problems give x = 0; cancellation before factorizing")
    func edges() throws {
        let (a, _) = randomSmall(rows: 10, columns: 4, density: 0.5, seed: 1)
        #expect {
            try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: a, rhs: Self.rhs(10, seed: 1), regularization: Regularization(l1: 0.5)),
                                         options: Self.options())
        } throws: { "\($0)".contains("--solver cd") }
        for (m, n) in [(0, 0), (0, 3), (3, 0), (5, 3)] {
            let z = try CSRMatrix.zeros(rowCount: m, columnCount: n)
            let s = try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: z, rhs: [Double](repeating: 1, count: m)), options: Self.options())
            #expect(s.x == [Double](repeating: 0, count: n) && s.report.stopReason == .zeroSolution, "\(m) × \(n)")
        }
        let flag = CancellationFlag()
        flag.cancel()
        let s = try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: a, rhs: Self.rhs(10, seed: 2)), options: Self.options(),
                                             control: SolveControl(cancellation: flag))
        #expect(s.report.stopReason == .cancelled && s.x == [0, 0, 0, 0])
    }
}
