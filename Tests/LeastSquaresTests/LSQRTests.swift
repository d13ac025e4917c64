// LeastSquaresTests/LSQRTests: LSQR against dense references, the damping identity, warm starts, scaling, limits.
import Foundation
import Synchronization
import Testing
@testable import LeastSquares
import SparseTensor
import _TestSupport

/// Behaviours every Krylov solver of lsq must have; `LSQRTests` and `LSMRTests` run them for their solver.
enum KrylovBehaviour {
    static func options(_ kind: SolverKind, tolerance: Double = 1e-12) -> SolverOptions {
        var o = SolverOptions()
        o.solver = kind
        o.tolerance = tolerance
        o.conditionLimit = .infinity
        o.maxIterations = 2000
        return o
    }

    /// A seeded overdetermined problem with its dense copy: b = A·x_true + noise.
    static func random(rows m: Int = 40, columns n: Int = 12, seed: UInt64, l2: Double = 0,
                       weights: [Double]? = nil, x0: [Double]? = nil) throws -> (LeastSquaresProblem, [[Double]]) {
        let (a, dense) = randomSmall(rows: m, columns: n, density: 0.35, seed: seed)
        var rng = SplitMix64(seed: seed ^ 0xB)
        let b = (0..<m).map { _ in rng.nextGaussian() }
        let p = try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: l2),
                                        initialGuess: x0, sampleWeights: weights)
        return (p, dense)
    }

    static func denseReference(_ kind: SolverKind) throws {
        for seed: UInt64 in 1...5 {
            for λ in [0.0, 0.5] {
                let (p, dense) = try random(seed: seed, l2: λ)
                let expected = DenseReference.ridge(dense, p.rhs, lambda: λ)
                let s = try LeastSquaresSolver.solve(p, options: options(kind))
                let err = relativeError(s.x, expected)
                #expect(err < 1e-9, "\(kind) seed \(seed) λ₂ = \(λ): relative error \(err) (tolerance 1e-9)")
                #expect(s.report.stopReason.converged, "\(kind): \(s.report.stopReason)")
                // The report is measured at x, not estimated.
                #expect(abs(s.report.objective - p.objective(s.x)) <= 1e-12 * max(1, p.objective(s.x)))
                #expect(s.report.optimalityNorm < 1e-8, "\(kind): ‖Aᵀr − λ₂x‖ = \(s.report.optimalityNorm)")
                #expect(s.report.normEstimate != nil && s.report.conditionEstimate != nil)
                #expect(s.report.solver == kind)
            }
        }
    }

    /// lsqr(A, b, damp = √λ) == qr([A; √λ·I], [b; 0]) over random problems and λ.
    static func dampingIdentity(_ kind: SolverKind) throws {
        var rng = SplitMix64(seed: 2024)
        for seed: UInt64 in 10..<20 {
            let λ = 0.01 + 3 * rng.nextUnit()
            let (p, _) = try random(rows: 25 + Int(seed), columns: 9 + Int(seed % 4), seed: seed, l2: λ)
            let stacked = try ExactSolverChecks.stacked(p.matrix, λ.squareRoot())
            let augmented = try LeastSquaresProblem(matrix: stacked, rhs: p.rhs + [Double](repeating: 0, count: p.columnCount))
            let reference = try SparseQR.solve(augmented, options: SolverOptions(), control: .none)
            let s = try LeastSquaresSolver.solve(p, options: options(kind))
            let err = relativeError(s.x, reference.x)
            #expect(err < 1e-10, "\(kind) seed \(seed) λ₂ = \(λ): relative error \(err) vs QR of [A; √λI] (tolerance 1e-10)")
        }
    }

    /// A warm start changes the path, not the answer; started at the answer, nothing is left to do.
    static func warmStart(_ kind: SolverKind) throws {
        for λ in [0.0, 0.7] {
            var rng = SplitMix64(seed: 77)
            let x0 = (0..<12).map { _ in 3 * rng.nextGaussian() }
            let (cold, dense) = try random(seed: 3, l2: λ)
            let (warm, _) = try random(seed: 3, l2: λ, x0: x0)
            let expected = DenseReference.ridge(dense, cold.rhs, lambda: λ)
            let sc = try LeastSquaresSolver.solve(cold, options: options(kind))
            let sw = try LeastSquaresSolver.solve(warm, options: options(kind))
            #expect(relativeError(sw.x, expected) < 1e-9, "\(kind) λ₂ = \(λ): warm start error \(relativeError(sw.x, expected))")
            #expect(relativeError(sw.x, sc.x) < 1e-9)
            let (atSolution, _) = try random(seed: 3, l2: λ, x0: expected)
            let s0 = try LeastSquaresSolver.solve(atSolution, options: options(kind, tolerance: 1e-8))
            #expect(s0.report.iterations <= 2, "\(kind) λ₂ = \(λ): \(s0.report.iterations) iterations from the solution (\(s0.report.stopReason))")
            #expect(relativeError(s0.x, expected) < 1e-9)
        }
    }

    /// Jacobi column scaling: same solution on badly scaled columns, an empty column stays 0.
    static func columnScaling(_ kind: SolverKind) throws {
        for λ in [0.0, 0.3] {
            let (a, dense) = randomSmall(rows: 50, columns: 10, density: 0.4, seed: 99)
            // Scale column j by 10^(j − 5): cond(A) ≈ 1e9 before scaling; then drop column 7 entirely.
            let scale = (0..<10).map { j in j == 7 ? 0.0 : pow(10.0, Double(j - 5)) }
            var coo = COOMatrix(a)
            let values = zip(coo.columns, coo.values).map { scale[Int($0)] * $1 }
            coo = try COOMatrix(rowCount: 50, columnCount: 10, rows: coo.rows, columns: coo.columns, values: values)
            let scaled = try CSRMatrix(coo).dropping(tolerance: 0)
            let scaledDense = dense.map { row in (0..<10).map { row[$0] * scale[$0] } }
            var rng = SplitMix64(seed: 5)
            let b = (0..<50).map { _ in rng.nextGaussian() }
            let p = try LeastSquaresProblem(matrix: scaled, rhs: b, regularization: Regularization(l2: λ))
            var o = options(kind)
            o.columnScaling = true
            let s = try LeastSquaresSolver.solve(p, options: o)
            #expect(s.x[7] == 0, "\(kind): the empty column's x₇ = \(s.x[7])")
            // With λ₂ > 0 the damped column norm √(0 + λ₂) is not zero; without it the column is left unscaled.
            #expect(s.report.diagnostics.contains { $0.contains("zero column") } == (λ == 0), "\(s.report.diagnostics)")
            if λ > 0 {
                let expected = DenseReference.ridge(scaledDense, b, lambda: λ)
                #expect(relativeError(s.x, expected) < 1e-8, "\(kind) λ₂ = \(λ): \(relativeError(s.x, expected))")
            } else {
                // Without the empty column the problem has full rank: compare on the other nine.
                let keep = (0..<10).filter { $0 != 7 }
                let expected = DenseReference.ridge(scaledDense.map { r in keep.map { r[$0] } }, b)
                let got = keep.map { s.x[$0] }
                let err = zip(got, expected).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? 0
                #expect(err < 1e-6, "\(kind): worst componentwise relative error \(err) on cond ≈ 1e9 columns")
                #expect(s.report.stopReason.converged)
            }
        }
    }

    /// Sample weights: the same as solving with rows scaled by √wᵢ.
    static func sampleWeights(_ kind: SolverKind) throws {
        var rng = SplitMix64(seed: 4)
        let w = (0..<40).map { i in i % 5 == 0 ? 0 : 0.1 + 2 * rng.nextUnit() }
        let (p, dense) = try random(seed: 8, l2: 0.2, weights: w)
        let rowsScaled = dense.enumerated().map { i, row in row.map { $0 * w[i].squareRoot() } }
        let expected = DenseReference.ridge(rowsScaled, p.rhs.enumerated().map { $1 * w[$0].squareRoot() }, lambda: 0.2)
        let s = try LeastSquaresSolver.solve(p, options: options(kind))
        #expect(relativeError(s.x, expected) < 1e-9, "\(kind): \(relativeError(s.x, expected))")
        #expect(abs(s.report.objective - p.objective(s.x)) <= 1e-12 * p.objective(s.x))
    }

    static func iterationLimit(_ kind: SolverKind) throws {
        let (p, _) = try random(seed: 6)
        for limit in [0, 1, 3] {
            var o = options(kind)
            o.maxIterations = limit
            let s = try LeastSquaresSolver.solve(p, options: o)
            #expect(s.report.stopReason == .iterationLimit, "\(kind) limit \(limit): \(s.report.stopReason)")
            #expect(s.report.iterations == limit)
            #expect(!s.report.stopReason.converged)
        }
        // The default limit is 2n.
        var o = options(kind, tolerance: 0)
        o.maxIterations = nil
        let s = try LeastSquaresSolver.solve(p, options: o)
        #expect(s.report.iterations <= 2 * p.columnCount)
    }

    static func cancellation(_ kind: SolverKind) throws {
        let (p, _) = try random(seed: 12)
        // Cancelled before the start: nothing is done.
        let flag = CancellationFlag()
        flag.cancel()
        let s0 = try LeastSquaresSolver.solve(p, options: options(kind), control: SolveControl(cancellation: flag))
        #expect(s0.report.stopReason == .cancelled)
        #expect(s0.report.iterations == 0)
        // Cancelled from the progress callback at iteration 2: the next check stops.
        let seen = Mutex<[Int]>([])
        let flag2 = CancellationFlag()
        let control = SolveControl(progress: { sample in
            seen.withLock { $0.append(sample.iteration) }
            if sample.iteration == 2 { flag2.cancel() }
        }, cancellation: flag2)
        let s = try LeastSquaresSolver.solve(p, options: options(kind), control: control)
        #expect(s.report.stopReason == .cancelled)
        #expect(s.report.iterations == 2)
        #expect(seen.withLock { $0 } == [1, 2])
        // A time limit of zero stops at the first check.
        let s1 = try LeastSquaresSolver.solve(p, options: options(kind), control: SolveControl(timeLimit: 0))
        #expect(s1.report.stopReason == .timeLimit)
    }

    static func stopReasons(_ kind: SolverKind) throws {
        // y = 0: x = 0 is exact.
        let (p, _) = try random(seed: 1)
        let zero = try LeastSquaresProblem(matrix: p.matrix, rhs: [Double](repeating: 0, count: p.rowCount))
        let sz = try LeastSquaresSolver.solve(zero, options: options(kind))
        #expect(sz.report.stopReason == .zeroSolution && sz.x.allSatisfy { $0 == 0 } && sz.report.iterations == 0)
        // Compatible system: the residual test (btol) stops it.
        var rng = SplitMix64(seed: 2)
        let xTrue = (0..<p.columnCount).map { _ in rng.nextGaussian() }
        let compatible = try LeastSquaresProblem(matrix: p.matrix, rhs: try p.matrix.multiply(xTrue))
        let sc = try LeastSquaresSolver.solve(compatible, options: options(kind, tolerance: 1e-10))
        #expect(sc.report.stopReason == .residualTolerance, "\(kind): \(sc.report.stopReason)")
        #expect(relativeError(sc.x, xTrue) < 1e-8)
        // Incompatible: the optimality test (atol) stops it.
        let si = try LeastSquaresSolver.solve(p, options: options(kind, tolerance: 1e-10))
        #expect(si.report.stopReason == .optimalityTolerance, "\(kind): \(si.report.stopReason)")
        // Tolerance 0: only machine precision can stop it, reported as the same reasons with a note.
        let sm = try LeastSquaresSolver.solve(p, options: options(kind, tolerance: 0))
        #expect(sm.report.stopReason == .optimalityTolerance || sm.report.stopReason == .residualTolerance, "\(kind): \(sm.report.stopReason)")
        #expect(sm.report.diagnostics.contains { $0.contains("machine precision") }, "\(sm.report.diagnostics)")
        // Condition limit: columns 1e-7 apart in scale, conlim 1e3.
        let (a, _) = randomSmall(rows: 30, columns: 6, density: 0.6, seed: 31)
        var coo = COOMatrix(a)
        coo = try COOMatrix(rowCount: 30, columnCount: 6, rows: coo.rows, columns: coo.columns,
                            values: zip(coo.columns, coo.values).map { $0 == 0 ? 1e-7 * $1 : $1 })
        let ill = try LeastSquaresProblem(matrix: try CSRMatrix(coo), rhs: p.rhs.prefix(30).map { $0 })
        var o = options(kind)
        o.conditionLimit = 1e3
        let sl = try LeastSquaresSolver.solve(ill, options: o)
        #expect(sl.report.stopReason == .conditionLimit, "\(kind): \(sl.report.stopReason), cond ≈ \(String(describing: sl.report.conditionEstimate))")
        #expect((sl.report.conditionEstimate ?? 0) > 1e3)
        #expect(!sl.report.stopReason.converged)  // a limit: the CLI exits 3
    }

    static func invalidInput(_ kind: SolverKind) throws {
        let (a, _) = randomSmall(rows: 10, columns: 4, density: 0.5, seed: 1)
        let lasso = try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 1, count: 10), regularization: Regularization(l1: 0.1))
        #expect { try LeastSquaresSolver.solve(lasso, options: options(kind)) } throws: { error in
            guard case let SolverError.unsupported(message) = error else { return false }
            return message.contains("--solver cd")
        }
        let p = try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 1, count: 10))
        var bad = options(kind); bad.tolerance = -1
        #expect { try LeastSquaresSolver.solve(p, options: bad) } throws: { "\($0)".contains("tolerance") }
        bad = options(kind); bad.conditionLimit = 0
        #expect { try LeastSquaresSolver.solve(p, options: bad) } throws: { "\($0)".contains("conditionLimit") }
        bad = options(kind); bad.maxIterations = -1
        #expect { try LeastSquaresSolver.solve(p, options: bad) } throws: { "\($0)".contains("maxIterations") }
    }

    static func edgeShapes(_ kind: SolverKind) throws {
        for (m, n) in [(0, 0), (0, 3), (3, 0), (4, 2)] {
            let a = try CSRMatrix.zeros(rowCount: m, columnCount: n)
            let p = try LeastSquaresProblem(matrix: a, rhs: [Double](repeating: 1, count: m), regularization: Regularization(l2: 0.5))
            let s = try LeastSquaresSolver.solve(p, options: options(kind))
            #expect(s.x == [Double](repeating: 0, count: n), "\(kind) \(m) × \(n)")
            #expect(s.report.stopReason == .zeroSolution)
        }
    }
}

