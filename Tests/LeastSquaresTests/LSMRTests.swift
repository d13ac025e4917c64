// LeastSquaresTests/LSMRTests: LSMR against dense references and LSQR, plus the shared Krylov behaviours.
import Foundation
import Testing
import LeastSquares
import SparseTensor
import _TestSupport

@Suite("LSMR (Fong & Saunders 2011)")
struct LSMRTests {
    @Test("matches the dense normal-equation reference, plain and damped") func dense() throws { try KrylovBehaviour.denseReference(.lsmr) }
    @Test("damping identity: lsmr(A, b, √λ) == qr([A; √λI], [b; 0])") func damping() throws { try KrylovBehaviour.dampingIdentity(.lsmr) }
    @Test("a warm start x0 gives the same answer") func warm() throws { try KrylovBehaviour.warmStart(.lsmr) }
    @Test("Jacobi column scaling: same answer, zero columns handled") func scaling() throws { try KrylovBehaviour.columnScaling(.lsmr) }
    @Test("sample weights scale rows by √w") func weights() throws { try KrylovBehaviour.sampleWeights(.lsmr) }
    @Test("iteration limit stops with .iterationLimit") func limit() throws { try KrylovBehaviour.iterationLimit(.lsmr) }
    @Test("cancellation and time limit stop at the next iteration") func cancel() throws { try KrylovBehaviour.cancellation(.lsmr) }
    @Test("stop reasons: x = 0, btol, atol, machine precision, conlim") func stops() throws { try KrylovBehaviour.stopReasons(.lsmr) }
    @Test("λ₁ > 0 and invalid options are rejected") func invalid() throws { try KrylovBehaviour.invalidInput(.lsmr) }
    @Test("edge shapes 0×0, 0×n, m×0, A = 0") func edges() throws { try KrylovBehaviour.edgeShapes(.lsmr) }

    @Test("LSMR's ‖Aᵀr‖ decreases monotonically (MINRES on the normal equations); LSQR's need not")
    func monotoneNormalResidual() throws {
        // Fong & Saunders §2.3: ‖Aᵀrₖ‖ is monotone for LSMR. Measured exactly at every iterate by
        // rerunning with increasing iteration limits (the report recomputes ‖Aᵀr‖ at the returned x).
        let (p, _) = try KrylovBehaviour.random(rows: 60, columns: 20, seed: 17)
        var previous = Double.infinity
        for k in 1...20 {
            var o = KrylovBehaviour.options(.lsmr, tolerance: 0)
            o.maxIterations = k
            let s = try LeastSquaresSolver.solve(p, options: o)
            #expect(s.report.optimalityNorm <= previous * (1 + 1e-10), "iteration \(k): ‖Aᵀr‖ = \(s.report.optimalityNorm) after \(previous)")
            previous = s.report.optimalityNorm
        }
    }

    @Test("LSMR and LSQR agree on a larger random problem with damping and weights")
    func agreesWithLSQR() throws {
        let a = RandomSparse.matrix(rows: 800, columns: 300, density: 0.02, seed: 5)
        var rng = SplitMix64(seed: 6)
        let b = (0..<800).map { _ in rng.nextGaussian() }
        let w = (0..<800).map { _ in 0.5 + rng.nextUnit() }
        let p = try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: 0.05), sampleWeights: w)
        let lsmr = try LeastSquaresSolver.solve(p, options: KrylovBehaviour.options(.lsmr))
        let lsqr = try LeastSquaresSolver.solve(p, options: KrylovBehaviour.options(.lsqr))
        #expect(relativeError(lsmr.x, lsqr.x) < 1e-9, "\(relativeError(lsmr.x, lsqr.x))")
        let qr = try SparseQR.solve(p, options: SolverOptions(), control: .none)
        #expect(relativeError(lsmr.x, qr.x) < 1e-9, "\(relativeError(lsmr.x, qr.x))")
    }
}
