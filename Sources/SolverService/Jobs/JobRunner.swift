// SolverService/Jobs/JobRunner: runs one job on its solver thread — read the durable problem, solve or multiply, store the result.
import Foundation
import LeastSquares
import SparseTensor

/// The body of a solver thread. Owns the job's record while it runs: persists the result file, then
/// the final record (result before record, so a finished record always has its file; a power loss
/// that keeps the record but not the file is caught at start-up, see `JobStore.loadAll`).
enum JobRunner {
    /// How long a job runs before its running state is saved (see `run`).
    static let runningRecordDelay = 0.05

    /// - Parameter input: the input parsed at submission, if kept; else the durable copy is read.
    static func run(_ snapshot: JobRecord, input: PreparedInput?, store: JobStore, job: RunningJob, settings: JobServiceSettings) -> JobRecord {
        var r = snapshot
        // The running state is saved once the job has run for `runningRecordDelay`, so that a restart knows it
        // ran (the recovery policy depends on it). Write and rename only, no fsync: this survives kill -9, and if a
        // power loss forgets it, the job is simply queued again. A job that finishes sooner never writes it (on
        // local disk a file creation costs ~0.2 ms, more than a small solve): until it is written the API shows the
        // job as queued, and a crash before then leaves it queued on disk, to run again — nothing of it was seen.
        DispatchQueue.global().asyncAfter(deadline: .now() + runningRecordDelay) { [r] in
            job.recordRunning {
                var running = r
                running.cancelRequested = running.cancelRequested || job.isCancelledByUser
                do { try store.save(running, durability: .processCrash) } catch {
                    settings.logger.error("job \(r.id): cannot save the running state: \(error)")
                }
            }
        }
        do {
            switch (r.kind, input) {
            case let (.solve, .solve(parsed)?):
                try solve(&r, input: parsed, store: store, job: job, settings: settings)
            case (.solve, _):
                let parsed = try ProblemReader.solve(body: try store.problem(r.id), input: r.input, limits: settings.limits)
                try solve(&r, input: parsed, store: store, job: job, settings: settings)
            case let (.product, .product(parsed)?):
                try product(&r, input: parsed, store: store, job: job, settings: settings)
            case (.product, _):
                let parsed = try ProblemReader.product(body: try store.problem(r.id), limits: settings.limits)
                try product(&r, input: parsed, store: store, job: job, settings: settings)
            }
        } catch let e as ServiceError {
            fail(&r, code: e.code, message: e.message)
        } catch let e as SolverError {
            let s = ServiceError.from(e)
            fail(&r, code: s.code, message: s.message)
        } catch let e as SparseError {
            let s = ServiceError.from(e, context: r.kind == .product ? "product" : "solve")
            fail(&r, code: s.code, message: s.message)
        } catch {
            fail(&r, code: "storage_error", message: "\(error)")
        }
        job.finishRunning()
        if r.state == .queued {
            r.startedAt = nil
            r.note = "re-queued: the server stopped while this job was running (attempt \(r.attempts))"
        } else {
            r.finishedAt = Date()
        }
        do {
            switch r.state {
            case .succeeded, .failed:
                // Written and renamed, not fsynced, before the client can see it: it survives kill -9 at
                // once and a power loss after the background flush; before that, a power loss makes the
                // job run again (JobStore.loadAll), which gives the same answer.
                try store.saveFinished(r, results: r.hasResult ? resultNames(r.kind) : [])
            default:
                // Cancelled (a restart must not run it again) or re-queued at shutdown: rare, fully durable.
                try store.save(r)
            }
        } catch {
            settings.logger.error("job \(r.id): cannot save the final state: \(error)")
        }
        return r
    }

    private static func resultNames(_ kind: JobKind) -> [String] {
        switch kind {
        case .solve: return [JobStore.solutionName]
        case .product: return [JobStore.productNames.indptr, JobStore.productNames.indices, JobStore.productNames.values]
        }
    }

    private static func fail(_ r: inout JobRecord, code: String, message: String) {
        r.state = .failed
        r.error = ErrorRecord(code: code, message: message)
    }

    private static func solve(_ r: inout JobRecord, input: SolveInput, store: JobStore, job: RunningJob, settings: JobServiceSettings) throws {
        var limit = input.options.timeLimit
        if let cap = settings.jobTimeLimit { limit = min(limit ?? cap, cap) }
        let control = SolveControl(progress: { p in job.progress.withLock { $0 = p } }, cancellation: job.cancellation, timeLimit: limit)
        let solution = try settings.solve(input.problem, input.options.solver, control)
        if job.requeuesOnStop, solution.report.stopReason == .cancelled {
            r.state = .queued
            return
        }
        try store.writeResult(r.id, name: JobStore.solutionName, data: NPYArray.encode(solution.x))
        r.hasResult = true
        r.report = solution.report
        r.state = solution.report.stopReason == .cancelled ? .cancelled : .succeeded
    }

    private static func product(_ r: inout JobRecord, input: ProductInput, store: JobStore, job: RunningJob, settings: JobServiceSettings) throws {
        var options = ProblemReader.productOptions(input.spec, limits: settings.limits)
        options.cancellation = job.cancellation
        let c: CSRMatrix
        do {
            c = try input.a.product(input.spec.kind, with: input.b, options: options)
        } catch .cancelled {
            // Stopped within a row (or a block of the mirror) by a DELETE, or by a shutdown (which re-queues the job).
            r.state = job.requeuesOnStop ? .queued : .cancelled
            if r.state == .cancelled { r.note = "cancelled during the multiply" }
            return
        }
        // A cancel (or shutdown) that arrived after the last check discards the result.
        if job.requeuesOnStop { r.state = .queued; return }
        if job.cancellation.isCancelled {
            r.state = .cancelled
            r.note = "cancelled after the multiply had finished; its result was discarded"
            return
        }
        let names = JobStore.productNames
        try store.writeResult(r.id, name: names.indptr, data: NPYArray.encode(c.rowOffsets))
        try store.writeResult(r.id, name: names.indices, data: NPYArray.encode(c.columnIndices))
        try store.writeResult(r.id, name: names.values, data: NPYArray.encode(c.values))
        r.product?.resultRows = c.rowCount
        r.product?.resultColumns = c.columnCount
        r.product?.resultNNZ = c.nnz
        r.hasResult = true
        r.state = .succeeded
    }
}