@Suite("LSQR (Paige & Saunders 1982)")
struct LSQRTests {
    @Test("matches the dense normal-equation reference, plain and damped") func dense() throws { try KrylovBehaviour.denseReference(.lsqr) }
    @Test("damping identity: lsqr(A, b, √λ) == qr([A; √λI], [b; 0])") func damping() throws { try KrylovBehaviour.dampingIdentity(.lsqr) }
    @Test("a warm start x0 gives the same answer") func warm() throws { try KrylovBehaviour.warmStart(.lsqr) }
    @Test("Jacobi column scaling: same answer, zero columns handled") func scaling() throws { try KrylovBehaviour.columnScaling(.lsqr) }
    @Test("sample weights scale rows by √w") func weights() throws { try KrylovBehaviour.sampleWeights(.lsqr) }
    @Test("iteration limit stops with .iterationLimit") func limit() throws { try KrylovBehaviour.iterationLimit(.lsqr) }
    @Test("cancellation and time limit stop at the next iteration") func cancel() throws { try KrylovBehaviour.cancellation(.lsqr) }
    @Test("stop reasons: x = 0, btol, atol, machine precision, conlim") func stops() throws { try KrylovBehaviour.stopReasons(.lsqr) }
    @Test("λ₁ > 0 and invalid options are rejected") func invalid() throws { try KrylovBehaviour.invalidInput(.lsqr) }
    @Test("edge shapes 0×0, 0×n, m×0, A = 0") func edges() throws { try KrylovBehaviour.edgeShapes(.lsqr) }

