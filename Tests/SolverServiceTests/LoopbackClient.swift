// SolverServiceTests/LoopbackClient: a blocking raw-socket HTTP/1.1 client for tests (independent of the server's code;
// only the socket set-up is the load-test client's LoopbackSocket).
import Foundation
@testable import SolverService
#if canImport(Glibc)
import Glibc
#endif

/// A response as read off the wire.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
}

/// One TCP connection to 127.0.0.1:port with a receive timeout, so no test can hang on it.
final class LoopbackConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16, timeout: Double = 10) throws {
        do {
            fd = try LoopbackSocket.connect(port: port, receiveTimeout: timeout, sendTimeout: timeout)
        } catch {
            throw ClientError(description: error.description)
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError(description: "send failed: errno \(errno)") }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads more bytes; nil at end of stream; throws on timeout or error.
    func receive() throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return nil }
        if n < 0 { throw ClientError(description: errno == EAGAIN ? "receive timed out" : "recv failed: errno \(errno)") }
        return Array(chunk[0..<n])
    }

    /// True when the peer has closed (reads end of stream, or reset) within the timeout.
    func isClosedByPeer() -> Bool {
        do {
            while true { guard try receive() != nil else { return true } }
        } catch let e as ClientError {
            return !e.description.contains("timed out")
        } catch { return true }
    }

    /// Reads one response (skipping nothing: a `100 Continue` is returned as such).
    func readResponse(headRequest: Bool = false) throws -> RawResponse {
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
                guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError(description: "bad status line: \(head.prefix(80))") }
                let headers = lines.compactMap { line -> (String, String)? in
                    guard let c = line.firstIndex(of: ":") else { return nil }
                    return (String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces))
                }
                buffer.removeFirst(end + 4)
                if status < 200 { return RawResponse(status: status, headers: headers, body: Data()) }
                let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) }
                if headRequest { return RawResponse(status: status, headers: headers, body: Data()) }
                if let length {
                    while buffer.count < length {
                        guard let more = try receive() else { throw ClientError(description: "connection closed inside a body") }
                        buffer += more
                    }
                    let body = Data(buffer[0..<length])
                    buffer.removeFirst(length)
                    return RawResponse(status: status, headers: headers, body: body)
                }
                while let more = try receive() { buffer += more }
                let body = Data(buffer)
                buffer = []
                return RawResponse(status: status, headers: headers, body: body)
            }
            guard let more = try receive() else {
                throw ClientError(description: buffer.isEmpty ? "connection closed before a response" : "connection closed inside a head")
            }
            buffer += more
        }
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] && Array(buffer[i..<(i + pattern.count)]) == pattern {
            return i
        }
        return nil
    }

    /// Sends a request with `Content-Length` (when there is a body) and reads the response.
    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: Data? = nil) throws -> RawResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (n, v) in headers { head += "\(n): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + (body.map { [UInt8]($0) } ?? []))
        return try readResponse(headRequest: method == "HEAD")
    }
}

/// One-shot requests on a fresh connection.
enum Loopback {
    static func request(_ port: UInt16, _ method: String, _ path: String, token: String? = nil, headers: [(String, String)] = [],
                        body: Data? = nil, json: Any? = nil) throws -> RawResponse {
        let c = try LoopbackConnection(port: port)
        var h = headers
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        var payload = body
        if let json {
            payload = try JSONSerialization.data(withJSONObject: json)
            h.append(("Content-Type", "application/json"))
        }
        return try c.request(method, path, headers: h, body: payload)
    }
}

/// Runs blocking client code on its own thread: blocking Swift's cooperative pool (two threads on
/// this machine) would starve the server under test that shares it.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.stackSize = 4 << 20
        t.start()
    }
}
