// LeastSquaresTests/AutoSolverTests: each branch of the `auto` rule, its boundaries, and its reason text.
import Testing
@testable import LeastSquares
import SparseTensor
import _TestSupport

@Suite("AutoSolver")
struct AutoSolverTests {
    func problem(rows m: Int, columns n: Int, l1: Double = 0, l2: Double = 0) throws -> LeastSquaresProblem {
        try LeastSquaresProblem(matrix: try CSRMatrix.zeros(rowCount: m, columnCount: n), rhs: [Double](repeating: 1, count: m),
                                regularization: Regularization(l1: l1, l2: l2))
    }

    @Test("λ₁ > 0 picks cd whatever the size")
    func lassoPicksCD() throws {
        for (m, n) in [(10, 5), (100_000, 80_000)] {
            let (kind, reason) = AutoSolver.choose(for: try problem(rows: m, columns: n, l1: 0.5, l2: 1), options: SolverOptions())
            #expect(kind == .cd)
            #expect(reason.contains("λ₁ = 0.5"))
        }
    }

    @Test("small problems get an exact factorization: qr without ridge, normal with it")
    func smallProblems() throws {
        let (qr, qrReason) = AutoSolver.choose(for: try problem(rows: 1200, columns: 300), options: SolverOptions())
        #expect(qr == .qr)
        #expect(qrReason.contains("1200 × 300") && qrReason.contains("λ₂ = 0"))
        let (normal, normalReason) = AutoSolver.choose(for: try problem(rows: 1200, columns: 300, l2: 0.1), options: SolverOptions())
        #expect(normal == .normal)
        #expect(normalReason.contains("λ₂ = 0.1"))
        // Wide: the dual system has order m.
        #expect(AutoSolver.choose(for: try problem(rows: 200, columns: 90_000), options: SolverOptions()).0 == .qr)
    }

    @Test("the size boundary is min(m, n) = 5000")
    func dimensionBoundary() throws {
        #expect(AutoSolver.choose(for: try problem(rows: 9000, columns: 5000), options: SolverOptions()).0 == .qr)
        let (kind, reason) = AutoSolver.choose(for: try problem(rows: 9000, columns: 5001, l2: 4), options: SolverOptions())
        #expect(kind == .lsmr)
        #expect(reason.contains("5001 > 5000") && reason.contains("damping √λ₂ = 2.0"))
    }

    @Test("more than 10⁶ nonzeros goes to lsmr even when min(m, n) is small")
    func nonzeroBoundary() throws {
        let m = 1000, n = 1001
        let a = try CSRMatrix(rowCount: m, columnCount: n, rowOffsets: (0...m).map { $0 * n },
                              columnIndices: (0..<m * n).map { Int32($0 % n) }, values: [Double](repeating: 1, count: m * n))
        let p = try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 1, count: m))
        let (kind, reason) = AutoSolver.choose(for: p, options: SolverOptions())
        #expect(kind == .lsmr)
        #expect(reason.contains("nnz > 1000000"))
    }

    @Test("a factor that does not fit the memory budget goes to lsmr")
    func memoryBudget() throws {
        var options = SolverOptions()
        options.memoryBudgetBytes = 100_000
        let (kind, reason) = AutoSolver.choose(for: try problem(rows: 400, columns: 300), options: options)
        #expect(kind == .lsmr)
        #expect(reason.contains("budget"))
        options.memoryBudgetBytes = 10_000_000
        #expect(AutoSolver.choose(for: try problem(rows: 400, columns: 300), options: options).0 == .qr)
    }

    @Test("through the dispatcher, auto with λ₁ runs cd and the report carries the reason")
    func dispatcher() throws {
        let (a, _, y, _) = IterativeReference.plantedProblem(rows: 30, columns: 10, density: 0.5, support: 3, noise: 0.1, seed: 5)
        let p = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l1: 0.2))
        let solution = try LeastSquaresSolver.solve(p)
        #expect(solution.report.solver == .cd)
        #expect(solution.report.choiceReason.hasPrefix("auto: λ₁ = 0.2 > 0"))
    }

    @Test("with sample weights every solver reports the same, unweighted ‖y − A·x‖", arguments: [SolverKind.qr, .normal, .lsqr, .lsmr, .cd, .sgd])
    func residualNormIsUnweighted(solver: SolverKind) throws {
        // The second row has weight 0: x = 0 minimises the weighted objective, and ‖y − A·x‖ = 100.
        let a = try CSRMatrix(COOMatrix(rowCount: 2, columnCount: 1, rows: [0, 1] as [Int], columns: [0, 0], values: [1, 1]))
        let p = try LeastSquaresProblem(matrix: a, rhs: [0, 100], sampleWeights: [1, 0])
        var o = SolverOptions()
        o.solver = solver
        let s = try LeastSquaresSolver.solve(p, options: o)
        #expect(abs(s.x[0]) < 1e-6, "\(solver): x = \(s.x)")
        #expect(abs(s.report.residualNorm - DenseVector.norm(p.residual(s.x))) < 1e-9, "\(solver): \(s.report.residualNorm)")
        #expect(abs(s.report.residualNorm - 100) < 1e-4, "\(solver): \(s.report.residualNorm)")
    }
}