    @Test("the CSC copy for Aᵀu (two passes a step) and the scatter over CSR rows (one pass) give the same LSQR solution")
    func transposeCopyAgrees() throws {
        // Wide and large enough for two workers (nnz ≥ 100 000), where the operator keeps a CSC copy and
        // each Golub–Kahan step reads A twice; without the copy a step is one fused pass over A's rows.
        let a = RandomSparse.matrix(rows: 1000, columns: 3000, density: 0.04, seed: 41)
        var rng = SplitMix64(seed: 42)
        let b = (0..<1000).map { _ in rng.nextGaussian() }
        let p = try LeastSquaresProblem(matrix: a, rhs: b, regularization: Regularization(l2: 0.5))
        let withCopy = try LeastSquaresSolver.solve(p, options: KrylovBehaviour.options(.lsqr, tolerance: 1e-10))
        var noCopy = KrylovBehaviour.options(.lsqr, tolerance: 1e-10)
        noCopy.memoryBudgetBytes = 1000  // too small for the copy: the scatter is used
        let without = try LeastSquaresSolver.solve(p, options: noCopy)
        #expect(relativeError(withCopy.x, without.x) < 1e-9, "\(relativeError(withCopy.x, without.x))")
        let reference = try NormalEquations.solve(p, options: SolverOptions(), control: .none)
        #expect(relativeError(withCopy.x, reference.x) < 1e-8, "\(relativeError(withCopy.x, reference.x))")
    }
}

