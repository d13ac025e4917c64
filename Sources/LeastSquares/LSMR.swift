// LeastSquares/LSMR: damped least squares by Golub–Kahan bidiagonalization, MINRES on the normal equations (Fong & Saunders 2011).
//
// D. C.-L. Fong and M. A. Saunders, "LSMR: An iterative algorithm for sparse least-squares problems",
// SIAM J. Sci. Comput. 33(5):2950–2971, 2011. Notation (alpha, beta, zetabar, rhobar, thetabar, …),
// the ‖r‖ / ‖A‖ / cond(A) estimates (§3.3–3.5) and the stopping rules (istop 0…7, shared with LSQR)
// are the paper's.
import SparseTensor

/// LSMR for `min ½‖y − A·x‖² + ½λ₂‖x‖²` (λ₁ must be 0), i.e. the paper's
/// ```
/// min ‖b − A·x‖² + damp²·‖x‖²,   damp = √λ₂
/// ```
/// mathematically MINRES on (AᵀA + λ₂I)x = Aᵀy: ‖Aᵀr‖ decreases monotonically, so stopping early on
/// the `atol` test is safer than with LSQR.
///
/// Options, warm start, weights, column scaling and progress are as for `LSQR` (see there and
/// `KrylovProblem`). Report: `normEstimate` is the paper's ‖Bₖ‖_F estimate of ‖Ā‖, `conditionEstimate`
/// its max(ρ̄)/min(ρ̄) estimate of cond(Ā); residual, gradient and objective are recomputed exactly.
public enum LSMR {
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        try KrylovProblem.solve(problem, options: options, control: control, solver: .lsmr, solverName: "LSMR", iterate: iterate)
    }

    /// The LSMR recurrences of Fong & Saunders (2011), Algorithm 2 (§2.5) with the estimates of §3.
    static func iterate(_ system: KrylovProblem, clock: SolveClock) -> KrylovRun {
        let A = system.op
        let n = A.columnCount
        let damp = system.damp
        let atol = system.atol, btol = system.btol
        let iterLim = system.iterationLimit
        let normb = system.bnorm

        // β₁u₁ = b,  α₁v₁ = Āᵀu₁
        var bidiagonal = GolubKahan(A, b: system.b)
        let alpha = bidiagonal.alpha, beta = bidiagonal.beta

        // Initialize variables for the first iteration.
        var itn = 0
        var zetabar = alpha * beta
        var alphabar = alpha
        var rho = 1.0, rhobar = 1.0
        var cbar = 1.0, sbar = 0.0
        var h = bidiagonal.v
        var hbar = [Double](repeating: 0, count: n)
        var x = [Double](repeating: 0, count: n)

        // Initialize variables for the estimation of ‖r‖.
        var betadd = beta, betad = 0.0
        var rhodold = 1.0, tautildeold = 0.0, thetatilde = 0.0
        var zeta = 0.0, d = 0.0

        // Initialize variables for the estimation of ‖A‖ and cond(A).
        var normA2 = alpha * alpha
        var maxrbar = 0.0, minrbar = 1e100
        var normA = normA2.squareRoot(), condA = 1.0
        var normx = 0.0

        var istop = 0
        var normr = beta
        let normar = alpha * beta
        // ‖Āᵀb‖ = 0: x = 0 (the correction) is exact.
        if normar == 0 { return KrylovRun(z: x, istop: 0, iterations: 0, normEstimate: normA, conditionEstimate: condA, interruption: nil) }
        if iterLim == 0 { return KrylovRun(z: x, istop: 7, iterations: 0, normEstimate: normA, conditionEstimate: condA, interruption: nil) }

        while istop == 0 {
            if let stop = clock.interruption() {
                return KrylovRun(z: x, istop: 7, iterations: itn, normEstimate: normA, conditionEstimate: condA, interruption: stop)
            }
            itn += 1
            // Bidiagonalization: β u = Ā v − α u,  α v = Āᵀ u − β v.
            bidiagonal.step()
            let alpha = bidiagonal.alpha, beta = bidiagonal.beta, v = bidiagonal.v

            // Construct rotation Q̂ₖ,₂ₖ₊₁ (eliminates the damping).
            let (chat, shat, alphahat) = symOrtho(alphabar, damp)

            // Use a plane rotation (Pₖ) to turn Bₖ into Rₖ.
            let rhoold = rho
            let (c, s, rhoNew) = symOrtho(alphahat, beta)
            rho = rhoNew
            let thetanew = s * alpha
            alphabar = c * alpha

            // Use a plane rotation (P̄ₖ) to turn Rₖᵀ into R̄ₖ.
            let rhobarold = rhobar
            let zetaold = zeta
            let thetabar = sbar * rho
            let rhotemp = cbar * rho
            (cbar, sbar, rhobar) = symOrtho(cbar * rho, thetanew)
            zeta = cbar * zetabar
            zetabar = -sbar * zetabar

            // Update h̄, x, h (and ‖x‖ in the same pass).
            let hbarCoefficient = -(thetabar * rho) / (rhoold * rhobarold)
            let xCoefficient = zeta / (rho * rhobar)
            let hCoefficient = -thetanew / rho
            var xx = 0.0
            for j in 0..<n {
                let hb = h[j] + hbarCoefficient * hbar[j]
                hbar[j] = hb
                let xj = x[j] + xCoefficient * hb
                x[j] = xj
                xx += xj * xj
                h[j] = v[j] + hCoefficient * h[j]
            }
            normx = xx.squareRoot()

            // Estimate ‖r‖ (§3.3): apply rotations P̂ₖ, Pₖ to the right-hand side and track the
            // last rotation of R̄ₖ with the tilde quantities.
            let betaacute = chat * betadd
            let betacheck = -shat * betadd
            let betahat = c * betaacute
            betadd = -s * betaacute
            let thetatildeold = thetatilde
            let (ctildeold, stildeold, rhotildeold) = symOrtho(rhodold, thetabar)
            thetatilde = stildeold * rhobar
            rhodold = ctildeold * rhobar
            betad = -stildeold * betad + ctildeold * betahat
            tautildeold = (zetaold - thetatildeold * tautildeold) / rhotildeold
            let taud = (zeta - thetatilde * tautildeold) / rhodold
            d += betacheck * betacheck
            normr = (d + (betad - taud) * (betad - taud) + betadd * betadd).squareRoot()

            // Estimate ‖A‖ (§3.4): ‖Bₖ‖_F, with the damping folded in by Q̂.
            normA2 += beta * beta
            normA = normA2.squareRoot()
            normA2 += alpha * alpha

            // Estimate cond(A) (§3.5) from the diagonal of R̄ₖ.
            maxrbar = max(maxrbar, rhobarold)
            if itn > 1 { minrbar = min(minrbar, rhobarold) }
            condA = max(maxrbar, rhotemp) / min(minrbar, rhotemp)

            // Test for convergence.
            let normar = abs(zetabar)
            let test1 = normr / normb
            let test2 = normA * normr != 0 ? normar / (normA * normr) : .infinity
            let test3 = 1 / condA
            let t1test = test1 / (1 + normA * normx / normb)
            let rtol = btol + atol * normA * normx / normb

            istop = system.istop(iteration: itn, test1: test1, test2: test2, test3: test3, t1test: t1test, rtol: rtol)

            // normr includes the damping rows: normr² = ‖b − Āx‖² + damp²‖x‖².
            let r1sq = normr * normr - damp * damp * normx * normx
            clock.report(itn, objective: 0.5 * normr * normr, residualNorm: max(r1sq, 0).squareRoot(),
                         fraction: Double(itn) / Double(iterLim))
        }
        return KrylovRun(z: x, istop: istop, iterations: itn, normEstimate: normA, conditionEstimate: condA, interruption: nil)
    }
}
