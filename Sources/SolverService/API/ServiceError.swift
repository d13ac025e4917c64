// SolverService/API/ServiceError: the API's errors, each a status, a stable code and a precise message.
import Foundation
import LeastSquares
import SparseTensor

/// An error answered as `{"error": {"code": …, "message": …, "details": {…}}}`.
///
/// `code` is stable and machine-readable (`invalid_json`, `budget_exceeded`, …); `message` says what
/// was wrong, where (field path, entry, line) and what was expected; `details` carries figures
/// (bytes needed, budget) when there are some.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    public var details: [String: Double]
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`, `Allow`).
    public var headers: [(String, String)]

    public init(_ status: HTTPStatus, _ code: String, _ message: String, details: [String: Double] = [:], headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { "ServiceError. \(status.code) \(code): \(message)" }

    /// The code the HTTP layer's own refusals get.
    static func code(for status: HTTPStatus) -> String {
        switch status.code {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 406: return "not_acceptable"
        case 408: return "request_timeout"
        case 409: return "conflict"
        case 413: return "body_too_large"
        case 414: return "uri_too_long"
        case 415: return "unsupported_media_type"
        case 417: return "expectation_failed"
        case 422: return "unprocessable"
        case 429: return "queue_full"
        case 431: return "header_fields_too_large"
        case 501: return "not_implemented"
        case 503: return "unavailable"
        case 505: return "http_version_not_supported"
        case 507: return "insufficient_storage"
        default: return status.code >= 500 ? "internal_error" : "error"
        }
    }

    struct Body: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
            var details: [String: Double]?
        }
        var error: Inner
    }

    func response(route: String? = nil) -> HTTPResponse {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        for (n, v) in self.headers { headers.add(n, v) }
        let finite = details.filter { $0.value.isFinite }
        let body = Body(error: .init(code: code, message: message, details: finite.isEmpty ? nil : finite))
        return HTTPResponse(status: status, headers: headers, body: APIJSON.encode(body), routeLabel: route)
    }

    // MARK: - Mapping the library's errors

    /// A sparse-layer error in client input: budget refusals carry their figures.
    /// 422 `nnz_limit`: `name` has more nonzeros than the server's per-job limit (--max-nnz).
    static func nnzLimit(_ name: String, nnz: Int, limit: Int) -> ServiceError {
        ServiceError(.unprocessableContent, "nnz_limit", "\(name) has \(nnz) nonzeros but this server accepts at most \(limit) per job (--max-nnz)",
                     details: ["nnz": Double(nnz), "maxNNZ": Double(limit)])
    }

    static func from(_ error: SparseError, context: String) -> ServiceError {
        switch error {
        case let .exceedsMemoryBudget(_, bytes, budget, _):
            return ServiceError(.unprocessableContent, "budget_exceeded", "\(context): \(error.description)",
                                details: ["requiredBytes": bytes, "budgetBytes": Double(budget)])
        case let .tooManyEntries(_, entries, limit):
            return .nnzLimit(context, nnz: entries, limit: limit)
        case .malformedFile, .unsupportedFormat:
            // These already name the part ("A:12: …").
            return ServiceError(.unprocessableContent, "invalid_file", error.description)
        case .io:
            return ServiceError(.internalServerError, "storage_error", "\(context): \(error.description)")
        case .suiteSparse:
            return ServiceError(.internalServerError, "solver_error", "\(context): \(error.description)")
        default:
            return ServiceError(.unprocessableContent, "invalid_matrix", "\(context): \(error.description)")
        }
    }

    static func from(_ error: SolverError) -> ServiceError {
        switch error {
        case let .invalidProblem(m): return ServiceError(.unprocessableContent, "invalid_problem", m)
        case let .invalidOption(m): return ServiceError(.unprocessableContent, "invalid_option", m)
        case let .unsupported(m): return ServiceError(.unprocessableContent, "unsupported", m)
        case let .diverged(m): return ServiceError(.unprocessableContent, "diverged", m)
        case let .sparse(e): return from(e, context: "solver")
        }
    }
}

/// The JSON encoders and decoders of the API (Foundation's, configured once).
enum APIJSON {
    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        // Non-finite numbers are mapped to null by the DTOs; this is the last line of defence.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal_error","message":"response encoding failed"}}"#.utf8)
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        // Strings "NaN"/"Infinity" decode, so the validators can name the entry that is not finite.
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }
}

extension Double {
    /// The value when finite, else nil (JSON has no NaN or infinity).
    var finiteOrNil: Double? { isFinite ? self : nil }
}
