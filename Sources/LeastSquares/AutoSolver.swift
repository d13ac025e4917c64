// LeastSquares/AutoSolver: the `auto` rule — cd for L1, an exact factorization for small problems, LSMR otherwise.
import SparseTensor

/// Picks the solver `auto` runs, from the regularization, the shape, nnz(A) and the memory budget,
/// and says why in words the report and the CLI can show.
///
/// The rule, in order:
/// 1. **λ₁ > 0 → `cd`.** Only coordinate descent treats the L1 term exactly (with a duality-gap
///    certificate); the Krylov and factorization solvers have no L1, SGD only approximates it.
/// 2. **Small → exact factorization.** With k = min(m, n) (the order of R, or of AᵀA / A·Aᵀ for the
///    primal / dual normal equations), the problem is small when k ≤ `smallDimension` (5000),
///    nnz(A) ≤ `smallNonzeros` (10⁶), and the worst-case factor — a dense k × k triangle, 8·k(k+1)/2
///    bytes, plus a 16-byte-per-entry copy of A for SuiteSparse — fits the memory budget. Then
///    - λ₂ = 0 → `qr` (SuiteSparseQR: exact, rank-revealing, minimum-norm when underdetermined; it does
///      not square the condition number);
///    - λ₂ > 0 → `normal` (Cholesky of AᵀA + λ₂I or A·Aᵀ + λ₂I, symmetric positive definite by λ₂).
///    At k = 5000 the dense bound is 100 MB and a dense factorization costs about k³/3 ≈ 4·10¹⁰ flops,
///    seconds on one core: the point where an exact answer stops being cheap.
/// 3. **Otherwise → `lsmr`** (Fong & Saunders 2011), with damping √λ₂ for ridge: it needs only
///    products with A and Aᵀ, and ‖Aᵀr‖ decreases monotonically, so stopping early is safe — the
///    accurate default for large unregularised and ridge problems.
public enum AutoSolver {
    /// Largest min(m, n) solved by a factorization.
    public static let smallDimension = 5000
    /// Largest nnz(A) solved by a factorization.
    public static let smallNonzeros = 1_000_000

    /// The solver `auto` runs for this problem, and why.
    public static func choose(for problem: LeastSquaresProblem, options: SolverOptions) -> (SolverKind, String) {
        let m = problem.rowCount, n = problem.columnCount, nnz = problem.matrix.nnz
        let l1 = problem.regularization.l1, l2 = problem.regularization.l2
        if l1 > 0 {
            return (.cd, "auto: λ₁ = \(l1) > 0, so cd (the only solver that treats the L1 term exactly)")
        }
        let shape = "\(m) × \(n) with \(nnz) nonzeros"
        let k = min(m, n)
        let factorBytes = 8 * Double(k) * Double(k + 1) / 2 + 16 * Double(nnz)
        let budget = IterativeOptionCheck.budget(options)
        if k > smallDimension {
            return (.lsmr, "auto: \(shape) is large (min(m, n) = \(k) > \(smallDimension)), so lsmr" + damping(l2))
        }
        if nnz > smallNonzeros {
            return (.lsmr, "auto: \(shape) is large (nnz > \(smallNonzeros)), so lsmr" + damping(l2))
        }
        if factorBytes > Double(budget.bytes) {
            return (.lsmr, "auto: \(shape): a factorization could need \(ByteCount.format(factorBytes)), "
                    + "more than the \(budget) memory budget, so lsmr" + damping(l2))
        }
        let small = "auto: \(shape) is small (min(m, n) = \(k) ≤ \(smallDimension), a factor of at most "
            + "\(ByteCount.format(factorBytes)) fits the \(budget) budget)"
        if l2 > 0 {
            return (.normal, small + " and λ₂ = \(l2) > 0, so normal (Cholesky of the regularized normal equations)")
        }
        return (.qr, small + " and λ₂ = 0, so qr (exact sparse QR)")
    }

    private static func damping(_ l2: Double) -> String {
        l2 > 0 ? " (damping √λ₂ = \(l2.squareRoot()))" : ""
    }
}
