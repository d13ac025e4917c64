// SolverServiceTests/ServiceHarness: an in-process server on an ephemeral port, request helpers, a stand-in solver,
// and a small OpenAPI schema checker every API response in these tests goes through.
import Foundation
import Testing
import LeastSquares
import SparseTensor
import Synchronization
@testable import SolverService
import _TestSupport

/// A started `SolverServer` in a fresh data directory.
final class ServiceHarness: Sendable {
    let server: SolverServer
    let port: UInt16
    let directory: URL
    let token: String?

    static func start(directory: URL = Fixtures.temporaryDirectory(), token: String? = nil,
                      _ configure: (inout ServiceConfiguration) -> Void = { _ in }) async throws -> ServiceHarness {
        var config = ServiceConfiguration(dataDirectory: directory)
        config.port = 0
        config.token = token
        config.workers = 2
        config.shutdownGrace = 0.2
        config.limits.headerTimeout = 5
        config.limits.idleTimeout = 5
        configure(&config)
        let server = try SolverServer(configuration: config)
        try await server.start()
        return ServiceHarness(server: server, port: server.port, directory: directory, token: token)
    }

    private init(server: SolverServer, port: UInt16, directory: URL, token: String?) {
        self.server = server
        self.port = port
        self.directory = directory
        self.token = token
    }

    func stop() async { await server.stop() }

    /// One request on a fresh connection (off the cooperative pool), checked against the OpenAPI document.
    func call(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, headers: [(String, String)] = [],
              token: String?? = nil, conform: Bool = true) async throws -> RawResponse {
        let port = self.port
        let bearer = token ?? self.token
        let payload = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        var h = headers
        if payload != nil { h.append(("Content-Type", "application/json")) }
        let sendBody = payload ?? body
        let hh = h
        let r = try await blocking { try Loopback.request(port, method, path, token: bearer, headers: hh, body: sendBody) }
        if conform { OpenAPIChecker().check(r, method: method, path: path) }
        return r
    }

    /// Polls (long-polling up to 5 s at a time, at most 30 times) until the job is finished.
    func waitFinished(_ id: String) async throws -> RawResponse {
        var last: RawResponse?
        for _ in 0..<30 {
            let r = try await call("GET", "/v1/jobs/\(id)?wait=5")
            last = r
            if let s = r.json["status"] as? String, ["succeeded", "failed", "cancelled", "interrupted"].contains(s) { return r }
        }
        Issue.record("job \(id) did not finish: \(last?.text ?? "")")
        return try #require(last)
    }

    /// Polls until the job reaches `state` (bounded: 400 × 25 ms).
    func waitState(_ id: String, _ state: String) async throws -> RawResponse {
        var last: RawResponse?
        for _ in 0..<400 {
            let r = try await call("GET", "/v1/jobs/\(id)")
            last = r
            if r.json["status"] as? String == state { return r }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        Issue.record("job \(id) never reached \(state): \(last?.text ?? "")")
        return try #require(last)
    }
}

/// JSON for POST /v1/jobs from a matrix and y.
func solveRequest(_ a: CSRMatrix, _ y: [Double], format: String = "coo", sparseY: Bool = false, options: [String: Any] = [:]) -> [String: Any] {
    var matrix: [String: Any] = ["format": format, "shape": [a.rowCount, a.columnCount], "values": a.values]
    if format == "coo" {
        let coo = COOMatrix(a)
        matrix["rows"] = coo.rows.map { Int($0) }
        matrix["cols"] = coo.columns.map { Int($0) }
    } else {
        matrix["indptr"] = a.rowOffsets
        matrix["indices"] = a.columnIndices.map { Int($0) }
    }
    var out: [String: Any] = ["A": matrix, "options": options]
    if sparseY {
        let s = SparseVector(dense: y)
        out["y"] = ["indices": s.indices, "values": s.values]
    } else {
        out["y"] = y
    }
    return out
}

/// A seeded small problem.
func smallProblem(rows m: Int = 40, columns n: Int = 12, seed: UInt64) -> (CSRMatrix, [Double]) {
    let a = RandomSparse.matrix(rows: m, columns: n, density: 0.3, seed: seed)
    var rng = SplitMix64(seed: seed &+ 1)
    let y = (0..<m).map { _ in Double(rng.next() % 2001) / 1000 - 1 }
    return (a, y)
}

/// A gate a stand-in solve waits on (polling, bounded to 30 s).
final class Gate: Sendable {
    private let open = Atomic<Bool>(false)
    func release() { open.store(true, ordering: .relaxed) }
    func wait(cancellation: CancellationFlag) {
        for _ in 0..<6000 where !open.load(ordering: .relaxed) && !cancellation.isCancelled { usleep(5000) }
    }
}

/// A stand-in for `LeastSquaresSolver.solve` that makes the service's mechanics observable: it waits on a
/// gate, reports `iterations` progress samples 5 ms apart, honours cancellation and the time limit, and
/// returns the dense ridge solution (a real answer, from `DenseReference`).
func standInSolver(iterations: Int = 20, gate: Gate? = nil) -> SolveFunction {
    { problem, options, control throws(SolverError) in
        gate?.wait(cancellation: control.cancellation)
        let start = Date()
        var stop = StopReason.residualTolerance
        var done = 0
        for k in 1...max(1, iterations) {
            if control.cancellation.isCancelled { stop = .cancelled; break }
            if let t = control.timeLimit, Date().timeIntervalSince(start) >= t { stop = .timeLimit; break }
            control.progress?(SolverProgress(iteration: k, objective: 1.0 / Double(k), residualNorm: 1.0 / Double(k),
                                             elapsedSeconds: Date().timeIntervalSince(start), fractionOfLimit: Double(k) / Double(iterations)))
            done = k
            usleep(5000)
        }
        let x = DenseReference.ridge(problem.matrix.dense(), problem.rhs, lambda: problem.regularization.l2)
        let r = problem.residual(x)
        return Solution(x: x, report: SolveReport(solver: .normal, iterations: done, stopReason: stop, objective: problem.objective(x),
                                                  residualNorm: DenseVector.norm(r), optimalityNorm: 0, nnzX: x.filter { $0 != 0 }.count,
                                                  setupSeconds: 0, solveSeconds: Date().timeIntervalSince(start)))
    }
}

/// Checks responses against the served OpenAPI document: status documented for the operation,
/// content type documented, and JSON bodies valid against the schema (unknown fields are errors).
struct OpenAPIChecker {
    let doc: [String: Any]

