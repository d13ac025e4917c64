// SolverServiceTests/StoreRecoveryTests: the job store's crash contract — what a restart makes of the files a
// power loss can leave behind (a finished job's record or result that never reached the disk).
import Foundation
import Testing
import LeastSquares
import SparseTensor
@testable import SolverService
import _TestSupport

@Suite struct StoreRecoveryTests {
    private func jobsFolder(_ dir: URL) -> URL { dir.appendingPathComponent("jobs") }

    /// A job is one `.job` file once accepted: the body as sent, then the record, then the trailer
    /// (record length, magic). Spooled uploads (here every body, with a 1 KB memory limit) take the same form.
    @Test func acceptedJobIsOneFileWithTheBodyAndTheRecord() async throws {
        let h = try await ServiceHarness.start { $0.workers = 1; $0.limits.memoryBodyBytes = 1024; $0.solve = standInSolver(iterations: 1) }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: 21)
        let body = try JSONSerialization.data(withJSONObject: solveRequest(a, y))
        #expect(body.count > 1024)
        let r = try await h.call("POST", "/v1/jobs", body: body, headers: [("Content-Type", "application/json")])
        #expect(r.status == 202, "\(r.text)")
        let id = try #require(r.json["id"] as? String)
        let file = try Data(contentsOf: jobsFolder(h.directory).appendingPathComponent("\(id).job"))
        #expect(file.prefix(body.count) == body)
        #expect(file.suffix(8) == Data("LSQJOB01".utf8))
        let length = file.dropLast(8).suffix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(body.count + length + 16 == file.count)
        let record = try JSONSerialization.jsonObject(with: file.dropLast(16).suffix(length)) as? [String: Any]
        #expect((record?["id"] as? String)?.lowercased() == id && record?["state"] as? String == "queued")
        #expect(try await h.waitFinished(id).json["status"] as? String == "succeeded")
    }

    /// What a power loss before the background flush can leave: a result file cut short, a record file
    /// empty. Both jobs run again after the restart (same x); an intact finished job keeps its result
    /// without running again; temporary files and files of jobs that no longer exist are removed.
    @Test func lostFinishRunsTheJobAgain() async throws {
        let dir = Fixtures.temporaryDirectory()
        let first = try await ServiceHarness.start(directory: dir) { $0.limits.memoryBodyBytes = 1024 }
        var ids: [String] = []
        var xs: [Data] = []
        for seed in UInt64(31)...33 {
            let (a, y) = smallProblem(seed: seed)
            let id = try #require(try await first.call("POST", "/v1/jobs", json: solveRequest(a, y, options: ["solver": "lsqr", "tol": 1e-10])).json["id"] as? String)
            #expect(try await first.waitFinished(id).json["status"] as? String == "succeeded")
            ids.append(id)
            xs.append(try await first.call("GET", "/v1/jobs/\(id)/solution").body)
        }
        await first.stop()

        let jobs = jobsFolder(dir)
        let solution0 = jobs.appendingPathComponent("\(ids[0]).solution.npy")
        let truncated = try Data(contentsOf: solution0).prefix(70)
        try truncated.write(to: solution0)                                          // result cut short
        try Data().write(to: jobs.appendingPathComponent("\(ids[1]).json"))         // record empty
        let orphan = UUID().uuidString.lowercased()
        try Data("{}".utf8).write(to: jobs.appendingPathComponent("\(orphan).json"))
        try Data("x".utf8).write(to: jobs.appendingPathComponent(".\(orphan).job.tmp"))

        let second = try await ServiceHarness.start(directory: dir)
        defer { Task { await second.stop() } }
        for (i, id) in ids.enumerated() {
            let r = try await second.waitFinished(id)
            #expect(r.json["status"] as? String == "succeeded", "\(r.text)")
            #expect(try await second.call("GET", "/v1/jobs/\(id)/solution").body == xs[i])
        }
        #expect(try await second.call("GET", "/v1/jobs/\(ids[0])").json["attempts"] as? Int == 2)
        #expect(try await second.call("GET", "/v1/jobs/\(ids[2])").json["attempts"] as? Int == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: jobs.path)
        #expect(!left.contains { $0.contains(orphan) }, "\(left)")
        #expect(try await second.call("GET", "/v1/jobs").json["total"] as? Int == 3)
    }

    /// With the interrupt policy a finished job whose result was lost is marked interrupted, not re-run.
    @Test func lostResultUnderTheInterruptPolicy() async throws {
        let dir = Fixtures.temporaryDirectory()
        let first = try await ServiceHarness.start(directory: dir) { $0.solve = standInSolver(iterations: 1) }
        let (a, y) = smallProblem(seed: 41)
        let id = try #require(try await first.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        #expect(try await first.waitFinished(id).json["status"] as? String == "succeeded")
        await first.stop()
        try FileManager.default.removeItem(at: jobsFolder(dir).appendingPathComponent("\(id).solution.npy"))

        let second = try await ServiceHarness.start(directory: dir) { $0.recovery = .interrupt; $0.solve = standInSolver(iterations: 1) }
        defer { Task { await second.stop() } }
        let r = try await second.call("GET", "/v1/jobs/\(id)")
        #expect(r.json["status"] as? String == "interrupted", "\(r.text)")
        #expect(try await second.call("GET", "/v1/jobs/\(id)/solution").status == 409)
    }
}
