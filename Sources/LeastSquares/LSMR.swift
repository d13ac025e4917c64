// LeastSquares/LSMR: PLACEHOLDER, replaced by the real solver in issue 3 (this file is overwritten whole).

public enum LSMR {
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions, control: SolveControl) throws(SolverError) -> Solution {
        throw .unsupported("LSMR is not built yet")
    }
}
