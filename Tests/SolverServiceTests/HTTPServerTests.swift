// Live tests of the HTTP layer over loopback sockets, with a small handler: framing, limits, timeouts, keep-alive.
import Foundation
import Testing
@testable import SolverService

/// Echoes bodies and says whether they were spooled to a file; `/private` is refused in preflight.
struct EchoHandler: HTTPHandler {
    func preflight(_ head: HTTPRequestHead) async -> HTTPResponse? {
        head.path == "/private" ? .text(.unauthorized, "no") : nil
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/hello":
            return .text(.ok, "hello")
        case "/echo":
            var where_ = "memory"
            if case .file = request.body { where_ = "file" }
            let body = (try? request.body.contents()) ?? Data()
            return HTTPResponse(status: .ok, headers: HTTPHeaders([("X-Body", where_)]), body: body)
        default:
            return .text(.notFound, "none")
        }
    }
}

func startEchoServer(_ configure: (inout HTTPLimits) -> Void = { _ in }) async throws -> HTTPServer {
    var config = HTTPServer.Configuration()
    config.port = 0
    configure(&config.limits)
    config.spoolDirectory = Fixtures.temporaryDirectory()
    let server = HTTPServer(configuration: config, handler: EchoHandler())
    try await server.start()
    return server
}

import _TestSupport

@Suite("HTTPServer (live)", .serialized)
struct HTTPServerTests {
    @Test func keepAliveAndPipelining() async throws {
        let server = try await startEchoServer()
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        try await blocking {
            let c = try LoopbackConnection(port: port)
            for _ in 0..<3 {
                let r = try c.request("GET", "/hello")
                #expect(r.status == 200 && r.text == "hello")
                #expect(r.header("Connection") == nil)
                #expect(r.header("Date") != nil)
            }
            // Two requests in one write: two answers, in order.
            try c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
            #expect(try c.readResponse().text == "hello")
            #expect(try c.readResponse().text == "abc")
            let head = try c.request("HEAD", "/hello")
            #expect(head.status == 200 && head.header("Content-Length") == "5")
            // HTTP/1.0 keep-alive is confirmed explicitly.
            try c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let old = try c.readResponse()
            #expect(old.status == 200 && old.header("Connection") == "keep-alive")
            let close = try c.request("GET", "/hello", headers: [("Connection", "close")])
            #expect(close.header("Connection") == "close")
            #expect(c.isClosedByPeer())
        }
    }

    @Test func expectContinueAndChunkedUploads() async throws {
        let server = try await startEchoServer { $0.memoryBodyBytes = 1024 }
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        try await blocking {
            let c = try LoopbackConnection(port: port)
            try c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            #expect(try c.readResponse().status == 100)
            try c.send("hello")
            let echoed = try c.readResponse()
            #expect(echoed.status == 200 && echoed.text == "hello")

            // Chunked, sent in small pieces, large enough to be spooled to a file.
            let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try c.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
            #expect(try c.readResponse().status == 100)
            var k = 0
            while k < payload.count {
                let n = min(700, payload.count - k)
                try c.send(Array(String(n, radix: 16).utf8) + [13, 10] + payload[k..<(k + n)] + [13, 10])
                k += n
            }
            try c.send("0\r\n\r\n")
            let big = try c.readResponse()
            #expect(big.status == 200)
            #expect([UInt8](big.body) == payload)
            #expect(big.header("X-Body") == "file")

            // A Content-Length body over the memory threshold goes to a file too.
            let r = try c.request("POST", "/echo", body: Data(payload))
            #expect(r.header("X-Body") == "file" && [UInt8](r.body) == payload)
        }
    }

