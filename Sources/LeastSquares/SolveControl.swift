// LeastSquares/SolveControl: progress callback, cooperative cancellation and limits shared by every solver.
import Foundation
import SparseTensor
import Synchronization

/// One progress sample, sent by solvers once per iteration/epoch (throttled by the solver for fast iterations).
public struct SolverProgress: Sendable, Codable {
    public var iteration: Int
    public var objective: Double
    /// ‖y − A·x‖ at the sample; with sample weights, iterative solvers send the weighted ‖W^½(y − A·x)‖ their
    /// iterations track (the final `SolveReport.residualNorm` is always unweighted).
    public var residualNorm: Double
    public var elapsedSeconds: Double
    /// Fraction of the iteration/epoch limit done, when meaningful (0…1).
    public var fractionOfLimit: Double?

    public init(iteration: Int, objective: Double, residualNorm: Double, elapsedSeconds: Double, fractionOfLimit: Double? = nil) {
        self.iteration = iteration
        self.objective = objective
        self.residualNorm = residualNorm
        self.elapsedSeconds = elapsedSeconds
        self.fractionOfLimit = fractionOfLimit
    }
}

/// How a solve is watched and bounded: progress, cancellation, and the time limit.
public struct SolveControl: Sendable {
    /// Called with each progress sample, on the solving thread: keep it cheap.
    public var progress: (@Sendable (SolverProgress) -> Void)?
    /// Set it to stop the solver at its next check; the report then says `.cancelled`.
    public var cancellation: CancellationFlag
    /// Wall-clock limit in seconds (nil: none); the report then says `.timeLimit`.
    public var timeLimit: Double?

    public init(progress: (@Sendable (SolverProgress) -> Void)? = nil, cancellation: CancellationFlag = CancellationFlag(),
                timeLimit: Double? = nil) {
        self.progress = progress
        self.cancellation = cancellation
        self.timeLimit = timeLimit
    }

    public static var none: SolveControl { SolveControl() }
}

/// A running clock plus the checks a solver makes each iteration.
package struct SolveClock {
    package let start = DispatchTime.now().uptimeNanoseconds
    package let control: SolveControl

    package init(_ control: SolveControl) { self.control = control }

    package var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// `.cancelled` or `.timeLimit` when the solver must stop now, else nil.
    package func interruption() -> StopReason? {
        if control.cancellation.isCancelled { return .cancelled }
        if let limit = control.timeLimit, elapsed >= limit { return .timeLimit }
        return nil
    }

    package func report(_ iteration: Int, objective: Double, residualNorm: Double, fraction: Double? = nil) {
        control.progress?(SolverProgress(iteration: iteration, objective: objective, residualNorm: residualNorm,
                                         elapsedSeconds: elapsed, fractionOfLimit: fraction))
    }
}
