// LeastSquares/LeastSquaresSolver: the one entry point — resolves `auto` and runs the chosen solver.

public enum LeastSquaresSolver {
    /// Solves `min_x ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖²` with the solver `options.solver` names
    /// (or the one `AutoSolver` picks), reporting progress through `control` and honouring its
    /// cancellation and time limit.
    public static func solve(_ problem: LeastSquaresProblem, options: SolverOptions = SolverOptions(),
                             control: SolveControl = .none) throws(SolverError) -> Solution {
        var options = options
        var reason = ""
        if options.solver == .auto {
            (options.solver, reason) = AutoSolver.choose(for: problem, options: options)
        }
        var solution: Solution
        switch options.solver {
        case .auto: preconditionFailure("auto resolved above")
        case .lsqr: solution = try LSQR.solve(problem, options: options, control: control)
        case .lsmr: solution = try LSMR.solve(problem, options: options, control: control)
        case .qr: solution = try SparseQR.solve(problem, options: options, control: control)
        case .normal: solution = try NormalEquations.solve(problem, options: options, control: control)
        case .cd: solution = try CoordinateDescent.solve(problem, options: options, control: control)
        case .sgd: solution = try StochasticGradientDescent.solve(problem, options: options, control: control)
        }
        if !reason.isEmpty {
            solution.report.choiceReason = solution.report.choiceReason.isEmpty ? reason : reason + "; " + solution.report.choiceReason
        }
        return solution
    }
}
