// End-to-end tests of the built `lsq serve` binary: kill -9 mid-solve and restart, the interrupt policy, SIGTERM.
import Foundation
import Testing
import LeastSquares
import SparseTensor
@testable import SolverService
import _TestSupport
import Synchronization

/// A running `lsq serve` process on an ephemeral port.
final class ServeProcess {
    let process = Process()
    let port: UInt16

    static var binary: URL { Fixtures.repositoryRoot.appendingPathComponent(".build/debug/lsq") }

    init(dataDirectory: URL, arguments: [String] = []) throws {
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDirectory.path, "--quiet", "--shutdown-grace", "0.5"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first stdout line names the port; wait for it at most 30 s.
        let line = LineReader(out.fileHandleForReading)
        guard let text = line.firstLine(timeout: 30), let range = text.range(of: "127.0.0.1:") else {
            process.terminate()
            throw ClientError(description: "lsq serve did not report its port")
        }
        port = UInt16(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// A test that fails half-way must not leave a server solving in the background (it would slow every
    /// later test and benchmark on the machine).
    deinit {
        if process.isRunning { kill9() }
    }

    /// SIGKILL: no chance to save anything.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    func terminate(timeout: Double = 20) -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<Int(timeout * 20) where process.isRunning { usleep(50_000) }
        if process.isRunning { kill9(); return nil }
        return process.terminationStatus
    }

    func call(_ method: String, _ path: String, json: Any? = nil) throws -> RawResponse {
        try Loopback.request(port, method, path, json: json)
    }

    /// Polls every 50 ms, for at most 30 s.
    func waitState(_ id: String, _ states: Set<String>) throws -> RawResponse {
        var last = try call("GET", "/v1/jobs/\(id)")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let s = last.json["status"] as? String, states.contains(s) { return last }
            usleep(50_000)
            last = try call("GET", "/v1/jobs/\(id)")
        }
        throw ClientError(description: "job \(id) never reached \(states): \(last.text)")
    }
}

/// Reads the first line of a pipe on a thread, with a timeout.
final class LineReader: Sendable {
    private let handle: FileHandle
    private let done = DispatchSemaphore(value: 0)
    private let line = Mutex<String?>(nil)

    init(_ handle: FileHandle) { self.handle = handle }

    func firstLine(timeout: Double) -> String? {
        Thread {
            var bytes: [UInt8] = []
            while true {
                let d = self.handle.availableData
                if d.isEmpty { break }
                bytes += d
                if bytes.contains(10) { break }
            }
            self.line.withLock { $0 = String(decoding: bytes.prefix { $0 != 10 }, as: UTF8.self) }
            self.done.signal()
        }.start()
        return done.wait(timeout: .now() + timeout) == .success ? line.withLock { $0 } : nil
    }
}

@Suite("lsq serve binary", .serialized)
struct ServeBinaryTests {
    /// A solve that runs for minutes unless cancelled: LSQR on an ill-conditioned 3000 × 1000 matrix (columns
    /// scaled by 10⁰…10⁸) with tolerance 0 and no condition limit — thousands of iterations a second, for tens of thousands.
    static func longJob() -> [String: Any] {
        var rng = SplitMix64(seed: 5)
        let m = 3000, n = 1000
        var rows: [Int] = [], cols: [Int] = [], values: [Double] = []
        for i in 0..<m {
            var picked = Set<Int>()
            while picked.count < 8 { picked.insert(Int(rng.next() % UInt64(n))) }
            for j in picked.sorted() {
                rows.append(i)
                cols.append(j)
                values.append((Double(rng.next() % 2001) / 1000 - 1) * pow(10, Double(j % 9)))
            }
        }
        let y = (0..<m).map { _ in Double(rng.next() % 2001) / 1000 - 1 }
        return ["A": ["format": "coo", "shape": [m, n], "rows": rows, "cols": cols, "values": values], "y": y,
                "options": ["solver": "lsqr", "tol": 0, "maxIter": 100_000_000, "conditionLimit": 1e300]]
    }

    static func quickJob(_ seed: UInt64) -> ([String: Any], Result<Solution, SolverError>) {
        let (a, y) = smallProblem(rows: 30, columns: 8, seed: seed)
        return (solveRequest(a, y, options: ["solver": "lsqr", "tol": 1e-10]), libraryResult(a, y))
    }

