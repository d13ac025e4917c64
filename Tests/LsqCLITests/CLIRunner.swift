// Runs the built `lsq` binary as a subprocess, as a user would.
import Foundation
import _TestSupport

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The `lsq` built next to the test bundle (scripts/test builds it first with `swift build --product lsq`).
    static let binary: URL = {
        let dir = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("lsq"), Fixtures.repositoryRoot.appendingPathComponent(".build/debug/lsq")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        return dir.appendingPathComponent("lsq")
    }()

    /// Runs `lsq args…` with a wall-clock bound; `interruptAfter` sends SIGINT that many seconds after launch.
    @discardableResult
    static func run(_ args: [String], environment: [String: String] = [:], interruptAfter: Double? = nil,
                    timeout: Double = 120) throws -> CLIResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let outData = DataCollector(out.fileHandleForReading), errData = DataCollector(err.fileHandleForReading)
        try process.run()
        if let interruptAfter {
            Thread.sleep(forTimeInterval: interruptAfter)
            kill(process.processIdentifier, SIGINT)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: outData.text(), stderr: errData.text())
    }

    static func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}

/// Reads a pipe to the end on a background thread, so a chatty child never blocks on a full pipe.
final class DataCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
