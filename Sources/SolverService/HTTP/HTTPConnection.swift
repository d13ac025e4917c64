// SolverService/HTTP/HTTPConnection: one connection's request loop — head, preflight, 100-continue, body, answer.
import Foundation

/// Serves requests on one connection until it closes, keeping it alive between requests.
///
/// Per request: read the head under `headerTimeout` (the keep-alive wait before its first byte is
/// `idleTimeout`); check framing and limits (`HTTPHeadParser`); ask the handler's preflight; send
/// `100 Continue` if asked; read the body with `bodyIdleTimeout` per stall, into memory or, past
/// `memoryBodyBytes`, into a spool file; run the handler; send the response in one write.
/// A refused request is answered with its status and the connection closed after a short
/// lingering drain, so the client reads the answer instead of a reset.
struct HTTPConnection {
    let channel: SocketChannel
    let clock: ConnectionClock
    let limits: HTTPLimits
    let handler: any HTTPHandler
    let spoolDirectory: URL
    let registry: ConnectionRegistry
    let date: HTTPDate
    let observe: @Sendable (HTTPExchange) -> Void

    /// Bytes received and not yet consumed (pipelined requests stay here).
    private var inbox: [UInt8] = []
    private var scanned = 0

    init(channel: SocketChannel, clock: ConnectionClock, limits: HTTPLimits, handler: any HTTPHandler, spoolDirectory: URL,
         registry: ConnectionRegistry, date: HTTPDate, observe: @escaping @Sendable (HTTPExchange) -> Void) {
        self.channel = channel
        self.clock = clock
        self.limits = limits
        self.handler = handler
        self.spoolDirectory = spoolDirectory
        self.registry = registry
        self.date = date
        self.observe = observe
    }

    private enum Failure: Error {
        case refused(HTTPParseError, path: String)
        case closed
    }

    mutating func run() async {
        defer { channel.close() }
        var first = true
        while true {
            let started = ConnectionClock.now()
            var path = ""
            do {
                let head = try await readHead(first: first)
                first = false
                path = String(head.path.prefix(200))
                let received = ConnectionClock.now()
                guard try await serve(head, received: received) else { return }
            } catch let Failure.refused(error, refusedPath) {
                await refuse(error, path: refusedPath.isEmpty ? path : refusedPath, started: started)
                return
            } catch {
                // Closed by the peer, cancelled by shutdown, or timed out.
                if clock.timedOut, clock.phase == .receiving {
                    let r = handler.errorResponse(.requestTimeout, message: "the request was not received within the time limit")
                    _ = channel.trySend(r.serialized(keepAlive: false, date: date.now()))
                    observe(HTTPExchange(method: "-", route: "-", path: path, status: 408,
                                         seconds: seconds(since: started), requestBytes: 0, responseBytes: 0))
                }
                return
            }
        }
    }