    @Test func preflightRefusalSkipsTheBody() async throws {
        let server = try await startEchoServer()
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        try await blocking {
            let c = try LoopbackConnection(port: port)
            try c.send("POST /private HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 401)  // no 100 Continue first
            #expect(r.header("Connection") == "close")
            #expect(c.isClosedByPeer())
        }
    }

    @Test func limitsAreAnsweredAndTheServerKeepsServing() async throws {
        let server = try await startEchoServer { $0.maxBodyBytes = 1000 }
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        try await blocking {
            // Declared too large: 413 before any body byte is sent.
            let c = try LoopbackConnection(port: port)
            try c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 413)
            #expect(r.text.contains("Content-Length 5000 exceeds the limit of 1000 bytes"))
            #expect(c.isClosedByPeer())
            // Chunked past the limit: 413 once the chunk size says so.
            let d = try LoopbackConnection(port: port)
            try d.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + String(repeating: "x", count: 1024) + "\r\n")
            #expect(try d.readResponse().status == 413)
            // Malformed request line: 400 with a message, then closed.
            let e = try LoopbackConnection(port: port)
            try e.send("HELLO\r\n\r\n")
            let bad = try e.readResponse()
            #expect(bad.status == 400 && bad.text.contains("malformed request line"))
            #expect(e.isClosedByPeer())
            // Still serving.
            #expect(try Loopback.request(port, "GET", "/hello").status == 200)
        }
    }

    @Test("An infinite or huge timeout is clamped, not a trap on the first connection")
    func unboundedTimeoutsServe() async throws {
        let server = try await startEchoServer {
            $0.headerTimeout = .infinity
            $0.idleTimeout = 1e12
        }
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        let statuses = try await blocking { [try Loopback.request(port, "GET", "/hello").status, try Loopback.request(port, "GET", "/hello").status] }
        #expect(statuses == [200, 200])
    }

    @Test func slowClientIsDroppedWhileOthersAreServed() async throws {
        let server = try await startEchoServer {
            $0.headerTimeout = 1.5
            $0.idleTimeout = 1.5
        }
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        async let slow: (Int?, Int) = blocking {
            let c = try LoopbackConnection(port: port, timeout: 10)
            let text = Array("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
            var sent = 0
            // One byte a second; bounded by the text length (33 s) but dropped long before.
            for byte in text {
                do { try c.send([byte]) } catch { break }
                sent += 1
                usleep(1_000_000)
                var probe = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
                if poll(&probe, 1, 0) > 0 { break }
            }
            let status = try? c.readResponse().status
            return (status, sent)
        }
        // Meanwhile other clients are answered.
        let served = try await blocking {
            var ok = 0
            for _ in 0..<20 {
                if try Loopback.request(port, "GET", "/hello").status == 200 { ok += 1 }
                usleep(50_000)
            }
            return ok
        }
        #expect(served == 20)
        let (status, sent) = try await slow
        #expect(status == 408, "the slow client should get 408 Request Timeout")
        #expect(sent < 10, "dropped after \(sent) bytes")
        // A connection that never sends anything is closed without an answer.
        #expect(try await blocking { try LoopbackConnection(port: port, timeout: 10).isClosedByPeer() })
    }

    /// A body trickled just fast enough to beat the stall timeout is still dropped by the minimum rate.
    @Test func tricklingBodyIsDropped() async throws {
        let server = try await startEchoServer {
            $0.bodyIdleTimeout = 1
            $0.minBodyBytesPerSecond = 100
        }
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        let (status, sent) = try await blocking { () -> (Int?, Int) in
            let c = try LoopbackConnection(port: port, timeout: 10)
            try c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
            var sent = 0
            for _ in 0..<30 {  // 0.3 s apart: each byte beats the 1 s stall limit
                do { try c.send("x") } catch { break }
                sent += 1
                usleep(300_000)
                var probe = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
                if poll(&probe, 1, 0) > 0 { break }
            }
            return (try? c.readResponse().status, sent)
        }
        #expect(status == 408)
        #expect(sent < 15, "dropped after \(sent) bytes")
    }

    @Test func connectionLimit() async throws {
        let server = try await startEchoServer { $0.maxConnections = 2 }
        defer { Task { await server.stop(grace: 0) } }
        let port = server.port
        try await blocking {
            let a = try LoopbackConnection(port: port)
            let b = try LoopbackConnection(port: port)
            #expect(try a.request("GET", "/hello").status == 200)
            #expect(try b.request("GET", "/hello").status == 200)
            let c = try LoopbackConnection(port: port)
            #expect(try c.readResponse().status == 503)
            _ = (a, b)
        }
    }
}
