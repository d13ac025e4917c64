// End-to-end tests of the service over loopback sockets: submit → poll → fetch, cancel, load, limits, errors, restart.
import Foundation
import Testing
import Logging
import LeastSquares
import SparseTensor
@testable import SolverService
import _TestSupport
import Synchronization

/// The library's answer for a problem, to compare the service's against (or the error it gives).
func libraryResult(_ a: CSRMatrix, _ y: [Double], l2: Double = 0, solver: SolverKind = .lsqr, tol: Double = 1e-10) -> Result<Solution, SolverError> {
    var o = SolverOptions()
    o.solver = solver
    o.tolerance = tol
    o.memoryBudgetBytes = MemoryBudget.default.bytes
    do {
        let p = try LeastSquaresProblem(matrix: a, rhs: y, regularization: Regularization(l2: l2))
        return .success(try LeastSquaresSolver.solve(p, options: o))
    } catch {
        return .failure(error)
    }
}

func doubles(_ any: Any?) -> [Double] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue } }

/// Result bodies decoded with JSONDecoder: Foundation's JSONSerialization on Linux does not parse
/// every double exactly (0.5292985433178523 comes back one ulp off), so numbers are compared this way.
struct DenseBody: Decodable { var x: [Double] }
struct SparseBody: Decodable { var length: Int; var indices: [Int]; var values: [Double] }
struct CSRBody: Decodable { var format: String; var shape: [Int]; var indptr: [Int]; var indices: [Int]; var values: [Double] }

func decodeBody<T: Decodable>(_ type: T.Type, _ r: RawResponse) throws -> T { try JSONDecoder().decode(T.self, from: r.body) }

