// lsq/SolveCommand: `lsq solve A [y]` — read, solve with the library, write x, print the report.
import ArgumentParser
import Dispatch
import Foundation
import LeastSquares
import SparseTensor

struct SolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Solve min ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖² and print the report.",
        discussion: """
        A and y come from Matrix Market, SVMlight (A and y from one file), .npz, .lsqb or .tri files. \
        y may be a Matrix Market array/coordinate vector, a .npy array or a text file with one number per line.

        --tol is each solver's main tolerance: LSQR/LSMR atol = btol = t; CD the duality gap relative to f(x); \
        SGD the relative objective decrease per epoch. --epochs caps SGD/CD passes over the data; --max-iter caps \
        LSQR/LSMR iterations.

        Exit 0 when the tolerance is met, 3 when a limit stopped the solver first, 1 on bad input, 2 on a usage \
        error, 130 on Ctrl-C.
        """)

    @Argument(help: "The matrix A (m × n).") var matrix: String
    @Argument(help: "The right-hand side y (length m); optional for SVMlight files, which carry y.") var rhs: String?
    @Option(name: .shortAndLong, help: "Write x here: .mtx (sparse coordinate when sparse), .npy or .json.") var output: String?
    @Option(help: "auto, cd, sgd, lsqr, lsmr, qr or normal.") var solver: String = "auto"
    @Option(help: "λ₁, the L1 (lasso) weight.") var l1: Double = 0
    @Option(help: "λ₂, the L2 (ridge) weight.") var l2: Double = 0
    @Option(help: "LSQR/LSMR damping d (sets λ₂ = d²; not with --l2).") var damping: Double?
    @Option(help: "The solver's main tolerance (see above).") var tol: Double = 1e-8
    @Option(help: "LSQR/LSMR iteration limit (default 2n).") var maxIter: Int?
    @Option(help: "SGD/CD epoch limit (default 50 for SGD, 1000 for CD).") var epochs: Int?
    @Option(help: "Wall-clock limit in seconds.") var timeLimit: Double?
    @Option(help: "Seed for random orders and sampling.") var seed: UInt64 = 0
    @Option(help: "Warm start x0 (length n).") var x0: String?
    @Option(help: "LSQR/LSMR condition limit: stop (exit 3) when cond(Ā) appears larger; inf for none.") var conlim: Double = 1e8
    @Flag(help: "LSQR/LSMR: scale columns to unit norm (Jacobi preconditioning).") var precondition = false
    @Option(help: "CD order: cyclic or random.") var cdOrder: String = "cyclic"
    @Option(help: "SGD schedule: constant, invscaling or adagrad.") var learningRate: String = "adagrad"
    @Option(name: [.customLong("eta0"), .customLong("initial-learning-rate")],
            help: "SGD base learning rate η₀ (default: from the row norms).") var eta0: Double?
    @Option(help: "SGD mini-batch size.") var batchSize: Int = 1
    @Flag(help: "SGD: return the average of the iterates.") var averaging = false
    @Flag(help: "Print the report as one JSON object on stdout.") var json = false
    @Flag(help: "On Ctrl-C, still write the best x so far to --output.") var keepPartial = false
    @OptionGroup var input: InputOptions

    func options() throws -> SolverOptions {
        var o = SolverOptions()
        guard let kind = SolverKind(rawValue: solver.lowercased()) else {
            throw CLIFailure.usage("--solver: expected one of \(SolverKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(solver)'")
        }
        o.solver = kind
        guard tol > 0, tol.isFinite else { throw CLIFailure.usage("--tol must be a positive number, got \(tol)") }
        o.tolerance = tol
        if let maxIter, maxIter < 1 { throw CLIFailure.usage("--max-iter must be ≥ 1, got \(maxIter)") }
        if let epochs, epochs < 1 { throw CLIFailure.usage("--epochs must be ≥ 1, got \(epochs)") }
        if let timeLimit, !(timeLimit > 0) { throw CLIFailure.usage("--time-limit must be > 0 seconds, got \(timeLimit)") }
        guard batchSize >= 1 else { throw CLIFailure.usage("--batch-size must be ≥ 1, got \(batchSize)") }
        if let eta0, !(eta0 > 0 && eta0.isFinite) { throw CLIFailure.usage("--eta0 must be a positive number, got \(eta0)") }
        o.maxIterations = maxIter
        o.epochs = epochs
        o.seed = seed
        o.conditionLimit = conlim
        o.columnScaling = precondition
        guard let order = CoordinateOrder(rawValue: cdOrder.lowercased()) else {
            throw CLIFailure.usage("--cd-order: expected cyclic or random, got '\(cdOrder)'")
        }
        o.coordinateOrder = order
        guard let schedule = LearningRateSchedule(rawValue: learningRate.lowercased()) else {
            throw CLIFailure.usage("--learning-rate: expected constant, invscaling or adagrad, got '\(learningRate)'")
        }
        o.learningRate = schedule
        o.initialLearningRate = eta0
        o.batchSize = batchSize
        o.averaging = averaging
        o.memoryBudgetBytes = try input.budget().bytes
        return o
    }

    func regularization() throws -> Regularization {
        guard l1 >= 0, l1.isFinite else { throw CLIFailure.usage("--l1 must be a finite number ≥ 0, got \(l1)") }
        guard l2 >= 0, l2.isFinite else { throw CLIFailure.usage("--l2 must be a finite number ≥ 0, got \(l2)") }
        if let damping {
            guard l2 == 0 else { throw CLIFailure.usage("--damping and --l2 both set the ridge weight: pass one") }
            guard damping >= 0, damping.isFinite else { throw CLIFailure.usage("--damping must be ≥ 0, got \(damping)") }
            return Regularization(l1: l1, l2: damping * damping)
        }
        return Regularization(l1: l1, l2: l2)
    }

    /// The limits given that `solver` (the one that ran, after auto) does not count by: said on stderr, so that a
    /// limit meant to stop the solve is not silently without effect.
    func unusedLimits(solver: SolverKind) -> [String] {
        var notes: [String] = []
        switch solver {
        case .cd, .sgd:
            if maxIter != nil { notes.append("--max-iter is not used by \(solver.rawValue) (it caps LSQR/LSMR iterations); --epochs caps its passes") }
        case .lsqr, .lsmr:
            if epochs != nil { notes.append("--epochs is not used by \(solver.rawValue) (it caps CD/SGD passes); --max-iter caps its iterations") }
        case .qr, .normal:
            if maxIter != nil || epochs != nil { notes.append("--max-iter and --epochs are not used by \(solver.rawValue), an exact factorization") }
        case .auto:
            break
        }
        return notes
    }

    func run() async throws {
        let options = try options()
        let regularization = try regularization()
        if let output { try OutputFile.checkSolutionPath(output) }
        let progress = input.quiet ? nil : ProgressReporter()
        // Ctrl-C cancels cooperatively (also while reading); a second Ctrl-C exits at once.
        let cancellation = CancellationFlag()
        let interrupts = InterruptHandler(cancellation: cancellation)
        defer { interrupts.stop() }

        let readStart = DispatchTime.now().uptimeNanoseconds
        let loaded = try input.load(matrix, progress: progress)
        let a = loaded.matrix
        let y: [Double]
        if let rhs {
            y = try input.loadVector(rhs)
        } else if let labels = loaded.labels {
            y = labels
        } else {
            throw CLIFailure.badInput("\(matrix): no right-hand side: give y as the second argument (only SVMlight files carry y)")
        }
        guard y.count == a.rowCount else {
            throw CLIFailure.badInput("\(rhs ?? matrix): y has length \(y.count) but A (\(matrix)) has \(a.rowCount) rows")
        }
        let initial = try x0.map { path -> [Double] in
            let v = try input.loadVector(path)
            guard v.count == a.columnCount else {
                throw CLIFailure.badInput("\(path): x0 has length \(v.count) but A (\(matrix)) has \(a.columnCount) columns")
            }
            return v
        }
        let readSeconds = Double(DispatchTime.now().uptimeNanoseconds - readStart) / 1e9
        let problem: LeastSquaresProblem
        do {
            problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: regularization, initialGuess: initial)
        } catch { throw CLIFailure.badInput(error.description) }

        let label = options.solver == .auto ? "solve" : options.solver.rawValue
        var control = SolveControl(cancellation: cancellation, timeLimit: timeLimit)
        if let progress { control.progress = { @Sendable sample in progress.solver(sample, label: label) } }
        let solution: Solution
        do {
            solution = try LeastSquaresSolver.solve(problem, options: options, control: control)
        } catch {
            progress?.finishLine()
            throw CLIFailure.badInput(error.description)
        }
        progress?.finishLine()
        let report = solution.report
        for note in unusedLimits(solver: report.solver) { FileHandle.standardError.write(Data("lsq: note: \(note)\n".utf8)) }
        let interrupted = report.stopReason == .cancelled
        var written: String?
        if let output, !interrupted || keepPartial {
            try OutputFile.writeSolution(solution.x, to: output)
            written = output
        }
        if json {
            var object = JSONOutput.report(report)
            object["rows"] = a.rowCount
            object["columns"] = a.columnCount
            object["nnzA"] = a.nnz
            object["readSeconds"] = readSeconds
            object["output"] = written
            print(JSONOutput.string(object))
        } else {
            print(ReportText.format(report, rows: a.rowCount, columns: a.columnCount, nnz: a.nnz, readSeconds: readSeconds,
                                    output: written))
        }
        if interrupted { throw ExitCode(130) }
        if !report.stopReason.converged { throw ExitCode(3) }
    }
}

