// SolverService/Jobs/JobService: the actor that owns the queue — admission, dispatch to solver threads, cancel, recovery, shutdown.
import Foundation
import LeastSquares
import Logging
import SparseTensor
import Synchronization

/// What to do with jobs that were running when the server stopped without finishing them.
public enum RecoveryPolicy: String, Sendable, CaseIterable {
    /// Run them again from the start (solvers keep no checkpoint, so a restart is a re-run).
    case requeue
    /// Mark them `interrupted` with the reason; the client decides whether to resubmit.
    case interrupt
}

/// The signature of `LeastSquaresSolver.solve`, injectable so embedders (and tests) can wrap it.
public typealias SolveFunction = @Sendable (LeastSquaresProblem, SolverOptions, SolveControl) throws(SolverError) -> Solution

/// Per-job admission limits.
struct JobLimits: Sendable {
    /// Most nonzeros in A (and B) of one job.
    var maxNNZ: Int
    /// Memory one job may use: checked against the problem's size at submission, passed to the solver
    /// (factorizations) and the product (its estimate) at run time.
    var memoryBudget: MemoryBudget
}

struct JobServiceSettings: Sendable {
    var workers: Int
    var queueLimit: Int
    var limits: JobLimits
    /// Wall-clock cap for any job, in seconds (the job's own `timeLimit` may be shorter).
    var jobTimeLimit: Double?
    var recovery: RecoveryPolicy
    /// Seconds after which finished jobs are deleted (nil: kept).
    var retention: Double?
    var retryAfterSeconds: Int
    var solve: SolveFunction
    var logger: Logger
}

/// The live state of a running job, shared with its solver thread.
final class RunningJob: Sendable {
    let cancellation = CancellationFlag()
    private let stopping = Atomic<Bool>(false)
    let progress = Mutex<SolverProgress?>(nil)
    /// Where the running record stands: pending → saving → saved, or pending → finished (a solve done before the
    /// timer, which then writes nothing); saved → resaving → saved while a client's cancel request is written.
    /// Atomic, so the actor's reads never wait for the file write.
    private let recording = Atomic<Int>(Recording.pending)
    private enum Recording {
        static let pending = 0, saving = 1, saved = 2, finished = 3, resaving = 4
    }

    /// Tries `exchange` until it succeeds or the record is not being written (returns whether it succeeded).
    private func whenNotWriting(_ exchange: () -> (exchanged: Bool, original: Int)) -> Bool {
        while true {
            let (exchanged, current) = exchange()
            if exchanged { return true }
            if current != Recording.saving && current != Recording.resaving { return false }
            usleep(100)
        }
    }

    /// Whether the running state is saved. Until then the API shows the job as queued: a client that saw
    /// `running` must find the job running (or interrupted) after a crash, never queued as if nothing had happened.
    var isRecordedRunning: Bool {
        let state = recording.load(ordering: .acquiring)
        return state == Recording.saved || state == Recording.resaving
    }

    /// Saves the running state with `save`, unless the solve has finished meanwhile (its final record follows).
    /// Called by a timer `JobRunner.runningRecordDelay` after the job starts.
    func recordRunning(_ save: () -> Void) {
        guard recording.compareExchange(expected: Recording.pending, desired: Recording.saving, ordering: .acquiringAndReleasing).exchanged
        else { return }
        save()
        recording.store(Recording.saved, ordering: .releasing)
    }

    /// The solve is over: from now on only the final record is written. If the timer is writing the running
    /// record right now, waits for it (one small file write), so that the final record is written after it.
    func finishRunning() {
        _ = whenNotWriting {
            recording.compareExchange(expected: Recording.pending, desired: Recording.finished, ordering: .acquiringAndReleasing)
        }
    }

    /// Saves the record with the client's cancel request (`save`) when the running state is already on disk,
    /// and never after the final record: while the running record is still pending, its own save carries the
    /// request (see `JobRunner.run`); once the solve has finished, the final record says what happened.
    func recordCancelRequest(_ save: () -> Void) {
        let resaving = whenNotWriting {
            recording.compareExchange(expected: Recording.saved, desired: Recording.resaving, ordering: .acquiringAndReleasing)
        }
        guard resaving else { return }
        save()
        recording.store(Recording.saved, ordering: .releasing)
    }

    /// A client asked to cancel (DELETE): the solve stops, and is reported cancelled even if a shutdown follows.
    private let cancelledByUser = Atomic<Bool>(false)
    var isCancelledByUser: Bool { cancelledByUser.load(ordering: .acquiring) }
    func cancelByUser() {
        cancelledByUser.store(true, ordering: .releasing)
        cancellation.cancel()
    }

