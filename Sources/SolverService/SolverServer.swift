// SolverService/SolverServer: the embeddable service — durable job queue, solver threads and the HTTP API on one port.
import Foundation
import LeastSquares
import Logging
import SparseTensor

/// Settings of a `SolverServer`. Defaults are safe for a workstation: loopback only, no token,
/// one worker per core.
public struct ServiceConfiguration: Sendable {
    /// Address to bind (IPv4 or IPv6 literal). Default `127.0.0.1`: only this machine can connect.
    public var host = "127.0.0.1"
    /// Port; 0 picks a free one (read `SolverServer.port` after `start()`).
    public var port: UInt16 = 8080
    /// Where jobs live (created if missing). Must be on local disk: durability relies on fsync and rename.
    public var dataDirectory: URL
    /// When set, every request except `GET /healthz` needs `Authorization: Bearer <token>`.
    public var token: String?
    /// Jobs solved at once, each on its own thread. Default: the core count.
    public var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Jobs that may wait; more submissions are answered `429` with `Retry-After`.
    public var queueLimit = 1000
    /// Seconds a `429` asks the client to wait.
    public var retryAfterSeconds = 5
    /// Most nonzeros in one job's A (or B); more is a `422` with the figures.
    public var maxJobNNZ = Int(Int32.max)
    /// Memory one job may use (its size check at submission, factorizations and products at run time).
    public var jobMemoryBudget = MemoryBudget.default
    /// Wall-clock cap of any job in seconds (nil: none); the report then says `timeLimit`.
    public var jobTimeLimit: Double?
    /// What happens to jobs that were running when the server died.
    public var recovery = RecoveryPolicy.requeue
    /// Seconds after which finished jobs (and their files) are deleted; nil keeps them.
    public var retention: Double?
    /// Seconds `stop()` lets running jobs finish before stopping them (they are re-queued on disk).
    public var shutdownGrace: Double = 10
    /// HTTP limits and timeouts (`limits.maxBodyBytes` is `--max-body`).
    public var limits = HTTPLimits()
    /// The solver; defaults to `LeastSquaresSolver.solve`.
    public var solve: SolveFunction = { p, o, c throws(SolverError) in try LeastSquaresSolver.solve(p, options: o, control: c) }
    /// Where the server reports (swift-log; the token never appears): start-up, recovery and shutdown at
    /// `.notice`, jobs it could not read back at `.warning`, storage failures at `.error`, and one access-log line
    /// per request at `.info` (method, path, status, time, bytes). nil: silent.
    public var logger: Logger?
    /// Write one access-log line per request to `logger`.
    public var accessLog = true

    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }
}

/// The solver service: an HTTP/1.1 API over a durable job queue.
///
/// ```swift
/// var config = ServiceConfiguration(dataDirectory: URL(fileURLWithPath: "/var/lib/lsq"))
/// config.port = 0
/// let server = try SolverServer(configuration: config)
/// try await server.start()          // recovers jobs on disk, then listens
/// print(server.port)
/// …
/// await server.stop()               // graceful: stop accepting, let jobs finish or re-queue them
/// ```
public final class SolverServer: Sendable {
    public let configuration: ServiceConfiguration
    private let http: HTTPServer
    private let jobs: JobService
    private let store: JobStore
    private let retentionTask = Mutex<Task<Void, Never>?>(nil)
    private let connections = ConnectionCounter()

    public init(configuration: ServiceConfiguration) throws {
        self.configuration = configuration
        let logger = configuration.logger ?? .silent
        let store = try JobStore(root: configuration.dataDirectory, logger: logger)
        self.store = store
        let settings = JobServiceSettings(
            workers: max(1, configuration.workers), queueLimit: max(0, configuration.queueLimit),
            limits: JobLimits(maxNNZ: configuration.maxJobNNZ, memoryBudget: configuration.jobMemoryBudget),
            jobTimeLimit: configuration.jobTimeLimit, recovery: configuration.recovery, retention: configuration.retention,
            retryAfterSeconds: configuration.retryAfterSeconds, solve: configuration.solve, logger: logger)
        let jobs = JobService(store: store, settings: settings)
        self.jobs = jobs
        let metrics = HTTPMetrics()
        var httpConfig = HTTPServer.Configuration()
        httpConfig.host = configuration.host
        httpConfig.port = configuration.port
        httpConfig.limits = configuration.limits
        httpConfig.spoolDirectory = store.incomingDirectory
        // Weak: the counter holds the server, which holds this handler.
        let api = ServiceAPI(jobs: jobs, store: store, settings: settings, token: configuration.token, metrics: metrics,
                             connections: { [weak connections] in connections?.value() ?? 0 },
                             parseGate: AdmissionGate(permits: settings.workers))
        let accessLog = configuration.accessLog && configuration.logger != nil
        let known: Set<String> = ["GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "-"]
        http = HTTPServer(configuration: httpConfig, handler: api) { exchange in
            var e = exchange
            if !known.contains(e.method) { e.method = "other" }
            metrics.record(e)
            if accessLog {
                logger.info("\(String(format: "%@ %@ %d %.2fms in=%d out=%d", e.method, e.path.isEmpty ? "-" : e.path, e.status, e.seconds * 1000, e.requestBytes, e.responseBytes))")
            }
        }
        connections.bind(http)
    }

    /// The bound port (after `start()`).
    public var port: UInt16 { http.port }

    /// Recovers the jobs on disk, starts the workers and listens.
    public func start() async throws {
        let logger = configuration.logger ?? .silent
        let r = await jobs.recover()
        for problem in r.unreadable { logger.warning("recovery: unreadable job record \(problem)") }
        logger.notice("recovered \(r.queued) queued, \(r.requeued) re-queued, \(r.interrupted) interrupted, \(r.finished) finished job(s) from \(configuration.dataDirectory.path)")
        let purged = await jobs.purgeExpired()
        if purged > 0 { logger.info("retention: deleted \(purged) finished job(s)") }
        try await http.start()
        if let retention = configuration.retention {
            let jobs = self.jobs
            let period = max(1, min(retention / 10, 60))
            retentionTask.withLock { $0 = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(period * 1e9))
                    let n = await jobs.purgeExpired()
                    if n > 0 { logger.info("retention: deleted \(n) finished job(s)") }
                }
            } }
        }
    }

    /// Graceful stop: no new connections or jobs; requests in flight finish; running jobs get
    /// `shutdownGrace` seconds, then are stopped cooperatively and saved as queued.
    public func stop() async {
        retentionTask.withLock { $0?.cancel(); $0 = nil }
        async let httpStopped: Void = http.stop(grace: min(5, configuration.shutdownGrace))
        await jobs.shutdown(grace: configuration.shutdownGrace)
        await httpStopped
    }
}

/// Reads the HTTP server's connection count once it exists (the API is built before the server).
final class ConnectionCounter: Sendable {
    private let server = Mutex<HTTPServer?>(nil)
    func bind(_ s: HTTPServer) { server.withLock { $0 = s } }
    func value() -> Int { server.withLock { $0 }?.connectionCount ?? 0 }
}

import Synchronization

extension Logger {
    /// A logger that drops everything (no `logger` configured).
    static let silent = Logger(label: "lsq.serve", factory: { _ in SwiftLogNoOpLogHandler() })
}
