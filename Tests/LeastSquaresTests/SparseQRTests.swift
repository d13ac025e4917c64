// LeastSquaresTests/SparseQRTests: SPQR least squares against dense references; minimum norm, rank deficiency, budget.
import Foundation
import Testing
import LeastSquares
import SparseTensor
import _TestSupport

@Suite("Sparse QR (SuiteSparseQR)")
struct SparseQRTests {
    static func solve(_ p: LeastSquaresProblem, budget: Int? = nil) throws(SolverError) -> Solution {
        var o = SolverOptions()
        o.solver = .qr
        o.memoryBudgetBytes = budget
        return try LeastSquaresSolver.solve(p, options: o)
    }

    static func rhs(_ m: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<m).map { _ in rng.nextGaussian() }
    }

    @Test("matches DenseReference.ridge on small random problems, λ₂ = 0 and λ₂ > 0", arguments: [0.0, 0.1, 2.0])
    func denseRidge(_ λ: Double) throws {
        for seed: UInt64 in 1...6 {
            let (a, dense) = randomSmall(rows: 30, columns: 8 + Int(seed), density: 0.4, seed: seed)
            let b = Self.rhs(30, seed: seed + 100)
            let p = try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: λ))
            let s = try Self.solve(p)
            let expected = DenseReference.ridge(dense, b, lambda: λ)
            #expect(relativeError(s.x, expected) < 1e-10, "seed \(seed) λ₂ = \(λ): \(relativeError(s.x, expected))")
            #expect(s.report.stopReason == .exact && s.report.solver == .qr)
            #expect(s.report.rank == a.columnCount)
            #expect(s.report.optimalityNorm < 1e-10, "‖Aᵀr − λ₂x‖ = \(s.report.optimalityNorm)")
            #expect(s.report.choiceReason.contains(λ > 0 ? "ridge" : "overdetermined"), "\(s.report.choiceReason)")
        }
    }

    @Test("sample weights: the same as scaling rows by √w")
    func weights() throws {
        let (a, dense) = randomSmall(rows: 25, columns: 7, density: 0.5, seed: 9)
        let b = Self.rhs(25, seed: 10)
        let w = (0..<25).map { Double($0 % 4) * 0.5 + 0.25 }
        for λ in [0.0, 0.4] {
            let p = try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: λ), sampleWeights: w)
            let s = try Self.solve(p)
            let expected = DenseReference.ridge(dense.enumerated().map { i, r in r.map { $0 * w[i].squareRoot() } },
                                                b.enumerated().map { $1 * w[$0].squareRoot() }, lambda: λ)
            #expect(relativeError(s.x, expected) < 1e-10, "λ₂ = \(λ): \(relativeError(s.x, expected))")
            #expect(abs(s.report.objective - p.objective(s.x)) < 1e-12 * p.objective(s.x))
        }
    }

    @Test("underdetermined, full row rank: the minimum-norm solution x = Aᵀ(AAᵀ)⁻¹y")
    func minimumNorm() throws {
        for seed: UInt64 in 1...5 {
            let (a, dense) = randomSmall(rows: 8, columns: 20, density: 0.5, seed: seed)
            let b = Self.rhs(8, seed: seed)
            let s = try Self.solve(try LeastSquaresProblem(matrix: a, rhs: b))
            let expected = ExactSolverChecks.denseMinimumNorm(dense, b)
            #expect(relativeError(s.x, expected) < 1e-10, "seed \(seed): \(relativeError(s.x, expected))")
            #expect(s.report.rank == 8)
            #expect(s.report.residualNorm < 1e-12 * DenseVector.norm(b))
            #expect(s.report.choiceReason.contains("minimum-norm"))
        }
    }

    @Test("rank-deficient overdetermined (a repeated column): rank reported, minimum-norm least squares")
    func repeatedColumn() throws {
        // A = [B, B(:,0)]: any split of z₀ between columns 0 and k solves it; the minimum norm splits it evenly.
        let (bm, bDense) = randomSmall(rows: 30, columns: 6, density: 0.6, seed: 21)
        let k = bm.columnCount
        var coo = COOMatrix(bm)
        var rows = coo.rows.map(Int.init), cols = coo.columns.map(Int.init), vals = coo.values
        for (t, c) in coo.columns.enumerated() where c == 0 { rows.append(Int(coo.rows[t])); cols.append(k); vals.append(coo.values[t]) }
        coo = try COOMatrix(rowCount: 30, columnCount: k + 1, rows: rows, columns: cols, values: vals)
        let a = try CSRMatrix(coo)
        let y = Self.rhs(30, seed: 22)
        let z = DenseReference.ridge(bDense, y)
        var expected = z + [z[0] / 2]
        expected[0] = z[0] / 2
        let s = try Self.solve(try LeastSquaresProblem(matrix: a, rhs: y))
        #expect(s.report.rank == k, "rank \(String(describing: s.report.rank))")
        #expect(s.report.diagnostics.contains { $0.contains("rank-deficient") }, "\(s.report.diagnostics)")
        #expect(relativeError(s.x, expected) < 1e-10, "\(s.x) vs \(expected)")
        #expect(s.report.iterations == 2, "two factorizations: QR of A then of Aᵀ")
    }

    @Test("rank-deficient underdetermined and inconsistent (a repeated row with another value)")
    func repeatedRowInconsistent() throws {
        // A = [B; B(0,:)], y = [c; d]: the least-squares fit sets B(0,:)·x = (c₀ + d)/2, the rest exactly.
        let (bm, bDense) = randomSmall(rows: 6, columns: 15, density: 0.6, seed: 31)
        let c = Self.rhs(6, seed: 32), d = 5.0
        var coo = COOMatrix(bm)
        var rows = coo.rows.map(Int.init), cols = coo.columns.map(Int.init), vals = coo.values
        for (t, r) in coo.rows.enumerated() where r == 0 { rows.append(6); cols.append(Int(coo.columns[t])); vals.append(coo.values[t]) }
        coo = try COOMatrix(rowCount: 7, columnCount: 15, rows: rows, columns: cols, values: vals)
        let a = try CSRMatrix(coo)
        var averaged = c
        averaged[0] = (c[0] + d) / 2
        let expected = ExactSolverChecks.denseMinimumNorm(bDense, averaged)
        let s = try Self.solve(try LeastSquaresProblem(matrix: a, rhs: c + [d]))
        #expect(s.report.rank == 6)
        #expect(relativeError(s.x, expected) < 1e-10, "\(relativeError(s.x, expected))")
        #expect(abs(s.report.residualNorm - abs(c[0] - d) / 2.0.squareRoot()) < 1e-10)
    }

    @Test("the memory budget refuses the copy, then the factor, with figures")
    func memoryBudget() throws {
        let a = RandomSparse.matrix(rows: 400, columns: 200, density: 0.05, seed: 3)
        let p = try LeastSquaresProblem(matrix: a, rhs: Self.rhs(400, seed: 4))
        // A tiny budget: the copy of A for SPQR does not fit.
        #expect { try Self.solve(p, budget: 1000) } throws: { error in
            guard case let SolverError.sparse(.exceedsMemoryBudget(what, bytes, budget, _)) = error else { return false }
            return budget == 1000 && bytes > 1000 && what.contains("SPQR")
        }
        // Room for CHOLMOD's copy but not for A's columns as well, which exist while it is filled: refused first.
        let copy = StorageBytes.cholmod(outer: 200, nnz: Double(a.nnz))
        #expect { try Self.solve(p, budget: Int(copy) + 1000) } throws: { error in
            guard case let SolverError.sparse(.exceedsMemoryBudget(what, bytes, _, detail)) = error else { return false }
            return what.contains("SPQR") && detail.contains("while they are copied")
                && bytes >= copy + StorageBytes.compressed(outer: 200, nnz: Double(a.nnz))
        }
        // Room for the copies (and AMD's pattern) but not for R and H: SPQR's analysis bounds are quoted.
        #expect { try Self.solve(p, budget: Int(copy) + 100_000) } throws: { error in
            guard case let SolverError.sparse(.exceedsMemoryBudget(what, bytes, _, detail)) = error else { return false }
            return what.contains("QR factorization") && detail.contains("nnz(R) ≤") && bytes > copy + 100_000
        }
        // And with enough memory it works.
        #expect(try Self.solve(p, budget: 100_000_000).report.stopReason == .exact)
    }

    @Test("λ₁ > 0 is unsupported; A = 0, y = 0 and empty shapes give x = 0")
    func edges() throws {
        let (a, _) = randomSmall(rows: 10, columns: 4, density: 0.5, seed: 1)
        let lasso = try LeastSquaresProblem(matrix: a, rhs: Self.rhs(10, seed: 1), regularization: Regularization(l1: 1))
        #expect { try Self.solve(lasso) } throws: { "\($0)".contains("--solver cd") }
        let zeroY = try Self.solve(try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 0, count: 10)))
        #expect(zeroY.report.stopReason == .zeroSolution && zeroY.x == [0, 0, 0, 0])
        for (m, n) in [(0, 0), (0, 3), (3, 0), (5, 3)] {
            let z = try CSRMatrix.zeros(rowCount: m, columnCount: n)
            let s = try Self.solve(try LeastSquaresProblem(matrix: z, rhs: [Double](repeating: 1, count: m)))
            #expect(s.x == [Double](repeating: 0, count: n), "\(m) × \(n)")
            #expect(s.report.rank == 0)
        }
    }

    @Test("a pre-set cancellation stops before factorizing; x0 is ignored with a note")
    func cancellationAndWarmStart() throws {
        let (a, dense) = randomSmall(rows: 20, columns: 5, density: 0.6, seed: 2)
        let b = Self.rhs(20, seed: 3)
        let flag = CancellationFlag()
        flag.cancel()
        var o = SolverOptions(); o.solver = .qr
        let s = try LeastSquaresSolver.solve(try LeastSquaresProblem(matrix: a, rhs: b), options: o,
                                             control: SolveControl(cancellation: flag))
        #expect(s.report.stopReason == .cancelled && s.report.iterations == 0)
        let warm = try Self.solve(try LeastSquaresProblem(matrix: a, rhs: b, initialGuess: [1, 2, 3, 4, 5]))
        #expect(relativeError(warm.x, DenseReference.ridge(dense, b)) < 1e-10)
        #expect(warm.report.diagnostics.contains { $0.contains("initial guess ignored") })
    }
}
