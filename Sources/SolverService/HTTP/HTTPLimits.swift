// SolverService/HTTP/HTTPLimits: the size limits and timeouts of the HTTP layer, and its parse error.

/// Size limits and timeouts enforced by `HTTPHeadParser`, `ChunkedDecoder` and `HTTPServer`.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line (method, target, version) in bytes; longer → `414`.
    /// 8 KiB is what RFC 9112 §3 recommends supporting at least.
    public var maxRequestLineBytes = 8 * 1024
    /// Longest head (request line + header fields) in bytes; longer → `431`.
    public var maxHeaderBytes = 32 * 1024
    /// Most header fields; more → `431`.
    public var maxHeaderCount = 100
    /// Largest request body in bytes (declared or, when chunked, received); larger → `413`.
    public var maxBodyBytes = 256 * 1_000_000
    /// Bodies above this many bytes are spooled to a file instead of memory.
    public var memoryBodyBytes = 1 << 20
    /// Seconds a client has to send a complete head once its first byte arrived (slow-header defence); → `408`.
    public var headerTimeout: Double = 10
    /// Seconds an open keep-alive connection may stay silent between requests before it is closed.
    public var idleTimeout: Double = 60
    /// Seconds the body may stall (no byte received) before the request is dropped with `408`.
    public var bodyIdleTimeout: Double = 30
    /// Slowest average body rate accepted once `bodyIdleTimeout` has passed (a client trickling a byte
    /// just before each stall deadline is still dropped); 0 disables the check.
    public var minBodyBytesPerSecond: Double = 1024
    /// Seconds a response write may stall before the connection is dropped.
    public var writeTimeout: Double = 30
    /// Most simultaneous connections; further ones are answered `503` and closed.
    public var maxConnections = 1024

    public init() {}
}

/// A request the HTTP layer refuses before it reaches a handler: the status and a precise message.
/// The connection is closed after the answer, since the framing can no longer be trusted.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPStatus
    public var message: String

    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "HTTPParseError. \(status): \(message)" }
}