/// The fused operator kernels against a dense computation, in every mode (internal API, `@testable`).
@Suite("KrylovOperator: Ā·v and Āᵀ·u, fused with the bidiagonalization updates")
struct KrylovOperatorTests {
    @Test("u ← Ā·v − α·u and v ← Āᵀ·u − β·v match dense products (CSR/CSC, weights, scaling, damping block)",
          arguments: [(40, 25, 0.2), (400, 900, 0.3), (1200, 300, 0.3), (30, 3000, 0.5)])
    func fusedKernels(_ shape: (Int, Int, Double)) throws {
        let (m, n, density) = shape
        let a = RandomSparse.matrix(rows: m, columns: n, density: density, seed: UInt64(m + n))
        let triplets = COOMatrix(a)
        var rng = SplitMix64(seed: 1)
        let w = (0..<m).map { _ in 0.5 + rng.nextUnit() }
        let c = (0..<n).map { _ in 0.5 + rng.nextUnit() }
        for copy in [KrylovOperator.TransposeCopy.never, .always] {
            for (rowScale, columnScale, δ) in [([Double]?.none, [Double]?.none, 0.0), (w, nil, 0), (nil, c, 0.7), (w, c, 0.3)] {
                let op = KrylovOperator(matrix: a, rowScale: rowScale, columnScale: columnScale, augmentedDamping: δ,
                                        transposeCopy: copy, budget: .unlimited)
                #expect((op.columns != nil) == (copy == .always))
                let v = (0..<n).map { _ in rng.nextGaussian() }
                let u0 = (0..<op.rowCount).map { _ in rng.nextGaussian() }
                // Reference Ā·v − α·u from the triplets (a plain loop, independent of the kernels).
                let cv = (0..<n).map { v[$0] * (columnScale?[$0] ?? 1) }
                var av = [Double](repeating: 0, count: m)
                for (t, value) in triplets.values.enumerated() { av[Int(triplets.rows[t])] += value * cv[Int(triplets.columns[t])] }
                var expectedU = av.enumerated().map { $1 * (rowScale?[$0] ?? 1) }
                if δ > 0 { expectedU += cv.map { δ * $0 } }
                expectedU = (0..<op.rowCount).map { expectedU[$0] - 0.8 * u0[$0] }
                var u = u0
                let ss = op.applyUpdating(v, alpha: 0.8, into: &u)
                #expect(relativeError(u, expectedU) < 1e-13, "\(copy) \(m) × \(n): Ā·v")
                #expect(abs(ss - expectedU.reduce(0) { $0 + $1 * $1 }) < 1e-10 * ss)
                // Reference Āᵀ·u − β·v from the triplets.
                let su = (0..<m).map { u0[$0] * (rowScale?[$0] ?? 1) }
                var g = [Double](repeating: 0, count: n)
                for (t, value) in triplets.values.enumerated() { g[Int(triplets.columns[t])] += value * su[Int(triplets.rows[t])] }
                if δ > 0 { for j in 0..<n { g[j] += δ * u0[m + j] } }
                let expectedV = (0..<n).map { g[$0] * (columnScale?[$0] ?? 1) - 1.3 * v[$0] }
                var vv = v
                let tt = op.applyTransposeUpdating(u0, beta: 1.3, into: &vv)
                #expect(relativeError(vv, expectedV) < 1e-13, "\(copy) \(m) × \(n): Āᵀ·u")
                #expect(abs(tt - expectedV.reduce(0) { $0 + $1 * $1 }) < 1e-10 * tt)

                // The one-pass step (the scatter over rows, vectors this small always cached): β·u = Ā·v − α·u
                // with u left unnormalized, then v ← Āᵀ·(u/β) − β·v, against the same triplet loops.
                #expect(op.fusesSteps == (copy == .never), "\(copy) \(m) × \(n)")
                guard op.fusesSteps else { continue }
                let beta = expectedU.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let su1 = (0..<m).map { expectedU[$0] / beta * (rowScale?[$0] ?? 1) }
                var g1 = [Double](repeating: 0, count: n)
                for (t, value) in triplets.values.enumerated() { g1[Int(triplets.columns[t])] += value * su1[Int(triplets.rows[t])] }
                if δ > 0 { for j in 0..<n { g1[j] += δ * expectedU[m + j] / beta } }
                let expectedStepV = (0..<n).map { g1[$0] * (columnScale?[$0] ?? 1) - beta * v[$0] }
                var (uf, vf) = (u0, v)
                let step = op.step(alpha: 0.8, u: &uf, v: &vf)
                #expect(abs(step.beta - beta) <= 1e-13 * beta, "\(m) × \(n): β")
                #expect(relativeError(uf, expectedU.map { $0 / beta }) < 1e-13, "\(m) × \(n): fused Ā·v")
                #expect(relativeError(vf, expectedStepV) < 1e-12, "\(m) × \(n): fused Āᵀ·u")
                #expect(abs(step.vSumOfSquares - expectedStepV.reduce(0) { $0 + $1 * $1 }) < 1e-10 * step.vSumOfSquares)
            }
        }
    }

