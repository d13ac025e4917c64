// SolverService/Benchmark/ServiceBenchmark: a bounded loopback load test — status reads per second, and a small
// solve's HTTP round trip next to the same solve called in-process.
import Foundation
import LeastSquares
import SparseTensor
import Synchronization

/// Measures the service on loopback against an in-process server:
///
/// 1. `GET /v1/jobs/{id}` throughput: `connections` keep-alive clients on their own threads, for `seconds`.
/// 2. A small solve's round trip: `POST /v1/jobs` (JSON), `GET /v1/jobs/{id}?wait=` until it finishes,
///    `GET …/solution` — `rounds` times, one after another.
/// 3. The same solve through `LeastSquaresSolver.solve` in-process, `rounds` times.
///
/// Everything is bounded in count and time; only 127.0.0.1 is used.
public struct ServiceBenchmark: Sendable {
    public var seconds: Double = 5
    public var connections = 8
    public var rounds = 200
    /// The small problem: rows × columns at this density, solved by LSQR.
    public var rows = 200
    public var columns = 50
    public var density = 0.05
    public var dataDirectory: URL

    public init(dataDirectory: URL) { self.dataDirectory = dataDirectory }

    public struct Result: Sendable {
        public var statusReadsPerSecond: Double
        public var statusReadP50: Double
        public var statusReadP99: Double
        public var statusReads: Int
        public var roundTripP50: Double
        public var roundTripP99: Double
        /// The POST alone (parse, durable store, 202).
        public var submitP50: Double
        public var inProcessP50: Double
        public var inProcessP99: Double
        public var rounds: Int
        public var jobStatus: String
        public var connections: Int
        public var workers: Int

        /// The table, times in milliseconds.
        public var markdown: String {
            func ms(_ s: Double) -> String { String(format: "%.3f", s * 1000) }
            return """
            | measurement | value |
            |---|---|
            | `GET /v1/jobs/{id}`, \(connections) keep-alive connections | \(String(format: "%.0f", statusReadsPerSecond)) requests/s (\(statusReads) reads) |
            | `GET /v1/jobs/{id}` latency p50 / p99 | \(ms(statusReadP50)) ms / \(ms(statusReadP99)) ms |
            | small solve over HTTP (POST + long-poll GET + GET solution), p50 / p99 | \(ms(roundTripP50)) ms / \(ms(roundTripP99)) ms |
            | of which `POST /v1/jobs` (parse, durable store, 202), p50 | \(ms(submitP50)) ms |
            | same solve in-process (`LeastSquaresSolver.solve`), p50 / p99 | \(ms(inProcessP50)) ms / \(ms(inProcessP99)) ms |
            | HTTP path adds (p50 difference) | \(ms(roundTripP50 - inProcessP50)) ms |
            | jobs | \(rounds) rounds, final status `\(jobStatus)`, \(workers) worker(s) |
            """
        }
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    public func run(log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        var config = ServiceConfiguration(dataDirectory: dataDirectory)
        config.port = 0
        config.accessLog = false
        config.queueLimit = max(1000, rounds * 2)
        let server = try SolverServer(configuration: config)
        try await server.start()
        defer { Task { await server.stop() } }
        let port = server.port

        // The problem, as JSON and in-process.
        let a = RandomSparse.matrix(rows: rows, columns: columns, density: density, seed: 7)
        var rng = SplitMix64(seed: 8)
        let y = (0..<rows).map { _ in Double(rng.next() % 2001) / 1000 - 1 }
        let coo = COOMatrix(a)
        let body: [String: Any] = [
            "A": ["format": "coo", "shape": [rows, columns], "rows": coo.rows.map { Int($0) }, "cols": coo.columns.map { Int($0) }, "values": a.values],
            "y": y, "options": ["solver": "lsqr", "tol": 1e-10]]
        let json = [UInt8](try JSONSerialization.data(withJSONObject: body))
        let rounds = self.rounds, seconds = self.seconds, connections = self.connections

        // 2. Round trips (first, so that reads hit a store with jobs in it).
        log("round trips: \(rounds) small solves over HTTP")
        let (trips, submits, status, lastID) = try await Self.onThread { () throws -> ([Double], [Double], String, String) in
            let client = try BlockingHTTPClient(port: port)
            var times: [Double] = []
            var submits: [Double] = []
            var status = "?"
            var last = ""
            let deadline = Date().addingTimeInterval(max(30, seconds * 6))
            for _ in 0..<rounds where Date() < deadline {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let submitted = try client.request("POST", "/v1/jobs", headers: "Content-Type: application/json\r\n", body: json)
                guard submitted.status == 202, let id = Self.field("id", submitted.body) else {
                    throw BlockingHTTPClient.Failure(description: "submit answered \(submitted.status): \(String(decoding: submitted.body, as: UTF8.self))")
                }
                submits.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                var done = false
                for _ in 0..<20 where !done {
                    let r = try client.request("GET", "/v1/jobs/\(id)?wait=10")
                    status = Self.field("status", r.body) ?? "?"
                    done = ["succeeded", "failed", "cancelled", "interrupted"].contains(status)
                }
                if status == "succeeded" { _ = try client.request("GET", "/v1/jobs/\(id)/solution") }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                last = id
            }
            return (times.sorted(), submits.sorted(), status, last)
        }

        // 3. In-process.
        log("in-process: \(rounds) solves")
        var options = SolverOptions()
        options.solver = .lsqr
        options.tolerance = 1e-10
        let problem = try LeastSquaresProblem(matrix: a, rhs: y)
        var local: [Double] = []
        for _ in 0..<rounds {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try? LeastSquaresSolver.solve(problem, options: options)
            local.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        local.sort()

        // 1. Status reads.
        log("status reads: \(connections) connections for \(seconds) s")
        let target = "/v1/jobs/\(lastID)"
        let perThread: [[Double]] = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<connections {
                group.addTask {
                    try await Self.onThread {
                        let client = try BlockingHTTPClient(port: port)
                        var times: [Double] = []
                        times.reserveCapacity(100_000)
                        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
                        while DispatchTime.now().uptimeNanoseconds < end, times.count < 2_000_000 {
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            let r = try client.request("GET", target)
                            guard r.status == 200 else { throw BlockingHTTPClient.Failure(description: "status read answered \(r.status)") }
                            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                        }
                        return times
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let reads = perThread.flatMap { $0 }.sorted()
        return Result(statusReadsPerSecond: Double(reads.count) / seconds, statusReadP50: Self.percentile(reads, 0.5),
                      statusReadP99: Self.percentile(reads, 0.99), statusReads: reads.count,
                      roundTripP50: Self.percentile(trips, 0.5), roundTripP99: Self.percentile(trips, 0.99),
                      submitP50: Self.percentile(submits, 0.5),
                      inProcessP50: Self.percentile(local, 0.5), inProcessP99: Self.percentile(local, 0.99),
                      rounds: trips.count, jobStatus: status, connections: connections, workers: config.workers)
    }

    /// A top-level string field of a JSON object.
    static func field(_ name: String, _ body: [UInt8]) -> String? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return o[name] as? String
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let t = Thread { c.resume(with: Swift.Result { try body() }) }
            t.stackSize = 4 << 20
            t.start()
        }
    }
}
