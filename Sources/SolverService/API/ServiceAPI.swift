// SolverService/API/ServiceAPI: the /v1 routes — authentication, routing, submission, status, results, cancel, metrics.
import Foundation
import LeastSquares
import SparseTensor

/// The routes of the service.
enum Route: Equatable {
    case healthz, metrics, openapi
    case jobs
    case job(UUID)
    case solution(UUID)
    case result(UUID)
    case products

    /// Methods each route answers (HEAD wherever GET).
    var methods: [String] {
        switch self {
        case .healthz, .metrics, .openapi, .solution, .result: return ["GET", "HEAD"]
        case .jobs: return ["GET", "HEAD", "POST"]
        case .job: return ["GET", "HEAD", "DELETE"]
        case .products: return ["POST"]
        }
    }

    var label: String {
        switch self {
        case .healthz: return "/healthz"
        case .metrics: return "/metrics"
        case .openapi: return "/openapi.json"
        case .jobs: return "/v1/jobs"
        case .job: return "/v1/jobs/{id}"
        case .solution: return "/v1/jobs/{id}/solution"
        case .result: return "/v1/jobs/{id}/result"
        case .products: return "/v1/products"
        }
    }

    /// Resolves a path; job ids must be UUIDs (validated before any use).
    static func resolve(_ head: HTTPRequestHead) throws(ServiceError) -> Route {
        guard let segments = head.pathSegments else {
            throw ServiceError(.badRequest, "bad_request", "malformed percent-encoding in the path")
        }
        func id(_ text: String) throws(ServiceError) -> UUID {
            guard text.count == 36, let u = UUID(uuidString: text) else {
                throw ServiceError(.badRequest, "invalid_id", "invalid job id '\(text.prefix(40))': expected a UUID such as 3f2b8c1e-4d5a-4e6f-8a9b-0c1d2e3f4a5b")
            }
            return u
        }
        switch segments.count {
        case 1 where segments[0] == "healthz": return .healthz
        case 1 where segments[0] == "metrics": return .metrics
        case 1 where segments[0] == "openapi.json": return .openapi
        case 2 where segments[0] == "v1" && segments[1] == "jobs": return .jobs
        case 2 where segments[0] == "v1" && segments[1] == "products": return .products
        case 3 where segments[0] == "v1" && segments[1] == "jobs": return .job(try id(segments[2]))
        case 4 where segments[0] == "v1" && segments[1] == "jobs" && segments[3] == "solution": return .solution(try id(segments[2]))
        case 4 where segments[0] == "v1" && segments[1] == "jobs" && segments[3] == "result": return .result(try id(segments[2]))
        default:
            throw ServiceError(.notFound, "not_found", "no route for \(head.path.prefix(100)); see GET /openapi.json")
        }
    }
}

/// The service's `HTTPHandler`.
struct ServiceAPI: HTTPHandler {
    let jobs: JobService
    let store: JobStore
    let settings: JobServiceSettings
    let token: String?
    let metrics: HTTPMetrics
    let connections: @Sendable () -> Int
    /// Submissions parsed at once, at most (`AdmissionGate`): as many as solver workers.
    let parseGate: AdmissionGate

    // MARK: - HTTPHandler

    func errorResponse(_ status: HTTPStatus, message: String) -> HTTPResponse {
        ServiceError(status, ServiceError.code(for: status), message).response()
    }