    /// The server is shutting down: a cancelled solve is re-queued, not reported cancelled.
    var isShutdown: Bool { stopping.load(ordering: .relaxed) }
    func shutdown() {
        stopping.store(true, ordering: .relaxed)
        cancellation.cancel()
    }

    /// A stopped solve goes back to the queue: the server is shutting down and no client cancelled it.
    var requeuesOnStop: Bool { isShutdown && !isCancelledByUser }
}

/// A job as the API shows it: its record and, while it runs, the latest progress sample.
struct JobView: Sendable {
    var record: JobRecord
    var progress: SolverProgress?
}

/// Job counters for /metrics.
struct JobStats: Sendable {
    var byState: [JobState: Int] = [:]
    var queueDepth = 0
    var running = 0
    var workers = 0
    var queueLimit = 0
    var finished: [JobState: Int] = [:]
    var solveSeconds = Histogram(bounds: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60, 300, 1800])
    var rejectedQueueFull = 0
}

/// Owns every job's in-memory state and the queue. CPU-bound work never runs on the actor: each job
/// runs on a dedicated thread (at most `workers` at a time), so the HTTP tasks on the cooperative pool
/// stay responsive while both cores solve. State changes of a job are persisted by whoever owns it at
/// that moment — the submitting request (queued), its solver thread (running, finished), the DELETE
/// handler (cancelled while queued) — so writes for one job never race.
actor JobService {
    private let store: JobStore
    private let settings: JobServiceSettings
    private var records: [UUID: JobRecord] = [:]
    private var ordered: [UUID] = []
    private var queue: [UUID] = []
    private var queueHead = 0
    private var running: [UUID: RunningJob] = [:]
    private var reserved = 0
    private var nextSequence = 1
    private var accepting = true
    private var stats = JobStats()
    private var waiters: [UUID: [Int: CheckedContinuation<Void, Never>]] = [:]
    /// Inputs parsed at submission, kept for queued jobs while their total size is small.
    private var prepared: [UUID: PreparedInput] = [:]
    private var preparedNNZ = 0
    static let preparedNNZLimit = 20_000_000
    private var nextWaiter = 0

    init(store: JobStore, settings: JobServiceSettings) {
        self.store = store
        self.settings = settings
    }

    var queueDepth: Int { queue.count - queueHead }

    /// Runs of a job the server may die during before recovery stops re-queueing it (`crashed_repeatedly`).
    static let maxRunAttempts = 3

    // MARK: - Recovery

    /// Loads the jobs on disk: queued ones are queued again, running ones re-queued or marked
    /// interrupted (per policy), finished ones stay downloadable. Then starts the workers.
    func recover() -> (queued: Int, requeued: Int, interrupted: Int, finished: Int, unreadable: [String]) {
        let (loaded, unreadable) = store.loadAll()
        var queued = 0, requeued = 0, interrupted = 0, finished = 0
        for var r in loaded {
            nextSequence = max(nextSequence, r.sequence + 1)
            switch r.state {
            case .running:
                if r.cancelRequested {
                    r.state = .cancelled
                    r.finishedAt = Date()
                    r.note = "cancelled: the server stopped while the cancellation was in progress"
                } else if r.attempts >= Self.maxRunAttempts {
                    // The server stopped during every run of this job: it may be what stops it (a native crash, the
                    // OOM killer). Running it again on every start would take the server down with it each time.
                    r.state = .interrupted
                    r.finishedAt = Date()
                    r.error = ErrorRecord(code: "crashed_repeatedly",
                                          message: "the server stopped while this job was running in each of its \(r.attempts) attempts, so it is not run again; check the server's log and memory budget (--max-memory) before resubmitting it")
                    interrupted += 1
                } else if settings.recovery == .requeue {
                    r.state = .queued
                    r.startedAt = nil
                    r.note = "re-queued after a restart: the server stopped while this job was running (attempt \(r.attempts))"
                    requeued += 1
                } else {
                    r.state = .interrupted
                    r.finishedAt = Date()
                    r.error = ErrorRecord(code: "interrupted", message: "the server stopped while this job was running; resubmit it to run it again")
                    interrupted += 1
                }
                do { try store.save(r) } catch { settings.logger.error("recovery: cannot save job \(r.id): \(error)") }
            case .queued:
                queued += 1
            default:
                finished += 1
            }
            records[r.id] = r
            ordered.append(r.id)
            if r.state == .queued { queue.append(r.id) }
        }
        pump()
        return (queued, requeued, interrupted, finished, unreadable)
    }

    // MARK: - Submission

    /// Reserves a queue place for a submission about to be parsed and stored; returns its sequence number.
    /// - Throws: `429` with `Retry-After` when the queue is full, `503` while shutting down.
    func reserve() throws(ServiceError) -> Int {
        guard accepting else { throw ServiceError(.serviceUnavailable, "shutting_down", "the server is shutting down; retry later") }
        guard queueDepth + reserved < settings.queueLimit else {
            stats.rejectedQueueFull += 1
            throw queueFullError()
        }
        reserved += 1
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// Whether a submission would be refused right now (checked before its body is read).
    func admissionError() -> ServiceError? {
        guard accepting else { return ServiceError(.serviceUnavailable, "shutting_down", "the server is shutting down; retry later") }
        guard queueDepth + reserved < settings.queueLimit else {
            stats.rejectedQueueFull += 1
            return queueFullError()
        }
        return nil
    }

    private func queueFullError() -> ServiceError {
        ServiceError(.tooManyRequests, "queue_full",
                     "the job queue is full (\(settings.queueLimit) jobs waiting, \(running.count) running); retry after \(settings.retryAfterSeconds) s",
                     details: ["queueLimit": Double(settings.queueLimit)],
                     headers: [("Retry-After", "\(settings.retryAfterSeconds)")])
    }

    func release() { reserved = max(0, reserved - 1) }

    /// Takes a stored job (its record and problem are already durable) into the queue, with its
    /// parsed input when there is room to keep it (the runner re-reads the durable copy otherwise).
    func accept(_ record: JobRecord, input: PreparedInput? = nil) {
        reserved = max(0, reserved - 1)
        if let input, preparedNNZ + input.nnz <= Self.preparedNNZLimit {
            prepared[record.id] = input
            preparedNNZ += input.nnz
        }
        records[record.id] = record
        ordered.append(record.id)
        queue.append(record.id)
        pump()
    }

    // MARK: - Reading

    func view(_ id: UUID) -> JobView? {
        guard let r = records[id] else { return nil }
        return view(of: r)
    }

    /// The record as the API shows it (everywhere: status, lists, cancellation, metrics). A dispatched job whose
    /// running state is not saved yet is still queued: that is what the disk says, and so what a restart would find.
    private func visible(_ record: JobRecord) -> JobRecord {
        guard record.state == .running, let job = running[record.id], !job.isRecordedRunning else { return record }
        var r = record
        r.state = .queued
        r.startedAt = nil
        r.attempts -= 1
        return r
    }

    private func view(of record: JobRecord) -> JobView {
        let r = visible(record)
        return JobView(record: r, progress: r.state == .running ? running[r.id]?.progress.withLock { $0 } : nil)
    }

    /// Jobs in submission order, optionally of one state.
    func list(offset: Int, limit: Int, state: JobState?) -> (jobs: [JobView], total: Int) {
        let ids = state == nil ? ordered : ordered.filter { records[$0].map(visible)?.state == state }
        let page = ids.dropFirst(offset).prefix(limit)
        return (page.compactMap { view($0) }, ids.count)
    }

    func statistics() -> JobStats {
        var s = stats
        s.byState = [:]
        for r in records.values { s.byState[visible(r).state, default: 0] += 1 }
        s.queueDepth = queueDepth
        s.running = running.count
        s.workers = settings.workers
        s.queueLimit = settings.queueLimit
        return s
    }

    // MARK: - Cancellation

    enum CancelOutcome {
        /// A queued job, now cancelled: the caller persists the record before answering.
        case cancelled(JobRecord)
        /// A running job, asked to stop; its solver thread records the outcome. The caller saves the request
        /// through the job (`RunningJob.recordCancelRequest`), so that a crash before the solver stops does not
        /// bring the job back as running.
        case stopping(JobView, JobRecord, RunningJob?)
        /// Already cancelled (idempotent).
        case unchanged(JobView)
    }

    func cancel(_ id: UUID) throws(ServiceError) -> CancelOutcome {
        guard var r = records[id] else { throw ServiceError(.notFound, "not_found", "no job with id \(id.uuidString.lowercased())") }
        switch r.state {
        case .queued:
            r.state = .cancelled
            r.cancelRequested = true
            r.finishedAt = Date()
            records[id] = r
            // Drop the consumed prefix first: with queueHead reset, jobs already started would count as waiting.
            queue.removeFirst(queueHead)
            queueHead = 0
            queue.removeAll { $0 == id }
            if let input = prepared.removeValue(forKey: id) { preparedNNZ -= input.nnz }
            stats.finished[.cancelled, default: 0] += 1
            notifyWaiters(id)
            return .cancelled(r)
        case .running:
            r.cancelRequested = true
            records[id] = r
            running[id]?.cancelByUser()
            return .stopping(view(of: r), r, running[id])
        case .cancelled:
            return .unchanged(JobView(record: r))
        case .succeeded, .failed, .interrupted:
            throw ServiceError(.conflict, "already_finished", "job \(id.uuidString.lowercased()) already finished (\(r.state.rawValue)); there is nothing to cancel")
        }
    }

    // MARK: - Dispatch

    private func pump() {
        while accepting, running.count < settings.workers, queueHead < queue.count {
            let id = queue[queueHead]
            queueHead += 1
            if queueHead > 1024, queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            guard var r = records[id], r.state == .queued else { continue }
            r.state = .running
            r.startedAt = Date()
            r.attempts += 1
            // The running state is saved by the solver thread before the solve starts (JobRunner.run),
            // not here: a file write on the actor would delay every request waiting for it.
            records[id] = r
            let job = RunningJob()
            running[id] = job
            let snapshot = r
            let store = self.store
            let settings = self.settings
            let input = prepared.removeValue(forKey: id)
            if let input { preparedNNZ -= input.nnz }
            Task.detached { [weak self] in
                let final = await SolverThread.run { JobRunner.run(snapshot, input: input, store: store, job: job, settings: settings) }
                await self?.finished(final)
            }
        }
    }

    /// Suspends until job `id` is finished (or unknown); a cancelled caller resumes at once.
    func waitUntilFinished(_ id: UUID) async {
        guard let r = records[id], !r.state.isFinished else { return }
        nextWaiter += 1
        let token = nextWaiter
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                waiters[id, default: [:]][token] = c
            }
        } onCancel: {
            Task { await self.resumeWaiter(id, token) }
        }
    }

    private func resumeWaiter(_ id: UUID, _ token: Int) {
        waiters[id]?.removeValue(forKey: token)?.resume()
        if waiters[id]?.isEmpty == true { waiters[id] = nil }
    }

    private func notifyWaiters(_ id: UUID) {
        guard let list = waiters.removeValue(forKey: id) else { return }
        for c in list.values { c.resume() }
    }

    private func finished(_ record: JobRecord) {
        var r = record
        if let current = records[r.id] { r.cancelRequested = r.cancelRequested || current.cancelRequested }
        records[r.id] = r
        running[r.id] = nil
        if r.state.isFinished {
            notifyWaiters(r.id)
            stats.finished[r.state, default: 0] += 1
            if let s = r.startedAt, let f = r.finishedAt { stats.solveSeconds.observe(f.timeIntervalSince(s)) }
        } else if r.state == .queued, accepting {
            queue.append(r.id)
        }
        pump()
    }

    // MARK: - Retention and shutdown

    /// Deletes finished jobs older than the retention period.
    func purgeExpired(now: Date = Date()) -> Int {
        guard let retention = settings.retention else { return 0 }
        let expired = records.values.filter { r in r.state.isFinished && (r.finishedAt ?? r.createdAt).addingTimeInterval(retention) < now }
        for r in expired {
            records[r.id] = nil
            store.delete(r.id)
        }
        if !expired.isEmpty {
            let gone = Set(expired.map(\.id))
            ordered.removeAll { gone.contains($0) }
        }
        return expired.count
    }

    /// Stops starting jobs; waits up to `grace` seconds for running ones, then stops them cooperatively —
    /// they are saved as queued and run again after the restart.
    func shutdown(grace: Double) async {
        accepting = false
        let deadline = Date().addingTimeInterval(max(0, grace))
        while !running.isEmpty, Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        for job in running.values { job.shutdown() }
        let hard = Date().addingTimeInterval(5)
        while !running.isEmpty, Date() < hard { try? await Task.sleep(nanoseconds: 20_000_000) }
        if !running.isEmpty {
            settings.logger.warning("shutdown: \(running.count) job(s) did not stop in time; they stay 'running' on disk and are recovered at the next start")
        }
        // Finished jobs' files still waiting for their background fsync.
        store.flusher.flushNow()
        // Journaled jobs get their `.job` files (a restart would also do it from the journal).
        store.journal.materializeNow()
    }
}

/// Runs CPU-bound work on its own thread, off Swift's cooperative pool (which serves the sockets).
enum SolverThread {
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 16 << 20
            thread.name = "lsq-solver"
            thread.start()
        }
    }
}

/// A Prometheus-style cumulative histogram.
struct Histogram: Sendable {
    let bounds: [Double]
    var counts: [Int]
    var sum = 0.0
    var count = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = [Int](repeating: 0, count: bounds.count)
    }

    mutating func observe(_ v: Double) {
        for (i, b) in bounds.enumerated() where v <= b { counts[i] += 1 }
        sum += v
        count += 1
    }
}