    @Test func killDashNineMidSolveLosesNothing() async throws {
        guard FileManager.default.isExecutableFile(atPath: ServeProcess.binary.path) else {
            Issue.record("build the binary first: swift build --product lsq (\(ServeProcess.binary.path))")
            return
        }
        let (a, y) = smallProblem(rows: 30, columns: 8, seed: 21)
        if case let .failure(e) = libraryResult(a, y) {
            Issue.record("this test needs LSQR, and it fails: \(e)")
            return
        }
        let dir = Fixtures.temporaryDirectory()
        try await blocking {
            // 1. A finished job, a running one, two queued ones.
            var server = try ServeProcess(dataDirectory: dir, arguments: ["--workers", "1"])
            let (quick, reference) = Self.quickJob(31)
            let finished = try #require(try server.call("POST", "/v1/jobs", json: quick).json["id"] as? String)
            let finishedState = try server.waitState(finished, ["succeeded", "failed"])
            let solutionBefore = try server.call("GET", "/v1/jobs/\(finished)/solution")
            let long = try #require(try server.call("POST", "/v1/jobs", json: Self.longJob()).json["id"] as? String)
            _ = try server.waitState(long, ["running"])
            var queued: [String] = []
            for seed in 32...33 { queued.append(try #require(try server.call("POST", "/v1/jobs", json: Self.quickJob(UInt64(seed)).0).json["id"] as? String)) }
            for id in queued { #expect(try server.call("GET", "/v1/jobs/\(id)").json["status"] as? String == "queued") }

            // 2. kill -9 mid-solve, restart on the same directory.
            server.kill9()
            server = try ServeProcess(dataDirectory: dir, arguments: ["--workers", "1"])
            let after = try server.call("GET", "/v1/jobs")
            #expect(after.json["total"] as? Int == 4, "every accepted job is still there: \(after.text)")
            let f = try server.call("GET", "/v1/jobs/\(finished)")
            #expect(f.json["status"] as? String == finishedState.json["status"] as? String)
            if case .success = reference {
                let solutionAfter = try server.call("GET", "/v1/jobs/\(finished)/solution")
                #expect(solutionAfter.status == 200 && solutionAfter.body == solutionBefore.body)
            }
            let relaunched = try server.waitState(long, ["running"])
            #expect(relaunched.json["attempts"] as? Int == 2)
            #expect((relaunched.json["note"] as? String)?.contains("re-queued after a restart") == true)
            for id in queued { #expect(try server.call("GET", "/v1/jobs/\(id)").json["status"] as? String == "queued") }
            // 3. Cancel the long one; the queued ones then run.
            #expect(try server.call("DELETE", "/v1/jobs/\(long)").status == 202)
            #expect(try server.waitState(long, ["cancelled"]).json["status"] as? String == "cancelled")
            for id in queued {
                let r = try server.waitState(id, ["succeeded", "failed"])
                #expect(r.json["status"] as? String == (try? reference.get()) .map { _ in "succeeded" } ?? "failed")
            }

            // 4. Another kill -9 mid-solve, restarted with --recovery interrupt: the job is marked, not re-run.
            let long2 = try #require(try server.call("POST", "/v1/jobs", json: Self.longJob()).json["id"] as? String)
            _ = try server.waitState(long2, ["running"])
            server.kill9()
            server = try ServeProcess(dataDirectory: dir, arguments: ["--workers", "1", "--recovery", "interrupt"])
            let interrupted = try server.call("GET", "/v1/jobs/\(long2)")
            #expect(interrupted.json["status"] as? String == "interrupted")
            #expect((interrupted.json["error"] as? [String: Any])?["code"] as? String == "interrupted")

            // 5. SIGTERM mid-solve: a clean exit, and the job is queued again for the next start.
            let long3 = try #require(try server.call("POST", "/v1/jobs", json: Self.longJob()).json["id"] as? String)
            _ = try server.waitState(long3, ["running"])
            #expect(server.terminate() == 0)
            server = try ServeProcess(dataDirectory: dir, arguments: ["--workers", "1"])
            let requeued = try server.waitState(long3, ["running"])
            #expect(requeued.json["attempts"] as? Int == 2)
            #expect(try server.call("DELETE", "/v1/jobs/\(long3)").status == 202)
            _ = try server.waitState(long3, ["cancelled"])
            #expect(server.terminate() == 0)
        }
    }
}
