// LeastSquares/AutoSolver: PLACEHOLDER, replaced in issue 3 (this file is overwritten whole).

public enum AutoSolver {
    /// The solver `auto` runs for this problem, and why.
    public static func choose(for problem: LeastSquaresProblem, options: SolverOptions) -> (SolverKind, String) {
        (.lsqr, "placeholder")
    }
}