@Suite("Service (live)")
struct ServiceTests {
    /// Submit → poll → fetch in every format; x must be the library's x for the same problem
    /// (or the job must fail with the library's own error while a solver is unavailable).
    @Test(arguments: [("coo", false, 0.0), ("csr", true, 0.5)])
    func submitPollFetch(format: String, sparseY: Bool, l2: Double) async throws {
        let h = try await ServiceHarness.start()
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: format == "coo" ? 11 : 12)
        let submitted = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y, format: format, sparseY: sparseY,
                                                                                 options: ["solver": "lsqr", "tol": 1e-10, "l2": l2]))
        #expect(submitted.status == 202, "\(submitted.text)")
        let id = try #require(submitted.json["id"] as? String)
        #expect(submitted.header("Location") == "/v1/jobs/\(id)")
        #expect(submitted.json["status"] as? String == "queued")
        let problem = submitted.json["problem"] as? [String: Any]
        #expect(problem?["rows"] as? Int == a.rowCount && problem?["nnz"] as? Int == a.nnz)

        let done = try await h.waitFinished(id)
        switch libraryResult(a, y, l2: l2) {
        case let .success(reference):
            #expect(done.json["status"] as? String == "succeeded", "\(done.text)")
            let report = try #require(done.json["report"] as? [String: Any])
            #expect(report["iterations"] as? Int == reference.report.iterations)
            #expect(report["stopReason"] as? String == reference.report.stopReason.rawValue)
            let dense = try await h.call("GET", "/v1/jobs/\(id)/solution")
            let x = try decodeBody(DenseBody.self, dense).x
            #expect(x.count == a.columnCount)
            #expect(relativeError(x, reference.x) <= 1e-12, "x differs from the library's: \(x) vs \(reference.x)")
            // The sparse JSON, Matrix Market and .npy forms carry the same x.
            let sparse = try await h.call("GET", "/v1/jobs/\(id)/solution", headers: [("Accept", "application/vnd.lsq.sparse+json")])
            let s = try decodeBody(SparseBody.self, sparse)
            var fromSparse = [Double](repeating: 0, count: a.columnCount)
            for (i, v) in zip(s.indices, s.values) { fromSparse[i] = v }
            #expect(s.length == a.columnCount && fromSparse == x)
            let mtx = try await h.call("GET", "/v1/jobs/\(id)/solution?format=mtx")
            #expect(mtx.text.hasPrefix("%%MatrixMarket matrix coordinate real general"))
            var fromMTX = [Double](repeating: 0, count: a.columnCount)
            for line in mtx.text.split(separator: "\n").dropFirst(3) {
                let f = line.split(separator: " ")
                fromMTX[Int(f[0])! - 1] = Double(f[2])!
            }
            #expect(fromMTX == x)
            let npy = try await h.call("GET", "/v1/jobs/\(id)/solution", headers: [("Accept", "application/x-npy")])
            #expect(npy.header("Content-Type") == "application/x-npy")
            #expect(try MatrixIO.readVector(data: npy.body, name: "solution.npy") == x)
        case let .failure(error):
            #expect(done.json["status"] as? String == "failed", "\(done.text)")
            let message = (done.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(!message.isEmpty && error.description.contains(message), "job error '\(message)' vs library error '\(error)'")
            let solution = try await h.call("GET", "/v1/jobs/\(id)/solution")
            #expect(solution.status == 409 && solution.errorCode == "not_ready")
        }
    }

    /// Progress is visible while a job runs; DELETE stops it cooperatively; a queued job is cancelled at once.
    @Test func progressAndCancellation() async throws {
        let gate = Gate()
        let h = try await ServiceHarness.start { $0.workers = 1; $0.solve = standInSolver(iterations: 2000, gate: gate) }
        defer { Task { await h.stop() } }
        gate.release()
        let (a, y) = smallProblem(seed: 3)
        let first = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y))
        let second = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y))
        let id1 = try #require(first.json["id"] as? String), id2 = try #require(second.json["id"] as? String)
        _ = try await h.waitState(id1, "running")
        var progress: [String: Any]?
        for _ in 0..<200 where progress == nil {
            progress = try await h.call("GET", "/v1/jobs/\(id1)").json["progress"] as? [String: Any]
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let p = try #require(progress, "no progress reported while running")
        #expect((p["iteration"] as? Int ?? 0) >= 1)
        #expect(p["etaSeconds"] != nil && p["fractionOfLimit"] != nil)
        // The queued one: cancelled at once (200); the running one: asked to stop (202), then cancelled.
        let c2 = try await h.call("DELETE", "/v1/jobs/\(id2)")
        #expect(c2.status == 200 && c2.json["status"] as? String == "cancelled")
        let c1 = try await h.call("DELETE", "/v1/jobs/\(id1)")
        #expect(c1.status == 202 && c1.json["cancelRequested"] as? Bool == true)
        let done = try await h.waitFinished(id1)
        #expect(done.json["status"] as? String == "cancelled")
        #expect((done.json["report"] as? [String: Any])?["stopReason"] as? String == "cancelled")
        // Cancelling again is harmless; a finished job cannot be cancelled.
        #expect(try await h.call("DELETE", "/v1/jobs/\(id2)").status == 200)
        let third = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y, options: ["timeLimit": 30]))
        let id3 = try #require(third.json["id"] as? String)
        // stand-in with 2000 × 5 ms iterations would take 10 s: cap it with the job's own time limit instead
        _ = id3
        let c3 = try await h.call("DELETE", "/v1/jobs/\(id3)")
        #expect([200, 202].contains(c3.status))
        let finished = try await h.waitFinished(id3)
        #expect(finished.json["status"] as? String == "cancelled")
        let again = try await h.call("DELETE", "/v1/jobs/\(id3)")
        #expect(again.status == 200)
    }

    /// A per-job time limit ends the solve with stopReason timeLimit; the job still succeeds with its x.
    @Test func timeLimitAndConflict() async throws {
        let h = try await ServiceHarness.start { $0.solve = standInSolver(iterations: 100_000); $0.jobTimeLimit = 0.2 }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: 4)
        let r = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y))
        let id = try #require(r.json["id"] as? String)
        let done = try await h.waitFinished(id)
        #expect(done.json["status"] as? String == "succeeded")
        let report = try #require(done.json["report"] as? [String: Any])
        #expect(report["stopReason"] as? String == "timeLimit" && report["converged"] as? Bool == false)
        let cancel = try await h.call("DELETE", "/v1/jobs/\(id)")
        #expect(cancel.status == 409 && cancel.errorCode == "already_finished")
        #expect(try await h.call("GET", "/v1/jobs/\(id)/solution").status == 200)
    }

    /// 100 concurrent submissions: every one is accepted, listed, and finishes.
    @Test func hundredConcurrentSubmissions() async throws {
        let h = try await ServiceHarness.start()
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(rows: 20, columns: 6, seed: 5)
        let body = try JSONSerialization.data(withJSONObject: solveRequest(a, y, options: ["solver": "lsqr"]))
        let port = h.port
        // 100 client threads, each with its own connection, released together.
        let go = Gate()
        let ids: [String] = try await withThrowingTaskGroup(of: String?.self) { group in
            for k in 0..<100 {
                group.addTask {
                    try await blocking {
                        let c = try LoopbackConnection(port: port)
                        go.wait(cancellation: CancellationFlag())
                        let r = try c.request("POST", "/v1/jobs", headers: [("Content-Type", "application/json")], body: body)
                        guard r.status == 202, let id = r.json["id"] as? String else { Issue.record("client \(k): \(r.status) \(r.text)"); return nil }
                        return id
                    }
                }
            }
            try await Task.sleep(nanoseconds: 200_000_000)
            go.release()
            return try await group.reduce(into: []) { if let id = $1 { $0.append(id) } }
        }
        #expect(ids.count == 100 && Set(ids).count == 100)
        var states: [String: Int] = [:]
        for id in ids { states[try await h.waitFinished(id).json["status"] as? String ?? "?", default: 0] += 1 }
        let expected = (try? libraryResult(a, y).get()) != nil ? "succeeded" : "failed"
        #expect(states == [expected: 100], "final states \(states)")
        let page = try await h.call("GET", "/v1/jobs?limit=500")
        #expect(page.json["total"] as? Int == 100)
        let listed = Set((page.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(listed == Set(ids))
        let paged = try await h.call("GET", "/v1/jobs?offset=90&limit=20")
        #expect((paged.json["jobs"] as? [Any])?.count == 10 && paged.json["next"] == nil)
        let first = try await h.call("GET", "/v1/jobs?limit=10&status=\(expected)")
        #expect(first.json["next"] as? String == "/v1/jobs?offset=10&limit=10&status=\(expected)")
        let metrics = try await h.call("GET", "/metrics")
        #expect(metrics.text.contains("lsq_jobs{state=\"\(expected)\"} 100"))
        #expect(metrics.text.contains("lsq_http_requests_total{method=\"POST\",route=\"/v1/jobs\",status=\"202\"} 100"))
        #expect(metrics.text.contains("lsq_job_seconds_count 100"))
    }

    /// A full queue answers 429 with Retry-After (before reading the body); the accepted jobs all run.
    @Test func queueBound() async throws {
        let gate = Gate()
        let h = try await ServiceHarness.start { $0.workers = 1; $0.queueLimit = 2; $0.retryAfterSeconds = 7; $0.solve = standInSolver(iterations: 1, gate: gate) }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: 6)
        var ids: [String] = []
        let r0 = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y))
        ids.append(try #require(r0.json["id"] as? String))
        _ = try await h.waitState(ids[0], "running")
        for _ in 0..<2 { ids.append(try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)) }
        let refused = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y))
        #expect(refused.status == 429)
        #expect(refused.header("Retry-After") == "7")
        #expect(refused.errorCode == "queue_full" && refused.errorMessage.contains("queue is full (2 jobs waiting, 1 running)"))
        gate.release()
        for id in ids { #expect(try await h.waitFinished(id).json["status"] as? String == "succeeded") }
        #expect(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).status == 202)
    }

    /// Cancelling a queued job leaves the jobs already started out of the queue's depth (they had counted as
    /// waiting again, and new submissions were refused as over the limit).
    @Test func cancellingAQueuedJobKeepsTheDepth() async throws {
        let h = try await ServiceHarness.start { $0.workers = 1; $0.queueLimit = 2; $0.solve = standInSolver(iterations: 2000) }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: 9)
        for _ in 0..<3 {
            let id = try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
            _ = try await h.waitState(id, "running")
            #expect(try await h.call("DELETE", "/v1/jobs/\(id)").status == 202)
            _ = try await h.waitFinished(id)
        }
        let long = try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        _ = try await h.waitState(long, "running")
        let waiting = try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        #expect(try await h.call("DELETE", "/v1/jobs/\(waiting)").status == 200)
        let next = try await h.call("POST", "/v1/jobs", json: solveRequest(a, y))
        #expect(next.status == 202, "\(next.text)")
        for id in [long, try #require(next.json["id"] as? String)] { _ = try await h.call("DELETE", "/v1/jobs/\(id)") }
    }

    /// Each bad request gets its status, code and a precise message, and the server keeps serving.
    @Test func errorsAreAnsweredPrecisely() async throws {
        let logLines = LogLines()
        let h = try await ServiceHarness.start(token: "s3cret-token") { $0.maxJobNNZ = 50; $0.limits.maxBodyBytes = 20_000
            $0.jobMemoryBudget = MemoryBudget(bytes: 1_000_000)
            $0.logger = Logger(label: "test") { _ in CapturingLogHandler(lines: logLines) } }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(rows: 8, columns: 3, seed: 7)  // within the 50-nonzero limit below
        let good = solveRequest(a, y)
        func json(_ text: String) -> Data { Data(text.utf8) }
        let ct = [("Content-Type", "application/json")]
        let cases: [(String, String, Data?, [(String, String)], String??, Int, String, String)] = [
            ("POST", "/v1/jobs", try JSONSerialization.data(withJSONObject: good), ct, .some(nil), 401, "unauthorized", "missing bearer token"),
            ("POST", "/v1/jobs", try JSONSerialization.data(withJSONObject: good), ct, "wr0ng-guess", 401, "unauthorized", "invalid bearer token"),
            ("GET", "/v1/jobs", nil, [], .some(nil), 401, "unauthorized", "missing bearer token"),
            ("POST", "/v1/jobs", json(#"{"A": "#), ct, nil, 400, "invalid_json", "not valid JSON"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[NaN]}, "y":[1,2]}"#), ct, nil, 400, "invalid_json", "NaN and Infinity are not JSON numbers"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":["NaN"]}, "y":[1,2]}"#), ct, nil, 422, "invalid_matrix", "Non-finite value nan at entry 0"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0,3],"cols":[0,1],"values":[1,2]}, "y":[1,2]}"#), ct, nil, 422, "invalid_matrix", "entry 1 at (row 3, column 1) is outside the 2 × 2 shape"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"csr","shape":[2,2],"indptr":[0,1,2],"indices":[0,5],"values":[1,2]}, "y":[1,2]}"#), ct, nil, 422, "invalid_matrix", "A.indices[1] = 5 is outside 0..<2"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[1]}, "y":[1,2,3]}"#), ct, nil, 422, "invalid_problem", "y has length 3 but A has 2 rows"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[1]}, "y":{"indices":[5],"values":[1]}}"#), ct, nil, 422, "invalid_problem", "y.indices[0] = 5 is outside 0..<2"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":["a"],"values":[1]}, "y":[1,2]}"#), ct, nil, 400, "invalid_request", "A.cols[0]: expected an integer"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"dok","shape":[2,2]}, "y":[1,2]}"#), ct, nil, 400, "invalid_request", "A.format: must be \"coo\" or \"csr\""),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[1]}}"#), ct, nil, 400, "invalid_request", "y: required field is missing"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[1]}, "y":[1,2], "options":{"solvr":"lsqr"}}"#), ct, nil, 400, "invalid_request", "options.solvr: unknown field"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[1]}, "y":[1,2], "options":{"solver":"magic"}}"#), ct, nil, 400, "invalid_request", "options.solver: must be one of"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,2],"rows":[0],"cols":[0],"values":[1]}, "y":[1,2], "options":{"tol":-1}}"#), ct, nil, 422, "invalid_option", "options.tol must be a finite number ≥ 0"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[2,60],"rows":[],"cols":[],"values":[]}, "y":[1,2]}"#).prefix(0) + json(bigNNZ()), ct, nil, 422, "nnz_limit", "has 60 nonzeros but this server accepts at most 50 per job"),
            ("POST", "/v1/jobs", json(#"{"A": {"format":"coo","shape":[1000000,1000000],"rows":[0],"cols":[0],"values":[1]}, "y":{"indices":[],"values":[]}}"#), ct, nil, 422, "budget_exceeded", "but the memory budget is 1 MB"),
            ("POST", "/v1/jobs", json("x"), [("Content-Type", "text/plain")], nil, 415, "unsupported_media_type", "unsupported Content-Type 'text/plain'"),
            ("POST", "/v1/jobs", json("x"), [], nil, 415, "unsupported_media_type", "missing Content-Type"),
            ("POST", "/v1/jobs", Data(repeating: 32, count: 20_001), ct, nil, 413, "body_too_large", "Content-Length 20001 exceeds the limit of 20000 bytes"),
            ("GET", "/v1/jobs/not-a-uuid", nil, [], nil, 400, "invalid_id", "invalid job id 'not-a-uuid'"),
            ("GET", "/v1/jobs/3f2b8c1e-4d5a-4e6f-8a9b-0c1d2e3f4a5b", nil, [], nil, 404, "not_found", "no job with id 3f2b8c1e-4d5a-4e6f-8a9b-0c1d2e3f4a5b"),
            ("DELETE", "/v1/jobs/3f2b8c1e-4d5a-4e6f-8a9b-0c1d2e3f4a5b", nil, [], nil, 404, "not_found", "no job with id"),
            ("GET", "/v1/jobs/3f2b8c1e-4d5a-4e6f-8a9b-0c1d2e3f4a5b/solution", nil, [], nil, 404, "not_found", "no job with id"),
            ("GET", "/v1/elsewhere", nil, [], nil, 404, "not_found", "no route for /v1/elsewhere"),
            ("PUT", "/v1/jobs", nil, [], nil, 405, "method_not_allowed", "PUT is not allowed on /v1/jobs"),
            ("GET", "/v1/jobs?limit=0", nil, [], nil, 400, "invalid_request", "limit must be an integer in 1...500"),
            ("GET", "/v1/jobs?status=done", nil, [], nil, 400, "invalid_request", "status must be one of"),
        ]
        for (method, path, body, headers, token, status, code, fragment) in cases {
            let r = try await h.call(method, path, body: body, headers: headers, token: token)
            #expect(r.status == status, "\(method) \(path) [\(code)]: \(r.status) \(r.text)")
            #expect(r.errorCode == code, "\(method) \(path): code \(r.errorCode ?? "nil") \(r.text)")
            #expect(r.errorMessage.contains(fragment), "\(method) \(path): '\(r.errorMessage)' should contain '\(fragment)'")
        }
        let unauthorized = try await h.call("GET", "/v1/jobs", token: .some(nil))
        #expect(unauthorized.header("WWW-Authenticate") == "Bearer realm=\"lsq\"")
        let notAllowed = try await h.call("PUT", "/v1/jobs")
        #expect(notAllowed.header("Allow") == "GET, HEAD, POST")
        let budget = try await h.call("POST", "/v1/jobs", body: json(#"{"A": {"format":"coo","shape":[1000000,1000000],"rows":[0],"cols":[0],"values":[1]}, "y":{"indices":[],"values":[]}}"#), headers: ct)
        let details = (budget.json["error"] as? [String: Any])?["details"] as? [String: Any]
        #expect((details?["budgetBytes"] as? NSNumber)?.intValue == 1_000_000)
        #expect(((details?["requiredBytes"] as? NSNumber)?.doubleValue ?? 0) > 1_000_000)
        // Health needs no token; everything still works after all that.
        #expect(try await h.call("GET", "/healthz", token: .some(nil)).status == 200)
        let ok = try await h.call("POST", "/v1/jobs", json: good)
        #expect(ok.status == 202)
        let id = try #require(ok.json["id"] as? String)
        let notReady = try await h.call("GET", "/v1/jobs/\(id)/solution", headers: [("Accept", "image/png")])
        #expect([406, 409].contains(notReady.status))
        _ = try await h.waitFinished(id)
        let metrics = try await h.call("GET", "/metrics")
        #expect(metrics.text.contains("lsq_http_requests_total{method=\"GET\",route=\"/v1/jobs\",status=\"401\"}"))
        // The token never reaches the logs or metrics (the wrong one either).
        #expect(!metrics.text.contains("s3cret"))
        let lines = logLines.all
        #expect(lines.count > cases.count, "one access-log line per request")
        #expect(lines.contains { $0.contains("POST /v1/jobs 401") })
        #expect(!lines.contains { $0.contains("s3cret") || $0.contains("wr0ng-guess") || $0.contains("Bearer") })
        let openapi = try await h.call("GET", "/openapi.json")
        #expect(openapi.status == 200 && (openapi.json["openapi"] as? String)?.hasPrefix("3.") == true)
    }

    /// docs/openapi.json in the repository is the document the server serves.
    @Test func openAPIDocumentInTheRepositoryIsServed() throws {
        let file = try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/openapi.json"))
        let repo = try JSONSerialization.jsonObject(with: file) as? NSDictionary
        let served = try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as? NSDictionary
        #expect(repo != nil && repo == served)
    }

    /// A graceful stop re-queues the running job; a new server on the same directory finishes every job,
    /// and results from before the restart stay downloadable.
    @Test func restartKeepsEveryJob() async throws {
        let dir = Fixtures.temporaryDirectory()
        let gate = Gate()
        let first = try await ServiceHarness.start(directory: dir) { $0.workers = 1; $0.solve = standInSolver(iterations: 400, gate: gate) }
        let (a, y) = smallProblem(seed: 8)
        gate.release()
        let done = try #require(try await first.call("POST", "/v1/jobs", json: solveRequest(a, y, options: ["epochs": 1])).json["id"] as? String)
        // With 400 × 5 ms iterations, the first job takes ~2 s: wait for it.
        _ = try await first.waitFinished(done)
        let x0 = try await first.call("GET", "/v1/jobs/\(done)/solution").body
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try #require(try await first.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)) }
        let cancelled = try #require(try await first.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        #expect(try await first.call("DELETE", "/v1/jobs/\(cancelled)").status == 200)
        _ = try await first.waitState(ids[0], "running")
        await first.stop()

        let second = try await ServiceHarness.start(directory: dir) { $0.workers = 2; $0.solve = standInSolver(iterations: 1) }
        defer { Task { await second.stop() } }
        let running = try await second.call("GET", "/v1/jobs/\(ids[0])")
        #expect((running.json["attempts"] as? Int ?? 0) >= 1)
        for id in ids {
            let r = try await second.waitFinished(id)
            #expect(r.json["status"] as? String == "succeeded", "\(r.text)")
        }
        let first0 = try await second.call("GET", "/v1/jobs/\(ids[0])")
        #expect(first0.json["attempts"] as? Int == 2)
        #expect((first0.json["note"] as? String)?.contains("re-queued") == true)
        #expect(try await second.call("GET", "/v1/jobs/\(cancelled)").json["status"] as? String == "cancelled")
        #expect(try await second.call("GET", "/v1/jobs/\(done)/solution").body == x0)
        #expect(try await second.call("GET", "/v1/jobs").json["total"] as? Int == 5)
    }

    /// Retention deletes finished jobs (and their files) after the configured time.
    @Test func retention() async throws {
        let h = try await ServiceHarness.start { $0.solve = standInSolver(iterations: 1); $0.retention = 0.5 }
        let (a, y) = smallProblem(seed: 9)
        let id = try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        _ = try await h.waitFinished(id)
        await h.stop()
        try await Task.sleep(nanoseconds: 600_000_000)
        let again = try await ServiceHarness.start(directory: h.directory) { $0.retention = 0.5 }
        defer { Task { await again.stop() } }
        #expect(try await again.call("GET", "/v1/jobs/\(id)").status == 404)
        let left = try FileManager.default.contentsOfDirectory(atPath: h.directory.appendingPathComponent("jobs").path)
        #expect(!left.contains { $0.contains(id) }, "\(left)")
    }
}

/// A COO body with 60 nonzeros (over a per-job limit of 50).
func bigNNZ() -> String {
    let n = 60
    return #"{"A": {"format":"coo","shape":[2,\#(n)],"rows":[\#((0..<n).map { _ in "0" }.joined(separator: ","))],"cols":[\#((0..<n).map(String.init).joined(separator: ","))],"values":[\#((0..<n).map { _ in "1" }.joined(separator: ","))]}, "y":[1,2]}"#
}

/// A swift-log handler that keeps each message with its level and metadata, for tests of what the server logs.
struct CapturingLogHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.append("\(event.level) \(event.message)" + (all.isEmpty ? "" : " \(all)"))
    }
}

final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
