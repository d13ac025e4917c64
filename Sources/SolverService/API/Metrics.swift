// SolverService/API/Metrics: request counters and latency histograms, rendered with the job counters in Prometheus text format.
import Foundation
import Synchronization

/// HTTP metrics, updated after every exchange (one short lock).
final class HTTPMetrics: Sendable {
    private struct Key: Hashable { var method: String; var route: String; var status: Int }
    private struct State {
        var requests: [Key: Int] = [:]
        var latency: [String: Histogram] = [:]
    }

    static let latencyBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]
    private let state = Mutex(State())

    func record(_ e: HTTPExchange) {
        state.withLock { s in
            s.requests[Key(method: e.method, route: e.route, status: e.status), default: 0] += 1
            s.latency[e.route, default: Histogram(bounds: Self.latencyBounds)].observe(e.seconds)
        }
    }

    /// The Prometheus text exposition (version 0.0.4) of these and the job counters.
    func render(jobs: JobStats, connections: Int) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        func label(_ v: String) -> String { v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        func number(_ v: Double) -> String { v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)") : (v.isNaN ? "NaN" : (v > 0 ? "+Inf" : "-Inf")) }
        func histogram(_ name: String, _ h: Histogram, _ labels: String) {
            let sep = labels.isEmpty ? "" : ","
            for (i, b) in h.bounds.enumerated() { out += "\(name)_bucket{\(labels)\(sep)le=\"\(number(b))\"} \(h.counts[i])\n" }
            out += "\(name)_bucket{\(labels)\(sep)le=\"+Inf\"} \(h.count)\n"
            out += "\(name)_sum\(labels.isEmpty ? "" : "{\(labels)}") \(number(h.sum))\n"
            out += "\(name)_count\(labels.isEmpty ? "" : "{\(labels)}") \(h.count)\n"
        }
        family("lsq_jobs", "gauge", "Jobs known to the server, by state.")
        for s in JobState.allCases { out += "lsq_jobs{state=\"\(s.rawValue)\"} \(jobs.byState[s] ?? 0)\n" }
        family("lsq_queue_depth", "gauge", "Jobs waiting for a worker.")
        out += "lsq_queue_depth \(jobs.queueDepth)\n"
        family("lsq_queue_limit", "gauge", "Most jobs that may wait; more are refused with 429.")
        out += "lsq_queue_limit \(jobs.queueLimit)\n"
        family("lsq_jobs_running", "gauge", "Jobs running now.")
        out += "lsq_jobs_running \(jobs.running)\n"
        family("lsq_workers", "gauge", "Size of the worker pool.")
        out += "lsq_workers \(jobs.workers)\n"
        family("lsq_jobs_finished_total", "counter", "Jobs finished since start, by final state.")
        for s in JobState.allCases where s.isFinished { out += "lsq_jobs_finished_total{state=\"\(s.rawValue)\"} \(jobs.finished[s] ?? 0)\n" }
        family("lsq_queue_rejections_total", "counter", "Submissions refused because the queue was full.")
        out += "lsq_queue_rejections_total \(jobs.rejectedQueueFull)\n"
        family("lsq_job_seconds", "histogram", "Wall-clock seconds from start to finish of jobs that finished.")
        histogram("lsq_job_seconds", jobs.solveSeconds, "")
        family("lsq_http_connections", "gauge", "Open HTTP connections.")
        out += "lsq_http_connections \(connections)\n"
        let snapshot = state.withLock { $0 }
        family("lsq_http_requests_total", "counter", "HTTP requests answered, by method, route and status.")
        for (k, v) in snapshot.requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "lsq_http_requests_total{method=\"\(label(k.method))\",route=\"\(label(k.route))\",status=\"\(k.status)\"} \(v)\n"
        }
        family("lsq_http_request_duration_seconds", "histogram", "Seconds from a complete request head to the response written, by route.")
        for (route, h) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            histogram("lsq_http_request_duration_seconds", h, "route=\"\(label(route))\"")
        }
        return out
    }
}
