// lsq/ServeCommand: `lsq serve` — runs the HTTP solver service until SIGTERM/SIGINT, then stops gracefully.
import ArgumentParser
import Dispatch
import Foundation
import Logging
import SolverService
import Synchronization
import SparseTensor
#if canImport(Glibc)
import Glibc
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP solver service.",
        discussion: """
        Jobs are durable in --data-dir: a job is on disk before its 202 is sent, and after a restart
        (even kill -9) queued jobs run, running ones are re-queued (--recovery interrupt marks them
        interrupted instead) and finished results stay downloadable. The API is described at
        GET /openapi.json. SIGTERM or SIGINT stops gracefully; a second signal exits at once.
        """)

    @Option(help: "Address to bind (IPv4 or IPv6 literal). The default only accepts local clients.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: pick a free one; the chosen port is printed).")
    var port: UInt16 = 8080

    @Option(name: .customLong("data-dir"), help: "Directory of the durable job store (created if missing).")
    var dataDir = "lsq-data"

    @Option(help: ArgumentHelp("Bearer token required on every request but GET /healthz (default: $LSQ_TOKEN).", valueName: "token"))
    var token: String?

    @Option(help: "Jobs solved at once (default: the core count).")
    var workers: Int?

    @Option(name: .customLong("max-body"), help: "Largest request body, e.g. 256MB or 1GiB.")
    var maxBody = "256MB"

    @Option(name: .customLong("queue-limit"), help: "Jobs that may wait; more are answered 429.")
    var queueLimit = 1000

    @Option(name: .customLong("max-nnz"), help: "Most nonzeros in one job's matrix.")
    var maxNNZ = Int(Int32.max)

    @Option(name: .customLong("max-memory"), help: "Memory budget per job, e.g. 4GB (default: $LSQ_MAX_MEMORY or half of RAM).")
    var maxMemory: String?

    @Option(name: .customLong("job-time-limit"), help: "Wall-clock seconds any job may run.")
    var jobTimeLimit: Double?

    @Option(help: "What to do with jobs that were running when the server died: requeue or interrupt.")
    var recovery = "requeue"

    @Option(help: "Delete finished jobs this many seconds after they finished (default: keep).")
    var retention: Double?

    @Option(name: .customLong("header-timeout"), help: "Seconds a client has to send a request head.")
    var headerTimeout: Double = 10

    @Option(name: .customLong("idle-timeout"), help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout: Double = 60

    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may stall.")
    var bodyTimeout: Double = 30

    @Option(name: .customLong("shutdown-grace"), help: "Seconds running jobs get to finish on shutdown before they are re-queued.")
    var shutdownGrace: Double = 10

    @Flag(help: "No access log (start-up, shutdown, warnings and errors only): the same as --log-level notice.")
    var quiet = false

    @Option(name: .customLong("log-level"), help: "Least severe messages written to stderr: trace, debug, info (access log, the default), notice, warning, error or critical; overrides --quiet.")
    var logLevel: String?

    @Flag(help: ArgumentHelp("Run the bounded loopback load test (scripts/bench-service) against an in-process server on a free port, print a markdown table, and exit.", visibility: .hidden))
    var benchmark = false

    @Option(name: .customLong("bench-seconds"), help: ArgumentHelp("Seconds of status reads in --benchmark.", visibility: .hidden))
    var benchSeconds: Double = 5

    @Option(name: .customLong("bench-connections"), help: ArgumentHelp("Keep-alive connections reading status in --benchmark.", visibility: .hidden))
    var benchConnections = 8

    @Option(name: .customLong("bench-rounds"), help: ArgumentHelp("Small solves timed over HTTP and in-process in --benchmark.", visibility: .hidden))
    var benchRounds = 200

    func validate() throws {
        guard ByteCount.parse(maxBody) != nil else { throw ValidationError("--max-body '\(maxBody)': expected a size such as 256MB or 1GiB") }
        if let maxMemory, ByteCount.parse(maxMemory) == nil { throw ValidationError("--max-memory '\(maxMemory)': expected a size such as 4GB") }
        if let workers, workers < 1 { throw ValidationError("--workers must be ≥ 1") }
        guard queueLimit >= 0 else { throw ValidationError("--queue-limit must be ≥ 0") }
        guard maxNNZ >= 0 else { throw ValidationError("--max-nnz must be ≥ 0") }
        guard RecoveryPolicy(rawValue: recovery) != nil else { throw ValidationError("--recovery must be requeue or interrupt") }
        // Durations in seconds: finite and at most a year (a longer deadline is no deadline). A negative
        // --retention would delete every finished job at start-up, a negative --job-time-limit stop every job.
        let year = 365 * 86_400.0
        let positive: [(String, Double?)] = [("header-timeout", headerTimeout), ("idle-timeout", idleTimeout),
                                             ("body-timeout", bodyTimeout), ("job-time-limit", jobTimeLimit), ("retention", retention)]
        for case let (name, v?) in positive where !(v > 0 && v <= year) {
            throw ValidationError("--\(name) \(v): expected seconds > 0 and at most a year (\(Int(year)))")
        }
        guard shutdownGrace >= 0 && shutdownGrace <= year else {
            throw ValidationError("--shutdown-grace \(shutdownGrace): expected seconds ≥ 0 and at most a year (\(Int(year)))")
        }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)': expected trace, debug, info, notice, warning, error or critical")
        }
        if let t = token ?? ProcessInfo.processInfo.environment["LSQ_TOKEN"], t.isEmpty {
            throw ValidationError("the token (--token or LSQ_TOKEN) must not be empty")
        }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        if benchmark {
            var bench = ServiceBenchmark(dataDirectory: URL(fileURLWithPath: dataDir))
            bench.seconds = min(max(0.5, benchSeconds), 120)
            bench.connections = min(max(1, benchConnections), 256)
            bench.rounds = min(max(1, benchRounds), 100_000)
            let stderr = FileHandle.standardError
            let result = try await bench.run { stderr.write(Data("lsq serve --benchmark: \($0)\n".utf8)) }
            print(result.markdown)
            return
        }
        var config = ServiceConfiguration(dataDirectory: URL(fileURLWithPath: dataDir))
        config.host = host
        config.port = port
        config.token = token ?? ProcessInfo.processInfo.environment["LSQ_TOKEN"]
        if let workers { config.workers = workers }
        config.queueLimit = queueLimit
        config.maxJobNNZ = maxNNZ
        if let maxMemory, let bytes = ByteCount.parse(maxMemory) { config.jobMemoryBudget = MemoryBudget(bytes: bytes) }
        config.jobTimeLimit = jobTimeLimit
        config.recovery = RecoveryPolicy(rawValue: recovery) ?? .requeue
        config.retention = retention
        config.shutdownGrace = shutdownGrace
        config.limits.maxBodyBytes = ByteCount.parse(maxBody) ?? config.limits.maxBodyBytes
        config.limits.headerTimeout = headerTimeout
        config.limits.idleTimeout = idleTimeout
        config.limits.bodyIdleTimeout = bodyTimeout
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? (quiet ? .notice : .info)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "lsq.serve")
        config.accessLog = level <= .info
        config.logger = logger

        let server = try SolverServer(configuration: config)
        let signals = SignalWaiter([SIGTERM, SIGINT])
        try await server.start()
        let shown = host.contains(":") ? "[\(host)]" : host
        // One unbuffered write, so a supervisor (or a test) reading stdout learns the port at once.
        FileHandle.standardOutput.write(Data("lsq serve: listening on http://\(shown):\(server.port) (data: \(config.dataDirectory.path), workers: \(config.workers)\(config.token == nil ? "" : ", token required"))\n".utf8))
        let signal = await signals.next()
        logger.notice("received signal \(signal); stopping (a second signal exits at once)")
        await server.stop()
        logger.notice("stopped")
    }
}

/// Turns SIGTERM/SIGINT into an awaited event; a second signal exits immediately.
final class SignalWaiter {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32]) {
        let queue = DispatchQueue(label: "lsq.signals")
        var continuation: AsyncStream<Int32>.Continuation!
        stream = AsyncStream { continuation = $0 }
        let c = continuation!
        let count = SignalCount()
        sources = signals.map { sig in
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if count.increment() > 1 { exit(128 + sig) }
                c.yield(sig)
            }
            source.resume()
            return source
        }
    }

    func next() async -> Int32 {
        for await s in stream { return s }
        return 0
    }
}

private final class SignalCount: Sendable {
    private let n = Atomic<Int>(0)
    func increment() -> Int { n.add(1, ordering: .relaxed).newValue }
}
