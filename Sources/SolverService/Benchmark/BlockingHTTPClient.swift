// SolverService/Benchmark/BlockingHTTPClient: a minimal keep-alive HTTP/1.1 client on a blocking socket, for the load test.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One keep-alive connection to 127.0.0.1, used from a dedicated thread (never from Swift's cooperative pool).
final class BlockingHTTPClient {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 65536)

    init(port: UInt16, timeout: Double = 30) throws {
        do {
            fd = try LoopbackSocket.connect(port: port, receiveTimeout: timeout)
        } catch {
            throw Failure(description: error.description)
        }
    }

    deinit { close(fd) }

    /// Sends a request (one write) and reads the response (Content-Length framed).
    func request(_ method: String, _ target: String, headers: String = "", body: [UInt8] = []) throws -> Response {
        var bytes = Array("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\(body.isEmpty ? "" : "Content-Length: \(body.count)\r\n")\r\n".utf8)
        bytes += body
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += n
        }
        return try readResponse()
    }

    private func fill() throws {
        let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv: errno \(errno)") }
        buffer.append(contentsOf: scratch[0..<n])
    }

    private func readResponse() throws -> Response {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                let status = Int(head.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                while buffer.count < end + 4 + length { try fill() }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return Response(status: status, body: body)
            }
            try fill()
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}