    /// Serves one request whose head is read; false when the connection must close afterwards.
    private mutating func serve(_ head: HTTPRequestHead, received: UInt64) async throws -> Bool {
        clock.set(.handling, timeout: nil)
        if let early = await handler.preflight(head) {
            // The body (if any) is not wanted: answer and close, unless there is none to skip.
            let keep = head.keepAlive && !head.framing.hasBody && !registry.isClosed
            try await send(early, head: head, keepAlive: keep, started: received, requestBytes: 0)
            if head.framing.hasBody { await lingeringClose() }
            return keep
        }
        if head.expectsContinue, head.framing.hasBody {
            clock.set(.writing, timeout: limits.writeTimeout)
            try await channel.write(Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        let body: HTTPBody
        do {
            body = try await readBody(head)
        } catch let e as BodySink.StorageError {
            throw Failure.refused(HTTPParseError(.insufficientStorage, "the server cannot store the request body: \(e.reason)"),
                                  path: String(head.path.prefix(200)))
        }
        defer {
            if case let .file(url, _) = body { try? FileManager.default.removeItem(at: url) }
        }
        clock.set(.handling, timeout: nil)
        let response = await handler.handle(HTTPRequest(head: head, body: body))
        let keep = head.keepAlive && !registry.isClosed && !response.headers.tokens("Connection").contains("close")
        try await send(response, head: head, keepAlive: keep, started: received, requestBytes: body.count)
        return keep
    }

    private func send(_ response: HTTPResponse, head: HTTPRequestHead, keepAlive: Bool, started: UInt64, requestBytes: Int) async throws {
        let bytes = response.serialized(keepAlive: keepAlive, date: date.now(), headOnly: head.method == "HEAD",
                                        http10: head.version == .http10)
        clock.set(.writing, timeout: limits.writeTimeout)
        try await channel.write(bytes)
        observe(HTTPExchange(method: head.method, route: response.routeLabel ?? "-", path: String(head.path.prefix(200)),
                             status: response.status.code, seconds: seconds(since: started),
                             requestBytes: requestBytes, responseBytes: bytes.count))
    }

    private func seconds(since t: UInt64) -> Double { Double(ConnectionClock.now() &- t) / 1e9 }

    /// Answers a request the HTTP layer refused, then closes.
    private mutating func refuse(_ error: HTTPParseError, path: String, started: UInt64) async {
        let r = handler.errorResponse(error.status, message: error.message)
        let bytes = r.serialized(keepAlive: false, date: date.now())
        clock.set(.writing, timeout: limits.writeTimeout)
        do { try await channel.write(bytes) } catch { return }
        observe(HTTPExchange(method: "-", route: "-", path: path, status: error.status.code,
                             seconds: seconds(since: started), requestBytes: 0, responseBytes: bytes.count))
        await lingeringClose()
    }

    /// Half-closes and discards what the client still sends for a moment, so the answer is not
    /// destroyed by a TCP reset when unread data remains (RFC 9112 §9.6).
    private func lingeringClose() async {
        _ = shutdown(channel.fd, Int32(SHUT_WR))
        clock.set(.writing, timeout: min(2, limits.bodyIdleTimeout))
        var drained = 0
        while drained < 1 << 20 {
            guard let chunk = try? await channel.read(maxBytes: 64 * 1024) else { return }
            drained += chunk.count
        }
    }

    // MARK: - Head

    private mutating func readHead(first: Bool) async throws -> HTTPRequestHead {
        if inbox.isEmpty {
            clock.set(.idle, timeout: first ? limits.headerTimeout : limits.idleTimeout)
        } else {
            clock.set(.receiving, timeout: limits.headerTimeout)
        }
        var parseNow = !inbox.isEmpty
        while true {
            if parseNow {
                if let (head, used) = try parseInbox() {
                    inbox.removeFirst(used)
                    scanned = 0
                    return head
                }
            }
            let chunk = try await channel.read(maxBytes: 16 * 1024)
            if clock.phase == .idle { clock.set(.receiving, timeout: limits.headerTimeout) }
            let wasEmpty = inbox.isEmpty
            inbox.append(contentsOf: chunk)
            // Re-parse only when the head can have completed (a blank line arrived), on the first
            // bytes (to refuse garbage at once), or past a limit — so parsing stays linear in the head size.
            parseNow = wasEmpty || inbox.count > limits.maxRequestLineBytes || containsBlankLine()
        }
    }

    private mutating func containsBlankLine() -> Bool {
        let from = max(0, scanned - 3)
        defer { scanned = inbox.count }
        guard inbox.count >= 4, from <= inbox.count - 4 else { return false }
        for i in from...(inbox.count - 4) where inbox[i] == 13 && inbox[i + 1] == 10 && inbox[i + 2] == 13 && inbox[i + 3] == 10 {
            return true
        }
        return false
    }

    private func parseInbox() throws -> (HTTPRequestHead, Int)? {
        let limits = self.limits
        let result: Result<(HTTPRequestHead, Int)?, HTTPParseError> = inbox.withUnsafeBufferPointer { buffer in
            do throws(HTTPParseError) { return .success(try HTTPHeadParser.parse(buffer, limits: limits)) } catch { return .failure(error) }
        }
        switch result {
        case let .success(v): return v
        case let .failure(e): throw Failure.refused(e, path: "")
        }
    }

    // MARK: - Body

    /// The time the next body read may take: the stall limit, shortened when the average rate so far
    /// falls below `minBodyBytesPerSecond` (after a first `bodyIdleTimeout` of grace).
    private func bodyTimeout(started: UInt64, received: Int) -> Double {
        guard limits.minBodyBytesPerSecond > 0 else { return limits.bodyIdleTimeout }
        let elapsed = Double(ConnectionClock.now() &- started) / 1e9
        let allowance = limits.bodyIdleTimeout + Double(received) / limits.minBodyBytesPerSecond - elapsed
        return max(0, min(limits.bodyIdleTimeout, allowance))
    }

    private mutating func readBody(_ head: HTTPRequestHead) async throws -> HTTPBody {
        switch head.framing {
        case .none, .length(0):
            return .empty
        case let .length(n):
            var sink = try BodySink(expected: n, limits: limits, spoolDirectory: spoolDirectory)
            do {
                let fromInbox = min(n, inbox.count)
                try sink.append(inbox[0..<fromInbox])
                inbox.removeFirst(fromInbox)
                var remaining = n - fromInbox
                let started = ConnectionClock.now()
                while remaining > 0 {
                    clock.set(.receiving, timeout: bodyTimeout(started: started, received: n - remaining))
                    let chunk = try await channel.read(maxBytes: min(remaining, 64 * 1024))
                    try sink.append(chunk[...])
                    remaining -= chunk.count
                }
                return try sink.finish()
            } catch {
                sink.discard()
                throw error
            }
        case .chunked:
            var decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes, maxTrailerBytes: limits.maxHeaderBytes)
            var sink = try BodySink(expected: nil, limits: limits, spoolDirectory: spoolDirectory)
            var decoded: [UInt8] = []
            let started = ConnectionClock.now()
            do {
                while true {
                    let used: Int
                    do {
                        used = try inbox.withUnsafeBufferPointer { try decoder.decode($0, into: &decoded) }
                    } catch let e as HTTPParseError {
                        throw Failure.refused(e, path: String(head.path.prefix(200)))
                    }
                    inbox.removeFirst(used)
                    try sink.append(decoded[...])
                    decoded.removeAll(keepingCapacity: true)
                    if decoder.isFinished { return try sink.finish() }
                    clock.set(.receiving, timeout: bodyTimeout(started: started, received: decoder.total))
                    inbox.append(contentsOf: try await channel.read(maxBytes: 64 * 1024))
                }
            } catch {
                sink.discard()
                throw error
            }
        }
    }
}

/// Where body bytes go as they arrive: memory up to `memoryBodyBytes`, then a spool file (synced at the end).
/// A spool file that cannot be created or written (disk full, unwritable directory) throws `StorageError`,
/// which the connection answers with 507 instead of dropping the request unanswered.
struct BodySink {
    struct StorageError: Error {
        let reason: String
    }

