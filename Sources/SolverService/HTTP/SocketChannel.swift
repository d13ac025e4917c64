// SolverService/HTTP/SocketChannel: non-blocking reads and writes on a FlyingSocks socket, suspending on its epoll pool.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import FlyingSocks

/// The peer closed the connection, or it failed; nothing more can be sent or received.
struct ConnectionClosed: Error {}

/// One accepted connection's file descriptor and the pool that wakes it.
///
/// Reads and writes go straight to `read(2)`/`send(2)` (with `MSG_NOSIGNAL`) in chunks of our
/// choosing; only when the kernel says `EAGAIN` does the task suspend on FlyingSocks' pool until
/// the socket is ready. A cancelled task (timeout, shutdown) resumes with `CancellationError`.
struct SocketChannel: Sendable {
    let socket: Socket
    let pool: any AsyncSocketPool

    var fd: Int32 { socket.file.rawValue }

    /// Reads at most `maxBytes`; throws `ConnectionClosed` at end of stream.
    func read(maxBytes: Int) async throws -> [UInt8] {
        while true {
            try Task.checkCancellation()
            var err: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: maxBytes) { buffer, count in
                let n = recv(fd, buffer.baseAddress, maxBytes, 0)
                if n < 0 { err = errno; count = 0 } else { count = n }
            }
            if !bytes.isEmpty { return bytes }
            if err == 0 { throw ConnectionClosed() }  // orderly shutdown by the peer
            if err == EAGAIN || err == EWOULDBLOCK {
                try await pool.suspendSocket(socket, untilReadyFor: .read)
                continue
            }
            if err == EINTR { continue }
            throw ConnectionClosed()
        }
    }

    /// Writes all of `data`, suspending while the send buffer is full.
    func write(_ data: Data) async throws {
        var offset = 0
        while offset < data.count {
            try Task.checkCancellation()
            let (sent, err) = trySend(data, from: offset)
            if sent > 0 { offset += sent; continue }
            if err == EAGAIN || err == EWOULDBLOCK {
                try await pool.suspendSocket(socket, untilReadyFor: .write)
                continue
            }
            if err == EINTR { continue }
            throw ConnectionClosed()
        }
    }

    /// One non-blocking send attempt (also used for a best-effort answer after a timeout).
    func trySend(_ data: Data, from offset: Int = 0) -> (Int, Int32) {
        data.withUnsafeBytes { raw -> (Int, Int32) in
            guard let base = raw.baseAddress, offset < raw.count else { return (0, 0) }
            let n = send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            return n < 0 ? (0, errno) : (n, 0)
        }
    }

    func close() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
        try? socket.close()
    }

    /// Disables Nagle's algorithm so a response leaves in one segment without waiting for an ACK.
    static func setNoDelay(_ socket: Socket) {
        try? socket.setValue(true, for: BoolSocketOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY))
    }
}
