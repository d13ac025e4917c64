// SolverService/Benchmark/LoopbackSocket: a blocking TCP connection to 127.0.0.1, for the load test's client and the tests' client.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Opening a blocking, Nagle-free TCP socket to the local service.
enum LoopbackSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A socket connected to 127.0.0.1:`port` with TCP_NODELAY, whose reads (and, with `sendTimeout`, writes)
    /// give up after `receiveTimeout` (`sendTimeout`) seconds. The caller owns the descriptor and closes it.
    static func connect(port: UInt16, receiveTimeout: Double, sendTimeout: Double? = nil) throws(Failure) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var tv = timeval(seconds: receiveTimeout)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let sendTimeout {
            var tv = timeval(seconds: sendTimeout)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "connect to port \(port): errno \(code)")
        }
        return fd
    }
}

private extension timeval {
    /// Whole seconds and the microseconds of the fraction.
    init(seconds: Double) {
        self.init(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
    }
}