    @Test("Golub–Kahan in one pass a step equals two passes a step, also at scales where the one-pass buffers would overflow or underflow",
          arguments: [1.0, 1e160, 1e-160])
    func fusedBidiagonalization(_ scale: Double) throws {
        // 2 workers (nnz ≥ 100 000) with weights, column scaling and the damping block; rows of ~90 entries.
        // At 1e±160, β falls outside [1e-100, 1e100] and the step takes its two-pass fallback (the other
        // fallback, a non-finite buffer with β in range, is `fusedOverflowFallback`).
        let base = RandomSparse.matrix(rows: 1200, columns: 300, density: 0.3, seed: 17)
        let a = try CSRMatrix(rowCount: 1200, columnCount: 300, rowOffsets: base.storage.offsets, columnIndices: base.storage.indices,
                              values: base.storage.values.map { $0 * scale })
        var rng = SplitMix64(seed: 18)
        let w = (0..<1200).map { _ in 0.5 + rng.nextUnit() }
        let c = (0..<300).map { _ in 0.5 + rng.nextUnit() }
        let b = (0..<1500).map { _ in rng.nextGaussian() }
        func makeOperator(fused: Bool) -> KrylovOperator {
            KrylovOperator(matrix: a, rowScale: w, columnScale: c, augmentedDamping: 0.3 * scale, transposeCopy: .never,
                           budget: .unlimited, fuseSteps: fused)
        }
        let (fusedOp, twoPassOp) = (makeOperator(fused: true), makeOperator(fused: false))
        #expect(fusedOp.fusesSteps && !twoPassOp.fusesSteps)
        var one = GolubKahan(fusedOp, b: b), two = GolubKahan(twoPassOp, b: b)
        for k in 1...8 {
            one.step()
            two.step()
            #expect(abs(one.alpha - two.alpha) <= 1e-12 * two.alpha && abs(one.beta - two.beta) <= 1e-12 * two.beta, "step \(k)")
            #expect(relativeError(one.u, two.u) < 1e-12 && relativeError(one.v, two.v) < 1e-12, "step \(k)")
            #expect(one.v.allSatisfy { $0.isFinite })
        }
    }

