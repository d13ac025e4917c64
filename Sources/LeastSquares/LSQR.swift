// LeastSquares/LSQR: PLACEHOLDER, replaced by the real solver in issue 3 (this file is overwritten whole).

public enum LSQR {
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        throw .unsupported("LSQR is not built yet")
    }
}