/// The human-readable solve report.
enum ReportText {
    static func format(_ r: SolveReport, rows: Int, columns: Int, nnz: Int, readSeconds: Double, output: String?) -> String {
        func g(_ v: Double) -> String { String(format: "%.6g", v) }
        var lines = [
            "problem      A \(rows) × \(columns), nnz \(nnz)",
            "solver       \(r.solver.rawValue)" + (r.choiceReason.isEmpty ? "" : " (\(r.choiceReason))"),
            "stop         \(r.stopReason.rawValue): \(r.stopReason.description)",
            "iterations   \(r.iterations)",
            "objective    \(g(r.objective))",
            "‖y − Ax‖     \(g(r.residualNorm))",
            "‖Aᵀr − λ₂x‖  \(g(r.optimalityNorm))",
        ]
        if let gap = r.dualityGap { lines.append("duality gap  \(g(gap))") }
        if let rank = r.rank { lines.append("rank         \(rank)") }
        if let c = r.conditionEstimate { lines.append("cond(A) est. \(g(c))") }
        lines.append("nnz(x)       \(r.nnzX) of \(columns)")
        lines.append(String(format: "time         read %.3fs, setup %.3fs, solve %.3fs", readSeconds, r.setupSeconds, r.solveSeconds))
        for d in r.diagnostics { lines.append("note         \(d)") }
        if let output { lines.append("x written to \(output)") }
        return lines.joined(separator: "\n")
    }
}

/// SIGINT → cancellation flag; a second SIGINT exits with 130.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(cancellation: CancellationFlag) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if cancellation.isCancelled { Foundation.exit(130) }
            FileHandle.standardError.write(Data("\nlsq: interrupted, stopping the solver (Ctrl-C again to quit now)\n".utf8))
            cancellation.cancel()
        }
        source.resume()
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
