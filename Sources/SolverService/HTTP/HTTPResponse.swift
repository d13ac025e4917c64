// SolverService/HTTP/HTTPResponse: a response and its wire form, serialized into one buffer.
import Foundation

/// A response. The server adds `Content-Length`, `Date` and `Connection`; the head and body are
/// written with one `send` (a separate head write is what stalled FlyingFox's keep-alive by ~43 ms).
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Data
    /// A low-cardinality name for metrics and logs ("GET /v1/jobs/{id}"); not sent.
    public var routeLabel: String?

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data(), routeLabel: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.routeLabel = routeLabel
    }

    /// A plain-text response (protocol-level errors before routing use JSON, see `HTTPServer`).
    public static func text(_ status: HTTPStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), body: Data(text.utf8))
    }

    /// The bytes on the wire: status line, headers (with `Content-Length` and `Connection`), blank line, body.
    /// - Parameter headOnly: omit the body (a `HEAD` answer), keeping its `Content-Length`.
    /// - Parameter http10: the request was HTTP/1.0, whose keep-alive must be confirmed with `Connection: keep-alive`.
    public func serialized(keepAlive: Bool, date: String? = nil, headOnly: Bool = false, http10: Bool = false) -> Data {
        var head = "HTTP/1.1 \(status.code) \(status.reason)\r\n"
        for (name, value) in headers where !HTTPHeaders.same(name, "Content-Length") && !HTTPHeaders.same(name, "Connection") {
            head += "\(name): \(value)\r\n"
        }
        if let date { head += "Date: \(date)\r\n" }
        if status.code >= 200, status.code != 204 { head += "Content-Length: \(body.count)\r\n" }
        head += keepAlive ? (http10 ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n"
        head += "\r\n"
        var out = Data(capacity: head.utf8.count + (headOnly ? 0 : body.count))
        out.append(contentsOf: head.utf8)
        if !headOnly { out.append(body) }
        return out
    }
}

/// `Date` header values (IMF-fixdate, RFC 9110 §5.6.7), formatted at most once per second.
final class HTTPDate: Sendable {
    private let cache = Mutex<(second: Int, text: String)>((-1, ""))

    func now() -> String {
        var t = time(nil)
        let second = Int(t)
        if let cached = cache.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let text = String(format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(parts.tm_wday)], Int(parts.tm_mday),
                          months[Int(parts.tm_mon)], Int(parts.tm_year) + 1900, Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        cache.withLock { $0 = (second, text) }
        return text
    }
}

import Synchronization
