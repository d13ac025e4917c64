// LeastSquares/LSQR: damped least squares by Golub–Kahan bidiagonalization and QR (Paige & Saunders 1982).
//
// C. C. Paige and M. A. Saunders, "LSQR: An algorithm for sparse linear equations and sparse least
// squares", ACM Trans. Math. Softw. 8(1):43–71, 1982; and "Algorithm 583. LSQR: Sparse linear equations
// and least squares problems", ACM TOMS 8(2):195–209, 1982. Notation (alfa, beta, rhobar, phibar, …)
// and the stopping rules (istop 0…7) are the paper's.
import SparseTensor

/// LSQR for `min ½‖y − A·x‖² + ½λ₂‖x‖²` (λ₁ must be 0), i.e. the paper's
/// ```
/// min ‖b − A·x‖² + damp²·‖x‖²,   damp = √λ₂
/// ```
/// mathematically conjugate gradients on the normal equations (AᵀA + λ₂I)x = Aᵀy, but stabler.
///
/// Options used:
/// - `tolerance`: the paper's `atol` and `btol` (both). The default 1e-8 asks for about eight correct
///   digits of ‖Aᵀr‖ relative to ‖A‖·‖r‖ (incompatible systems) or of r relative to ‖y‖ (compatible ones);
/// - `conditionLimit`: `conlim` (default 1e8, as in scipy): stop when the estimate of cond(Ā) exceeds it;
/// - `maxIterations`: the iteration limit, default 2n (the customary n, doubled to cover the loss of
///   orthogonality in floating point);
/// - `columnScaling`: Jacobi preconditioning, iterating on z = D·x, D = diag(‖aⱼ‖) (see `KrylovProblem`;
///   for a rank-deficient or underdetermined A with λ₂ = 0 it returns the solution of least ‖D·x‖);
/// - `memoryBudgetBytes`: whether a CSC copy of A for the Aᵀ·u products may be made (see `KrylovOperator`).
///
/// The initial guess `problem.initialGuess` x₀ is honoured by solving for the correction from
/// r₀ = y − A·x₀. Sample weights scale the rows by √wᵢ. Progress is reported and cancellation / the time
/// limit are checked once per iteration (two sparse products each, in one pass over A where
/// `KrylovOperator.step` applies).
///
/// Report: `normEstimate` is the paper's `anorm` (Frobenius norm of the bidiagonal Bₖ, an estimate of
/// ‖Ā‖_F), `conditionEstimate` its `acond` (≈ cond(Ā)); residual, gradient and objective are recomputed
/// exactly at the returned x.
///
/// Performance note (release build, 2 cores, RandomSparse 200 000 × 100 000, density 2e-4, 4·10⁶ nnz):
/// see `KrylovOperator.gatherPays` for the measured choice between scatter over CSR rows and gather over
/// a CSC copy for Aᵀ·u.
public enum LSQR {
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        try KrylovProblem.solve(problem, options: options, control: control, solver: .lsqr, solverName: "LSQR", iterate: iterate)
    }

    /// The LSQR recurrences of Paige & Saunders (1982), §4 and §6, on `system.op` with `system.damp`.
    static func iterate(_ system: KrylovProblem, clock: SolveClock) -> KrylovRun {
        let A = system.op
        let n = A.columnCount
        let damp = system.damp, dampsq = damp * damp
        let atol = system.atol, btol = system.btol
        let iterLim = system.iterationLimit
        let bnorm = system.bnorm
        let eps = Double.ulpOfOne

        var x = [Double](repeating: 0, count: n)
        var itn = 0, istop = 0
        var anorm = 0.0, acond = 0.0
        var ddnorm = 0.0, res2 = 0.0, xnorm = 0.0, xxnorm = 0.0, z = 0.0
        var cs2 = -1.0, sn2 = 0.0

        // β₁u₁ = b,  α₁v₁ = Āᵀu₁
        var bidiagonal = GolubKahan(A, b: system.b)
        var w = bidiagonal.v
        var rhobar = bidiagonal.alpha, phibar = bidiagonal.beta
        var rnorm = bidiagonal.beta
        var arnorm = bidiagonal.alpha * bidiagonal.beta
        // ‖Āᵀb‖ = 0: x = 0 (the correction) is exact.
        if arnorm == 0 { return KrylovRun(z: x, istop: 0, iterations: 0, normEstimate: anorm, conditionEstimate: acond, interruption: nil) }
        if iterLim == 0 { return KrylovRun(z: x, istop: 7, iterations: 0, normEstimate: anorm, conditionEstimate: acond, interruption: nil) }

        while istop == 0 {
            if let stop = clock.interruption() {
                return KrylovRun(z: x, istop: 7, iterations: itn, normEstimate: anorm, conditionEstimate: acond, interruption: stop)
            }
            itn += 1
            // Bidiagonalization: β u = Ā v − α u,  α v = Āᵀ u − β v.
            let previousAlfa = bidiagonal.alpha
            bidiagonal.step()
            let alfa = bidiagonal.alpha, beta = bidiagonal.beta, v = bidiagonal.v
            if beta > 0 { anorm = (anorm * anorm + previousAlfa * previousAlfa + beta * beta + dampsq).squareRoot() }

            // Use a plane rotation to eliminate the damping parameter (alters rhobar and phibar).
            var rhobar1 = rhobar, psi = 0.0
            if damp > 0 {
                rhobar1 = (rhobar * rhobar + dampsq).squareRoot()
                let cs1 = rhobar / rhobar1, sn1 = damp / rhobar1
                psi = sn1 * phibar
                phibar = cs1 * phibar
            }

            // Use a plane rotation to eliminate the subdiagonal element (beta) of the lower bidiagonal matrix.
            let (cs, sn, rho) = symOrtho(rhobar1, beta)
            let theta = sn * alfa
            rhobar = -cs * alfa
            let phi = cs * phibar
            phibar = sn * phibar
            let tau = sn * phi

            // Update x and w;  dₖ = wₖ/ρₖ accumulates ‖Dₖ‖_F for the condition estimate.
            let t1 = phi / rho, t2 = -theta / rho, t3 = 1 / rho
            var dknormsq = 0.0
            for j in 0..<n {
                let wj = w[j]
                let dk = t3 * wj
                dknormsq += dk * dk
                x[j] += t1 * wj
                w[j] = v[j] + t2 * wj
            }
            ddnorm += dknormsq

            // Use a plane rotation on the right to eliminate the super-diagonal element (theta) of the
            // upper bidiagonal matrix; then estimate ‖x‖ from the lower-triangular system.
            let delta = sn2 * rho
            let gambar = -cs2 * rho
            let rhs = phi - delta * z
            let zbar = rhs / gambar
            xnorm = (xxnorm + zbar * zbar).squareRoot()
            let gamma = (gambar * gambar + theta * theta).squareRoot()
            cs2 = gambar / gamma
            sn2 = theta / gamma
            z = rhs / gamma
            xxnorm += z * z

            // Test for convergence: estimate cond(Ā), ‖r̄‖ and ‖Āᵀr̄‖ (r̄ includes the damping rows).
            acond = anorm * ddnorm.squareRoot()
            let res1 = phibar * phibar
            res2 += psi * psi
            rnorm = (res1 + res2).squareRoot()
            arnorm = alfa * abs(tau)
            // r1norm = ‖b − Āx‖ without the damping part: rnorm² = r1norm² + damp²‖x‖².
            let r1sq = rnorm * rnorm - dampsq * xxnorm
            let r1norm = abs(r1sq).squareRoot() * (r1sq < 0 ? -1 : 1)

            let test1 = rnorm / bnorm
            let test2 = arnorm / (anorm * rnorm + eps)
            let test3 = 1 / (acond + eps)
            let t1test = test1 / (1 + anorm * xnorm / bnorm)
            let rtol = btol + atol * anorm * xnorm / bnorm

            istop = system.istop(iteration: itn, test1: test1, test2: test2, test3: test3, t1test: t1test, rtol: rtol)

            clock.report(itn, objective: 0.5 * rnorm * rnorm, residualNorm: max(r1norm, 0),
                         fraction: Double(itn) / Double(iterLim))
        }
        return KrylovRun(z: x, istop: istop, iterations: itn, normEstimate: anorm, conditionEstimate: acond, interruption: nil)
    }
}
