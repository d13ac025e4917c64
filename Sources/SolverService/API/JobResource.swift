// SolverService/API/JobResource: the JSON a client sees for a job (GET /v1/jobs/{id}) — finite numbers only.
import Foundation
import LeastSquares
import SparseTensor

/// The job resource. Non-finite numbers (an infinite condition estimate, a NaN objective) become null.
struct JobResource: Encodable {
    struct Input: Encodable {
        var format: String
        var contentType: String
        var bytes: Int
    }

    struct Options: Encodable {
        var solver: String
        var tol: Double
        var l1: Double
        var l2: Double
        var epochs: Int?
        var maxIter: Int?
        var seed: UInt64
        var timeLimit: Double?
    }

    struct Product: Encodable {
        var kind: String
        var upperTriangleOnly: Bool
        var dropTolerance: Double
        var engine: String
        var estimatedNNZ: Double?
        var estimatedBytes: Double?
        var rows: Int?
        var columns: Int?
        var nnz: Int?
    }

    struct Progress: Encodable {
        var iteration: Int
        var objective: Double?
        var residual: Double?
        var elapsedSeconds: Double
        var fractionOfLimit: Double?
        var etaSeconds: Double?
    }

    struct Report: Encodable {
        var solver: String
        var choiceReason: String
        var iterations: Int
        var stopReason: String
        var stopMessage: String
        var converged: Bool
        var objective: Double?
        var residualNorm: Double?
        var optimalityNorm: Double?
        var dualityGap: Double?
        var rank: Int?
        var normEstimate: Double?
        var conditionEstimate: Double?
        var nnzX: Int
        var setupSeconds: Double
        var solveSeconds: Double
        var diagnostics: [String]
    }

    struct Links: Encodable {
        var `self`: String
        var solution: String?
        var result: String?
    }

    var id: String
    var kind: String
    var status: String
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var attempts: Int
    var cancelRequested: Bool
    var input: Input
    var problem: ProblemSummary?
    var options: Options?
    var product: Product?
    var progress: Progress?
    var report: Report?
    var error: ErrorRecord?
    var note: String?
    var links: Links

    init(_ view: JobView) {
        let r = view.record
        let path = "/v1/jobs/\(r.id.uuidString.lowercased())"
        id = r.id.uuidString.lowercased()
        kind = r.kind.rawValue
        status = r.state.rawValue
        createdAt = r.createdAt
        startedAt = r.startedAt
        finishedAt = r.finishedAt
        attempts = r.attempts
        cancelRequested = r.cancelRequested
        input = Input(format: r.input.format, contentType: r.input.contentType, bytes: r.input.bytes)
        problem = r.problem
        if let o = r.options {
            options = Options(solver: o.solver.solver.rawValue, tol: o.solver.tolerance, l1: o.regularization.l1, l2: o.regularization.l2,
                              epochs: o.solver.epochs, maxIter: o.solver.maxIterations, seed: o.solver.seed, timeLimit: o.timeLimit)
        }
        if let p = r.product {
            product = Product(kind: p.kind.rawValue, upperTriangleOnly: p.upperTriangleOnly, dropTolerance: p.dropTolerance,
                              engine: p.engine.rawValue, estimatedNNZ: p.estimate?.nnz.finiteOrNil,
                              estimatedBytes: p.estimate?.bytes.finiteOrNil, rows: p.resultRows, columns: p.resultColumns, nnz: p.resultNNZ)
        }
        if r.state == .running, let p = view.progress {
            var eta: Double?
            if let f = p.fractionOfLimit, f > 0, f <= 1 { eta = (p.elapsedSeconds * (1 - f) / f).finiteOrNil }
            progress = Progress(iteration: p.iteration, objective: p.objective.finiteOrNil, residual: p.residualNorm.finiteOrNil,
                                elapsedSeconds: p.elapsedSeconds, fractionOfLimit: p.fractionOfLimit?.finiteOrNil, etaSeconds: eta)
        }
        if let s = r.report {
            report = Report(solver: s.solver.rawValue, choiceReason: s.choiceReason, iterations: s.iterations,
                            stopReason: s.stopReason.rawValue, stopMessage: s.stopReason.description, converged: s.stopReason.converged,
                            objective: s.objective.finiteOrNil, residualNorm: s.residualNorm.finiteOrNil,
                            optimalityNorm: s.optimalityNorm.finiteOrNil, dualityGap: s.dualityGap?.finiteOrNil, rank: s.rank,
                            normEstimate: s.normEstimate?.finiteOrNil, conditionEstimate: s.conditionEstimate?.finiteOrNil,
                            nnzX: s.nnzX, setupSeconds: s.setupSeconds, solveSeconds: s.solveSeconds, diagnostics: s.diagnostics)
        }
        error = r.error
        note = r.note
        let done = r.hasResult
        links = Links(self: path, solution: r.kind == .solve && done ? path + "/solution" : nil,
                      result: r.kind == .product && done ? path + "/result" : nil)
    }
}

/// A page of GET /v1/jobs.
struct JobPage: Encodable {
    var jobs: [JobResource]
    var total: Int
    var offset: Int
    var limit: Int
    var next: String?
}
