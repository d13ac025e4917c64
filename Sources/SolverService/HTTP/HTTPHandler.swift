// SolverService/HTTP/HTTPHandler: what the HTTP layer calls — a preflight on the head, then the full request.

/// Handles requests for `HTTPServer`.
///
/// `preflight` sees the head before a byte of body is read: returning a response there (missing
/// token, unknown route, wrong content type) answers at once, so `100 Continue` is never sent and
/// an unwanted upload is never received (the connection is closed when a body was announced).
public protocol HTTPHandler: Sendable {
    func preflight(_ head: HTTPRequestHead) async -> HTTPResponse?
    func handle(_ request: HTTPRequest) async -> HTTPResponse
    /// The answer to a request refused by the HTTP layer itself (malformed, too large, timed out).
    func errorResponse(_ status: HTTPStatus, message: String) -> HTTPResponse
}

extension HTTPHandler {
    public func preflight(_ head: HTTPRequestHead) async -> HTTPResponse? { nil }
    public func errorResponse(_ status: HTTPStatus, message: String) -> HTTPResponse { .text(status, message + "\n") }
}

/// One finished exchange, for access logs and metrics. Never carries header values (tokens stay out of logs).
public struct HTTPExchange: Sendable {
    public var method: String
    /// The route label the handler set, or the raw path for refused requests.
    public var route: String
    /// The request path (no query), truncated to 200 characters; empty when the request line was unreadable.
    public var path: String
    public var status: Int
    public var seconds: Double
    public var requestBytes: Int
    public var responseBytes: Int
}