    func preflight(_ head: HTTPRequestHead) async -> HTTPResponse? {
        do {
            if head.path != "/healthz" { try authenticate(head) }
            let route = try Route.resolve(head)
            try checkMethod(head, route)
            if head.method == "POST" {
                guard head.framing != .none else {
                    throw ServiceError(.lengthRequired, "length_required", "a request body is required (send Content-Length or Transfer-Encoding: chunked)")
                }
                _ = try submissionFormat(head, route: route)
                if let refusal = await jobs.admissionError() { throw refusal }
            }
            return nil
        } catch {
            return error.response(route: (try? Route.resolve(head))?.label)
        }
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let head = request.head
        var label: String?
        do {
            if head.path != "/healthz" { try authenticate(head) }
            let route = try Route.resolve(head)
            label = route.label
            try checkMethod(head, route)
            var response: HTTPResponse
            switch (route, head.method) {
            case (.healthz, _):
                response = json(.ok, ["status": "ok"])
            case (.metrics, _):
                let text = metrics.render(jobs: await jobs.statistics(), connections: connections())
                response = HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]), body: Data(text.utf8))
            case (.openapi, _):
                response = HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "application/json")]), body: OpenAPIDocument.data)
            case (.jobs, "POST"):
                response = try await submit(request, kind: .solve)
            case (.products, _):
                response = try await submit(request, kind: .product)
            case (.jobs, _):
                response = try await list(head)
            case let (.job(id), "DELETE"):
                response = try await cancel(id)
            case let (.job(id), _):
                response = try await status(id, head: head)
            case let (.solution(id), _):
                response = try await download(id, head: head, want: .solve)
            case let (.result(id), _):
                response = try await download(id, head: head, want: nil)
            }
            response.routeLabel = route.label
            return response
        } catch {
            return error.response(route: label)
        }
    }

    // MARK: - Checks

    private func authenticate(_ head: HTTPRequestHead) throws(ServiceError) {
        guard let token else { return }
        let challenge = [("WWW-Authenticate", "Bearer realm=\"lsq\"")]
        let values = head.headers.values("Authorization")
        guard let value = values.first else {
            throw ServiceError(.unauthorized, "unauthorized", "missing bearer token: send 'Authorization: Bearer <token>'", headers: challenge)
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard values.count == 1, parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ServiceError(.unauthorized, "unauthorized", "malformed Authorization header: expected 'Bearer <token>'", headers: challenge)
        }
        guard Self.constantTimeEquals(Array(parts[1].utf8), Array(token.utf8)) else {
            throw ServiceError(.unauthorized, "unauthorized", "invalid bearer token", headers: challenge)
        }
    }

    /// Compares without an early exit, so the time taken does not reveal how much of a guess was right.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<b.count { diff |= (a.isEmpty ? 0 : a[i % a.count]) ^ b[i] }
        return diff == 0 && !b.isEmpty
    }

    private func checkMethod(_ head: HTTPRequestHead, _ route: Route) throws(ServiceError) {
        guard route.methods.contains(head.method) else {
            throw ServiceError(.methodNotAllowed, "method_not_allowed", "\(head.method.prefix(20)) is not allowed on \(route.label); allowed: \(route.methods.joined(separator: ", "))",
                               headers: [("Allow", route.methods.joined(separator: ", "))])
        }
    }

    /// The upload format named by the Content-Type of a submission.
    private func submissionFormat(_ head: HTTPRequestHead, route: Route) throws(ServiceError) -> (format: String, type: MediaType) {
        guard let text = head.headers["Content-Type"] else {
            throw ServiceError(.unsupportedMediaType, "unsupported_media_type", "missing Content-Type; send application/json")
        }
        guard let type = MediaType(text) else {
            throw ServiceError(.unsupportedMediaType, "unsupported_media_type", "malformed Content-Type '\(text.prefix(64))'")
        }
        let formats: [String: String] = route == .products
            ? ["application/json": "json"]
            : ["application/json": "json", "multipart/form-data": "multipart",
               "text/x-matrix-market": "matrix-market", "application/x-matrix-market": "matrix-market",
               "text/x-svmlight": "svmlight", "application/x-svmlight": "svmlight",
               "application/x-npz": "npz", "application/zip": "npz"]
        guard let format = formats[type.essence] else {
            throw ServiceError(.unsupportedMediaType, "unsupported_media_type",
                               "unsupported Content-Type '\(type.essence)' for \(route.label); use \(formats.keys.sorted().joined(separator: ", "))")
        }
        if format == "multipart", (type.parameters["boundary"] ?? "").isEmpty {
            throw ServiceError(.badRequest, "invalid_request", "multipart/form-data needs a boundary parameter")
        }
        if let charset = type.parameters["charset"], format == "json", charset.lowercased() != "utf-8" {
            throw ServiceError(.unsupportedMediaType, "unsupported_media_type", "JSON must be UTF-8, got charset=\(charset.prefix(32))")
        }
        return (format, type)
    }

    private func json<T: Encodable>(_ status: HTTPStatus, _ value: T, headers: [(String, String)] = []) -> HTTPResponse {
        var h = HTTPHeaders([("Content-Type", "application/json")])
        for (n, v) in headers { h.add(n, v) }
        return HTTPResponse(status: status, headers: h, body: APIJSON.encode(value))
    }

    private func view(_ id: UUID) async throws(ServiceError) -> JobView {
        guard let v = await jobs.view(id) else {
            throw ServiceError(.notFound, "not_found", "no job with id \(id.uuidString.lowercased())")
        }
        return v
    }

    // MARK: - Submission

    private func submit(_ request: HTTPRequest, kind: JobKind) async throws(ServiceError) -> HTTPResponse {
        let (format, type) = try submissionFormat(request.head, route: kind == .solve ? .jobs : .products)
        let query = try queryItems(request.head)
        if format == "json", !query.isEmpty {
            throw ServiceError(.badRequest, "invalid_request", "query parameters are only for file uploads; put options in the JSON body")
        }
        let sequence = try await jobs.reserve()
        let contentType = format == "multipart" ? "multipart/form-data; boundary=\(type.parameters["boundary"] ?? "")" : type.essence
        let input = JobInput(contentType: contentType, format: format, bytes: request.body.count, query: query.map { [$0.name, $0.value] })
        let store = self.store
        let settings = self.settings
        let body = request.body
        // Parsing and the durable write run off the cooperative pool: they may take a while. At most
        // `parseGate`'s permits of them at once, each within a job's memory budget.
        await parseGate.enter()
        let outcome: Result<(JobRecord, PreparedInput), ServiceError> = await BlockingIO.run {
            do throws(ServiceError) {
                let data: Data
                do { data = try body.contents() } catch {
                    throw ServiceError(.internalServerError, "storage_error", "cannot read the uploaded body: \(error)")
                }
                var record = JobRecord(id: UUID(), sequence: sequence, kind: kind, state: .queued, createdAt: Date(), input: input)
                let prepared: PreparedInput
                switch kind {
                case .solve:
                    let parsed = try ProblemReader.solve(body: data, input: input, limits: settings.limits)
                    record.problem = parsed.summary
                    record.options = parsed.options
                    prepared = .solve(parsed)
                case .product:
                    let parsed = try ProblemReader.product(body: data, limits: settings.limits)
                    record.problem = ProblemSummary(rows: parsed.a.rowCount, columns: parsed.a.columnCount, nnz: parsed.a.nnz)
                    record.product = parsed.spec
                    prepared = .product(parsed)
                }
                do { try store.create(record, body: body) } catch {
                    store.delete(record.id)
                    throw ServiceError(.internalServerError, "storage_error", "cannot store the job: \(error)")
                }
                return .success((record, prepared))
            } catch {
                return .failure(error)
            }
        }
        await parseGate.leave()
        switch outcome {
        case let .success((record, prepared)):
            await jobs.accept(record, input: prepared)
            let resource = JobResource(JobView(record: record))
            return json(.accepted, resource, headers: [("Location", resource.links.`self`)])
        case let .failure(error):
            await jobs.release()
            throw error
        }
    }

    private func queryItems(_ head: HTTPRequestHead) throws(ServiceError) -> [(name: String, value: String)] {
        guard let items = head.queryItems else { throw ServiceError(.badRequest, "bad_request", "malformed percent-encoding in the query") }
        return items
    }

    // MARK: - Reading jobs

    private func status(_ id: UUID, head: HTTPRequestHead) async throws(ServiceError) -> HTTPResponse {
        var wait = 0.0
        for (name, value) in try queryItems(head) {
            guard name == "wait" else { throw ServiceError(.badRequest, "invalid_request", "unknown query parameter '\(name.prefix(32))' (expected: wait)") }
            guard let w = Double(value), w.isFinite, w >= 0, w <= 60 else {
                throw ServiceError(.badRequest, "invalid_request", "wait must be a number of seconds in 0...60, got '\(value.prefix(32))'")
            }
            wait = w
        }
        var v = try await view(id)
        if wait > 0, !v.record.state.isFinished {
            let jobs = self.jobs
            let nanos = UInt64(wait * 1e9)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await jobs.waitUntilFinished(id) }
                group.addTask { try? await Task.sleep(nanoseconds: nanos) }
                await group.next()
                group.cancelAll()
            }
            v = try await view(id)
        }
        return json(.ok, JobResource(v))
    }

    private func list(_ head: HTTPRequestHead) async throws(ServiceError) -> HTTPResponse {
        var offset = 0, limit = 50
        var state: JobState?
        for (name, value) in try queryItems(head) {
            switch name {
            case "offset":
                guard let o = Int(value), o >= 0 else { throw ServiceError(.badRequest, "invalid_request", "offset must be an integer ≥ 0, got '\(value.prefix(32))'") }
                offset = o
            case "limit":
                guard let l = Int(value), (1...500).contains(l) else { throw ServiceError(.badRequest, "invalid_request", "limit must be an integer in 1...500, got '\(value.prefix(32))'") }
                limit = l
            case "status":
                guard let s = JobState(rawValue: value) else {
                    throw ServiceError(.badRequest, "invalid_request", "status must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")), got '\(value.prefix(32))'")
                }
                state = s
            default:
                throw ServiceError(.badRequest, "invalid_request", "unknown query parameter '\(name.prefix(32))' (expected: offset, limit, status)")
            }
        }
        let (views, total) = await jobs.list(offset: offset, limit: limit, state: state)
        var next: String?
        if offset + views.count < total {
            next = "/v1/jobs?offset=\(offset + views.count)&limit=\(limit)" + (state.map { "&status=\($0.rawValue)" } ?? "")
        }
        return json(.ok, JobPage(jobs: views.map(JobResource.init), total: total, offset: offset, limit: limit, next: next))
    }

    private func cancel(_ id: UUID) async throws(ServiceError) -> HTTPResponse {
        switch try await jobs.cancel(id) {
        case let .cancelled(record):
            let store = self.store
            let saved: Bool = await BlockingIO.run { (try? store.save(record)) != nil }
            if !saved { throw ServiceError(.internalServerError, "storage_error", "the job was cancelled but its state could not be saved") }
            return json(.ok, JobResource(JobView(record: record)))
        case let .stopping(view, record, job):
            // The request is saved (through the job, never after its final record) so that a crash before the
            // solver stops brings the job back cancelled, not running again.
            if let job {
                let store = self.store
                let saved: Bool = await BlockingIO.run {
                    var ok = true
                    job.recordCancelRequest { ok = (try? store.save(record, durability: .processCrash)) != nil }
                    return ok
                }
                if !saved {
                    throw ServiceError(.internalServerError, "storage_error", "the job is stopping but the cancellation could not be saved")
                }
            }
            return json(.accepted, JobResource(view))
        case let .unchanged(view):
            return json(.ok, JobResource(view))
        }
    }

    private func download(_ id: UUID, head: HTTPRequestHead, want: JobKind?) async throws(ServiceError) -> HTTPResponse {
        let v = try await view(id)
        let r = v.record
        if want == .solve, r.kind != .solve {
            throw ServiceError(.notFound, "not_found", "job \(id.uuidString.lowercased()) is a product; its matrix is at /v1/jobs/\(id.uuidString.lowercased())/result")
        }
        guard r.hasResult else {
            let why = r.state.isFinished ? "it \(r.state.rawValue)" + (r.error.map { ": \($0.message)" } ?? "") : "it is \(r.state.rawValue)"
            throw ServiceError(.conflict, "not_ready", "job \(id.uuidString.lowercased()) has no result: \(why)")
        }
        var requested: String?
        for (name, value) in try queryItems(head) {
            guard name == "format", let media = ResultEncoding.formatNames[value] else {
                throw ServiceError(.badRequest, "invalid_request", "unknown query '\(name.prefix(32))=\(value.prefix(32))' (expected format=dense|sparse|mtx|npy)")
            }
            requested = media
        }
        let offers = r.kind == .solve ? ResultEncoding.solutionOffers : ResultEncoding.productOffers
        // A format= the result does not come in is refused, not answered in another format.
        if let requested, !offers.contains(requested) {
            throw ServiceError(.notAcceptable, "not_acceptable", "a \(r.kind == .solve ? "solution" : "product") is not available as \(requested); offered: \(offers.joined(separator: ", "))")
        }
        guard let media = requested ?? MediaType.negotiate(head.headers["Accept"], offers: offers) else {
            throw ServiceError(.notAcceptable, "not_acceptable", "none of the accepted types is available; offered: \(offers.joined(separator: ", "))")
        }
        let store = self.store
        let encoded: Result<(Data, String), ServiceError> = await BlockingIO.run {
            do {
                if r.kind == .solve {
                    return .success(try ResultEncoding.solution(store.readResult(id, name: JobStore.solutionName), as: media))
                }
                let names = JobStore.productNames
                let indptr = try NPYArray.decodeInts(store.readResult(id, name: names.indptr), name: names.indptr)
                let indices = try NPYArray.decodeInt32s(store.readResult(id, name: names.indices), name: names.indices)
                let values = try NPYArray.decodeDoubles(store.readResult(id, name: names.values), name: names.values)
                let p = r.product
                return .success(ResultEncoding.product(rows: p?.resultRows ?? max(0, indptr.count - 1), columns: p?.resultColumns ?? 0,
                                                       indptr: indptr, indices: indices, values: values,
                                                       upperOnly: p?.upperTriangleOnly ?? false, as: media))
            } catch {
                return .failure(ServiceError(.internalServerError, "storage_error", "cannot read the result: \(error)"))
            }
        }
        let (data, type) = try encoded.get()
        var headers = HTTPHeaders([("Content-Type", type)])
        if type == ResultEncoding.npy || type == ResultEncoding.matrixMarket {
            let ext = type == ResultEncoding.npy ? "npy" : "mtx"
            headers.add("Content-Disposition", "attachment; filename=\"\(r.kind == .solve ? "x" : "product")-\(id.uuidString.lowercased()).\(ext)\"")
        }
        headers.add("Vary", "Accept")
        return HTTPResponse(status: .ok, headers: headers, body: data)
    }
}

extension Error {
    /// Any error as an API answer (unexpected ones as a 500 without internals).
    func response(route: String?) -> HTTPResponse {
        if let e = self as? ServiceError { return e.response(route: route) }
        return ServiceError(.internalServerError, "internal_error", "unexpected error: \(self)").response(route: route)
    }
}

/// Blocking work (parsing large bodies, fsync, reading result files) off Swift's cooperative pool.
enum BlockingIO {
    private static let queue = DispatchQueue(label: "lsq.blocking-io", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            queue.async { c.resume(returning: body()) }
        }
    }
}
