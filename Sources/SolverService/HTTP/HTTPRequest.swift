// SolverService/HTTP/HTTPRequest: a parsed request head, its body framing, and the request handed to handlers.
import Foundation

public enum HTTPVersion: String, Sendable, Equatable {
    case http10 = "HTTP/1.0"
    case http11 = "HTTP/1.1"
}

/// How the body of a request is delimited on the wire (RFC 9112 §6.3).
public enum BodyFraming: Sendable, Equatable {
    /// No body: neither `Content-Length` nor `Transfer-Encoding` was sent.
    case none
    /// Exactly this many bytes follow the head.
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked

    var hasBody: Bool {
        switch self {
        case .none: return false
        case let .length(n): return n > 0
        case .chunked: return true
        }
    }
}

/// The request line and header section of a request, validated by `HTTPHeadParser`.
public struct HTTPRequestHead: Sendable {
    /// The method token, case-sensitive as RFC 9110 §9.1 requires ("GET", "POST", …).
    public var method: String
    /// The request-target exactly as sent.
    public var target: String
    /// The path part of the target (still percent-encoded), always starting with "/" (or "*").
    public var path: String
    /// The query (after "?", still percent-encoded), if any.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: BodyFraming
    /// The client sent `Expect: 100-continue` (HTTP/1.1 only).
    public var expectsContinue: Bool
    /// The client wants the connection kept open after the response.
    public var keepAlive: Bool

    public init(method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
                framing: BodyFraming = .none, expectsContinue: Bool = false, keepAlive: Bool = true) {
        self.method = method
        self.target = target
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = nil
        }
        self.version = version
        self.headers = headers
        self.framing = framing
        self.expectsContinue = expectsContinue
        self.keepAlive = keepAlive
    }

    /// The path split on "/" with each segment percent-decoded; nil when a segment has a bad escape.
    public var pathSegments: [String]? {
        var out: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let s = String(raw).removingPercentEncoding else { return nil }
            out.append(s)
        }
        return out
    }

    /// Query parameters (`a=1&b=2`, `+` as space), percent-decoded; nil when an escape is malformed.
    public var queryItems: [(name: String, value: String)]? {
        guard let query, !query.isEmpty else { return [] }
        var out: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            out.append((name, value))
        }
        return out
    }
}

/// Where a request body is: in memory, or spooled to a file the server owns (large bodies).
public enum HTTPBody: Sendable {
    case empty
    case data(Data)
    /// A spooled body of `length` bytes, already flushed to disk. The handler may move the file away
    /// (it then owns it); otherwise the server deletes it after the response.
    case file(URL, length: Int)

    public var count: Int {
        switch self {
        case .empty: return 0
        case let .data(d): return d.count
        case let .file(_, n): return n
        }
    }

    /// The bytes (a spooled file is memory-mapped, not read into memory).
    public func contents() throws -> Data {
        switch self {
        case .empty: return Data()
        case let .data(d): return d
        case let .file(url, _): return try Data(contentsOf: url, options: .alwaysMapped)
        }
    }
}

/// A complete request: head and body.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: HTTPBody

    public init(head: HTTPRequestHead, body: HTTPBody = .empty) {
        self.head = head
        self.body = body
    }

    public var method: String { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
}