    init() {
        doc = (try? JSONSerialization.jsonObject(with: OpenAPIDocument.data)) as? [String: Any] ?? [:]
    }

    func check(_ r: RawResponse, method: String, path: String) {
        guard r.status >= 200 else { return }
        let rawPath = String(path.split(separator: "?", maxSplits: 1).first ?? "")
        guard let (template, item) = match(rawPath) else {
            // Unknown routes answer 404 with the error schema.
            #expect(r.status == 404, "\(method) \(path): not in the OpenAPI document")
            problems(r, schema: ["$ref": "#/components/schemas/Error"]).forEach { Issue.record("\(method) \(path): \($0)") }
            return
        }
        let verb = method == "HEAD" ? "get" : method.lowercased()
        guard let op = item[verb] as? [String: Any] else {
            #expect(r.status == 405, "\(method) \(template): undocumented method answered \(r.status)")
            return
        }
        let responses = op["responses"] as? [String: Any] ?? [:]
        guard let response = (responses[String(r.status)] as? [String: Any]).map(resolve) else {
            Issue.record("\(method) \(template): status \(r.status) is not documented (\(r.text.prefix(200)))")
            return
        }
        guard method != "HEAD", let content = response["content"] as? [String: Any] else { return }
        let type = (r.header("Content-Type") ?? "").split(separator: ";").first.map(String.init) ?? ""
        guard let media = content[type] as? [String: Any] else {
            Issue.record("\(method) \(template) \(r.status): content type '\(type)' is not documented")
            return
        }
        if type.hasSuffix("json"), let schema = media["schema"] as? [String: Any] {
            problems(r, schema: schema).forEach { Issue.record("\(method) \(template) \(r.status): \($0)") }
        }
    }

    private func match(_ path: String) -> (String, [String: Any])? {
        let paths = doc["paths"] as? [String: Any] ?? [:]
        let segments = path.split(separator: "/").map(String.init)
        for (template, item) in paths {
            let t = template.split(separator: "/").map(String.init)
            guard t.count == segments.count else { continue }
            if zip(t, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) { return (template, item as? [String: Any] ?? [:]) }
        }
        return nil
    }

    private func problems(_ r: RawResponse, schema: [String: Any]) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: r.body, options: [.fragmentsAllowed]) else {
            return ["body is not JSON: \(r.text.prefix(100))"]
        }
        return validate(value, schema, at: "$")
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String else { return schema }
        var node: Any = doc
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return resolve(node as? [String: Any] ?? [:])
    }

    func validate(_ value: Any, _ raw: [String: Any], at path: String) -> [String] {
        let s = resolve(raw)
        if value is NSNull { return s["nullable"] as? Bool == true ? [] : ["\(path): null is not allowed"] }
        if let options = s["oneOf"] as? [[String: Any]] {
            let matches = options.filter { validate(value, $0, at: path).isEmpty }.count
            return matches >= 1 ? [] : ["\(path): matches none of oneOf"]
        }
        let isBool = String(describing: type(of: value)).contains("Boolean")
        var errors: [String] = []
        switch s["type"] as? String {
        case "object":
            guard let o = value as? [String: Any] else { return ["\(path): expected an object"] }
            let props = s["properties"] as? [String: Any] ?? [:]
            for req in s["required"] as? [String] ?? [] where o[req] == nil { errors.append("\(path).\(req): required") }
            for (k, v) in o {
                if let p = props[k] as? [String: Any] {
                    errors += validate(v, p, at: "\(path).\(k)")
                } else if let extra = s["additionalProperties"] as? [String: Any] {
                    errors += validate(v, extra, at: "\(path).\(k)")
                } else if s["additionalProperties"] as? Bool == false {
                    errors.append("\(path).\(k): not in the schema")
                }
            }
        case "array":
            guard let a = value as? [Any] else { return ["\(path): expected an array"] }
            if let items = s["items"] as? [String: Any] {
                for (i, v) in a.enumerated().prefix(50) { errors += validate(v, items, at: "\(path)[\(i)]") }
            }
        case "string":
            guard let str = value as? String else { return ["\(path): expected a string"] }
            if let e = s["enum"] as? [String], !e.contains(str) { errors.append("\(path): '\(str)' not in \(e)") }
        case "integer":
            guard !isBool, let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded() else { return ["\(path): expected an integer, got \(value)"] }
        case "number":
            guard !isBool, value is NSNumber else { return ["\(path): expected a number, got \(value)"] }
        case "boolean":
            guard isBool else { return ["\(path): expected a boolean"] }
        default:
            break
        }
        return errors
    }
}
