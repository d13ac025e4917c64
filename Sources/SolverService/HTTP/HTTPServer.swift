// SolverService/HTTP/HTTPServer: the listening socket, the accept loop, the deadline reaper and graceful stop.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import FlyingSocks
import Synchronization

/// A small, strict HTTP/1.1 server on FlyingSocks' socket layer (non-blocking sockets on an epoll pool).
///
/// FlyingFox's own HTTP layer is not used: it closes on malformed requests instead of answering
/// `400`, has no header timeout or body limit, stalls keep-alive responses (separate head/body writes
/// without `TCP_NODELAY`) and ignores `Expect: 100-continue`. This one answers every refusal with a
/// status, bounds every read in size and time, streams large bodies to disk, and writes each
/// response once on a `TCP_NODELAY` socket.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        /// Address to bind: an IPv4 or IPv6 literal. Default loopback only.
        public var host = "127.0.0.1"
        /// Port to bind; 0 picks a free one (see `port` after `start()`).
        public var port: UInt16 = 0
        public var limits = HTTPLimits()
        /// Where bodies larger than `limits.memoryBodyBytes` are spooled (same file system as the
        /// place they end up, so adopting one is a rename).
        public var spoolDirectory: URL = FileManager.default.temporaryDirectory
        /// Listen backlog.
        public var backlog: Int32 = 512

        public init() {}
    }

    private struct Running: Sendable {
        var listener: Socket
        var acceptTask: Task<Void, Never>
        var poolTask: Task<Void, Never>
        var reaperTask: Task<Void, Never>
    }

    public let configuration: Configuration
    private let handler: any HTTPHandler
    private let observe: @Sendable (HTTPExchange) -> Void
    private let registry: ConnectionRegistry
    private let running = Mutex<Running?>(nil)
    private let boundPort = Atomic<UInt16>(0)
    private let date = HTTPDate()

    /// - Parameter observe: called after each exchange (access log, metrics); never sees header values.
    public init(configuration: Configuration, handler: any HTTPHandler, observe: @escaping @Sendable (HTTPExchange) -> Void = { _ in }) {
        self.configuration = configuration
        self.handler = handler
        self.observe = observe
        self.registry = ConnectionRegistry(maxConnections: configuration.limits.maxConnections)
    }

    /// The bound port (after `start()`).
    public var port: UInt16 { boundPort.load(ordering: .relaxed) }

    /// Open connections.
    public var connectionCount: Int { registry.count }

    /// Binds, listens and starts accepting. Returns once the socket listens.
    public func start() async throws {
        let pool: some AsyncSocketPool = .ePoll(maxEvents: 256)
        try await pool.prepare()
        let poolTask = Task { do { try await pool.run() } catch {} }

        let listener: Socket
        do {
            listener = try Self.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
            if case let .ip4(_, port) = try listener.sockname() { boundPort.store(port, ordering: .relaxed) }
            if case let .ip6(_, port) = try listener.sockname() { boundPort.store(port, ordering: .relaxed) }
        } catch {
            poolTask.cancel()
            throw error
        }
        let acceptTask = Task { [self] in await acceptLoop(listener: listener, pool: pool) }
        let tick = max(0.01, min(0.25, min(configuration.limits.headerTimeout, configuration.limits.bodyIdleTimeout,
                                           configuration.limits.idleTimeout, configuration.limits.writeTimeout) / 4))
        let reaperTask = Task { [registry] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(tick * 1e9))
                registry.reap()
            }
        }
        running.withLock { $0 = Running(listener: listener, acceptTask: acceptTask, poolTask: poolTask, reaperTask: reaperTask) }
    }

    /// Stops accepting, closes idle keep-alive connections, lets requests in flight finish for up
    /// to `grace` seconds (their responses close the connection), then cancels what is left.
    public func stop(grace: Double = 5) async {
        guard let r = running.withLock({ s -> Running? in defer { s = nil }; return s }) else { return }
        r.acceptTask.cancel()
        await r.acceptTask.value
        try? r.listener.close()
        registry.cancel(phases: [.idle])
        let deadline = ConnectionClock.now() &+ UInt64(max(0, grace) * 1e9)
        while registry.count > 0, ConnectionClock.now() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
            registry.cancel(phases: [.idle])
        }
        registry.cancel()
        let hardStop = ConnectionClock.now() &+ 1_000_000_000
        while registry.count > 0, ConnectionClock.now() < hardStop { try? await Task.sleep(nanoseconds: 5_000_000) }
        r.reaperTask.cancel()
        r.poolTask.cancel()
    }

    // MARK: - Accepting

    private func acceptLoop(listener: Socket, pool: some AsyncSocketPool) async {
        while !Task.isCancelled {
            let file: Socket.FileDescriptor
            do {
                file = try listener.accept().file
            } catch SocketError.blocked {
                do { try await pool.suspendSocket(listener, untilReadyFor: .connection) } catch { return }
                continue
            } catch {
                // EMFILE/ENFILE and friends: back off briefly instead of spinning.
                try? await Task.sleep(nanoseconds: 50_000_000)
                continue
            }
            let socket = Socket(file: file)
            do { try socket.setFlags(.nonBlocking) } catch { try? socket.close(); continue }
            SocketChannel.setNoDelay(socket)
            let channel = SocketChannel(socket: socket, pool: pool)
            let clock = ConnectionClock()
            guard let id = registry.admit(clock) else {
                let r = handler.errorResponse(.serviceUnavailable, message: "too many open connections; retry later")
                _ = channel.trySend(r.serialized(keepAlive: false, date: date.now()))
                channel.close()
                continue
            }
            var connection = HTTPConnection(channel: channel, clock: clock, limits: configuration.limits, handler: handler,
                                            spoolDirectory: configuration.spoolDirectory, registry: registry, date: date,
                                            observe: observe)
            let registry = self.registry
            let task = Task {
                await connection.run()
                registry.remove(id)
            }
            registry.attach(id, task: task)
        }
    }

    private static func listen(host: String, port: UInt16, backlog: Int32) throws -> Socket {
        let socket: Socket
        if host.contains(":") {
            let address = try sockaddr_in6.inet6(ip6: host, port: port)
            socket = try Socket(domain: Int32(sockaddr_in6.family), type: .stream)
            try socket.setValue(true, for: .localAddressReuse)
            try socket.bind(to: address)
        } else {
            let address = try sockaddr_in.inet(ip4: host, port: port)
            socket = try Socket(domain: Int32(sockaddr_in.family), type: .stream)
            try socket.setValue(true, for: .localAddressReuse)
            try socket.bind(to: address)
        }
        try socket.listen(maxPendingConnection: backlog)
        try socket.setFlags(.nonBlocking)
        return socket
    }
}