    private var memory = Data()
    private var file: FileHandle?
    private var url: URL?
    private var count = 0
    private let limits: HTTPLimits
    private let spoolDirectory: URL

    init(expected: Int?, limits: HTTPLimits, spoolDirectory: URL) throws {
        self.limits = limits
        self.spoolDirectory = spoolDirectory
        if let expected, expected > limits.memoryBodyBytes {
            try openFile()
        } else if let expected {
            memory.reserveCapacity(expected)
        }
    }

    private mutating func openFile() throws {
        let u = spoolDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: spoolDirectory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: u.path, contents: nil) else {
                throw StorageError(reason: "cannot create \(u.lastPathComponent) in \(spoolDirectory.path)")
            }
            url = u
            file = try FileHandle(forWritingTo: u)
            if !memory.isEmpty {
                try file?.write(contentsOf: memory)
                memory = Data()
            }
        } catch let e as StorageError {
            throw e
        } catch {
            throw StorageError(reason: "cannot spool the body to \(spoolDirectory.path): \(error.localizedDescription)")
        }
    }

    mutating func append(_ bytes: ArraySlice<UInt8>) throws {
        guard !bytes.isEmpty else { return }
        count += bytes.count
        if file == nil, count > limits.memoryBodyBytes { try openFile() }
        if let file {
            do { try file.write(contentsOf: bytes) } catch {
                throw StorageError(reason: "cannot write the spooled body: \(error.localizedDescription)")
            }
        } else {
            memory.append(contentsOf: bytes)
        }
    }

    /// The body (a spooled file is closed, not yet fsynced: whoever keeps it syncs it).
    mutating func finish() throws -> HTTPBody {
        if let file, let url {
            do { try file.close() } catch { throw StorageError(reason: "cannot close the spooled body: \(error.localizedDescription)") }
            self.file = nil
            return .file(url, length: count)
        }
        return count == 0 ? .empty : .data(memory)
    }

    mutating func discard() {
        try? file?.close()
        file = nil
        if let url { try? FileManager.default.removeItem(at: url) }
    }
}