    @Test("A one-pass step with Ā·v − α·u = 0 stops the process (β = 0) and leaves v alone")
    func fusedTermination() throws {
        let zero = try CSRMatrix(rowCount: 50, columnCount: 20, rowOffsets: [Int](repeating: 0, count: 51), columnIndices: [], values: [])
        let op = KrylovOperator(matrix: zero, rowScale: nil, columnScale: nil, augmentedDamping: 0, transposeCopy: .never, budget: .unlimited)
        #expect(op.fusesSteps)
        var u = [Double](repeating: 0, count: 50)
        var v = (0..<20).map { Double($0) - 9.5 }
        let before = v
        let step = op.step(alpha: 0.7, u: &u, v: &v)
        #expect(step.beta == 0 && step.vSumOfSquares == 0)
        #expect(v == before)
    }

    @Test("A one-pass step whose buffers overflow while β is in range takes Āᵀ·u again by two passes")
    func fusedOverflowFallback() throws {
        // Row 0 has a 1e250 entry, v₀ = 1e-160: u₀ = 1e90 = β, so the buffer holds 1e250·1e90 = ∞, while
        // Āᵀ·(u/β) is finite (v₀ ≈ 1e250).
        let a = try CSRMatrix(rowCount: 3, columnCount: 2, rowOffsets: [0, 1, 2, 3], columnIndices: [0, 1, 0], values: [1e250, 1, 1])
        let v0 = [1e-160, 1.0]
        let fused = KrylovOperator(matrix: a, rowScale: nil, columnScale: nil, augmentedDamping: 0, transposeCopy: .never, budget: .unlimited)
        let twoPass = KrylovOperator(matrix: a, rowScale: nil, columnScale: nil, augmentedDamping: 0, transposeCopy: .never,
                                     budget: .unlimited, fuseSteps: false)
        #expect(fused.fusesSteps && !twoPass.fusesSteps)
        var (u, v) = ([Double](repeating: 0, count: 3), v0)
        let step = fused.step(alpha: 0, u: &u, v: &v)
        var (u2, v2) = ([Double](repeating: 0, count: 3), v0)
        let beta = twoPass.applyUpdating(v2, alpha: 0, into: &u2).squareRoot()
        DenseVector.scale(1 / beta, &u2)
        let vSq = twoPass.applyTransposeUpdating(u2, beta: beta, into: &v2)
        #expect(step.beta == beta && (1e89...1e91).contains(beta))
        #expect(u == u2 && v == v2 && step.vSumOfSquares == vSq)
        #expect(v.allSatisfy { $0.isFinite } && abs(v[0] - 1e250) <= 1e236)
    }
}
