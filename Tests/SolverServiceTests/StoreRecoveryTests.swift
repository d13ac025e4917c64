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

    /// `running` is shown only once it is on disk (so a crash right after a client saw it cannot bring the job back
    /// as queued). (A job that finishes within `JobRunner.runningRecordDelay` never writes it.)
    @Test func runningIsShownOnlyOnceItIsOnDisk() async throws {
        let gate = Gate()
        let h = try await ServiceHarness.start { $0.workers = 1; $0.solve = standInSolver(iterations: 2000, gate: gate) }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: 22)
        let id = try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        let recordFile = jobsFolder(h.directory).appendingPathComponent("\(id).json")
        // The gate holds the solve: the job shows running once its record says so.
        _ = try await h.waitState(id, "running")
        let onDisk = try JSONSerialization.jsonObject(with: Data(contentsOf: recordFile)) as? [String: Any]
        #expect(onDisk?["state"] as? String == "running")
        gate.release()
        #expect(try await h.call("DELETE", "/v1/jobs/\(id)").status == 202)
        #expect(try await h.waitFinished(id).json["status"] as? String == "cancelled")
    }

    /// A DELETE of a running job is on disk before the solver stops (a solver inside a factorization may not look at
    /// the flag for minutes): a crash meanwhile brings the job back cancelled, not running again.
    @Test func cancelOfARunningJobIsSaved() async throws {
        let held = Gate()
        // Ignores cancellation until released, as a factorization would.
        let solver: SolveFunction = { problem, options, control throws(SolverError) in
            held.wait(cancellation: CancellationFlag())
            return try standInSolver(iterations: 1)(problem, options, control)
        }
        let h = try await ServiceHarness.start { $0.workers = 1; $0.solve = solver }
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(seed: 23)
        let id = try #require(try await h.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
        _ = try await h.waitState(id, "running")
        #expect(try await h.call("DELETE", "/v1/jobs/\(id)").status == 202)
        let onDisk = try JSONSerialization.jsonObject(with: Data(contentsOf: jobsFolder(h.directory).appendingPathComponent("\(id).json"))) as? [String: Any]
        #expect(onDisk?["state"] as? String == "running" && onDisk?["cancelRequested"] as? Bool == true, "\(String(describing: onDisk))")
        held.release()
        #expect(try await h.waitFinished(id).json["status"] as? String == "cancelled")
    }

    /// A body that cannot be spooled (no room, or no directory to write it to) is answered 507, not dropped.
    @Test func unspoolableBodyIs507() async throws {
        let h = try await ServiceHarness.start { $0.workers = 1; $0.limits.memoryBodyBytes = 1024; $0.solve = standInSolver(iterations: 1) }
        defer { Task { await h.stop() } }
        let incoming = h.directory.appendingPathComponent("incoming")
        try? FileManager.default.removeItem(at: incoming)
        try Data("not a directory".utf8).write(to: incoming)  // root ignores permissions; a file in the way does not
        let (a, y) = smallProblem(rows: 60, columns: 10, seed: 25)
        let body = try JSONSerialization.data(withJSONObject: solveRequest(a, y))
        #expect(body.count > 1024)
        let r = try await h.call("POST", "/v1/jobs", body: body, headers: [("Content-Type", "application/json")])
        #expect(r.status == 507 && r.errorCode == "insufficient_storage" && r.errorMessage.contains("incoming"), "\(r.status) \(r.text)")
        try FileManager.default.removeItem(at: incoming)
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        #expect(try await h.call("POST", "/v1/jobs", body: body, headers: [("Content-Type", "application/json")]).status == 202)
    }

    /// A job the server died during on each of its runs is not re-queued forever: the third time it is interrupted.
    @Test func aJobThatKeepsCrashingTheServerIsNotRunAgain() async throws {
        let dir = Fixtures.temporaryDirectory()
        let first = try await ServiceHarness.start(directory: dir) { $0.solve = standInSolver(iterations: 1) }
        let (a, y) = smallProblem(seed: 24)
        var ids: [String] = []
        for _ in 0..<2 {
            let id = try #require(try await first.call("POST", "/v1/jobs", json: solveRequest(a, y)).json["id"] as? String)
            #expect(try await first.waitFinished(id).json["status"] as? String == "succeeded")
            ids.append(id)
        }
        await first.stop()
        // As a crash during the run would leave them: running, after 2 and after 3 attempts.
        for (id, attempts) in zip(ids, [2, 3]) {
            let file = jobsFolder(dir).appendingPathComponent("\(id).json")
            var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            record["state"] = "running"
            record["attempts"] = attempts
            record["hasResult"] = false
            for key in ["finishedAt", "report"] { record.removeValue(forKey: key) }
            try JSONSerialization.data(withJSONObject: record).write(to: file)
        }
        let second = try await ServiceHarness.start(directory: dir) { $0.solve = standInSolver(iterations: 1) }
        defer { Task { await second.stop() } }
        let rerun = try await second.waitFinished(ids[0])
        #expect(rerun.json["status"] as? String == "succeeded" && rerun.json["attempts"] as? Int == 3, "\(rerun.text)")
        let stopped = try await second.waitFinished(ids[1])
        #expect(stopped.json["status"] as? String == "interrupted", "\(stopped.text)")
        #expect((stopped.json["error"] as? [String: Any])?["code"] as? String == "crashed_repeatedly", "\(stopped.text)")
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

/// The submission journal (`JobJournal`): a job acknowledged through it survives a crash before its `.job`
/// file is written, a torn entry after it is ignored, and a deleted job is not brought back by a restart.
@Suite struct JournalRecoveryTests {
    private func record(_ body: Data, sequence: Int) -> JobRecord {
        JobRecord(id: UUID(), sequence: sequence, kind: .solve, state: .queued, createdAt: Date(),
                  input: JobInput(contentType: "application/json", format: "json", bytes: body.count, query: []))
    }

    private func readyStore(_ dir: URL, delay: Double) async throws -> JobStore {
        let store = try JobStore(root: dir, journalDelay: delay)
        _ = store.loadAll()  // replays (nothing) and starts making the first segment
        for _ in 0..<500 where !store.journal.isReady { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(store.journal.isReady)
        return store
    }

    /// What `kill -9` right after the `202` leaves: the entry in the journal (the page cache is the kernel's),
    /// no `.job` file. The data directory is copied at that moment, a half-written entry of a submission
    /// that was never acknowledged is appended to the copy, and a server started on the copy runs the job.
    @Test func journaledJobSurvivesACrashBeforeItsFileIsWritten() async throws {
        let dir = Fixtures.temporaryDirectory()
        let store = try await readyStore(dir, delay: 3600)
        let (a, y) = smallProblem(seed: 51)
        let body = try JSONSerialization.data(withJSONObject: solveRequest(a, y, options: ["solver": "lsqr", "tol": 1e-10]))
        let r = record(body, sequence: 1)
        try store.create(r, body: .data(body))
        let id = r.id.uuidString.lowercased()
        let jobs = dir.appendingPathComponent("jobs")
        #expect(!FileManager.default.fileExists(atPath: jobs.appendingPathComponent("\(id).job").path), "the job went to the journal, not to a file")
        #expect(try store.problem(r.id) == body, "the runner reads a journaled job's problem from memory")

        let crashed = Fixtures.temporaryDirectory()
        try FileManager.default.removeItem(at: crashed)
        try FileManager.default.copyItem(at: dir, to: crashed)
        let segment = crashed.appendingPathComponent("journal/1.wal")
        let written = try Data(contentsOf: segment)
        // The entry's payload is the `.job` file: the body, the record, the trailer.
        let entries = JobJournal.entries(in: written)
        #expect(entries.count == 1 && entries.first?.0 == r.id && entries.first?.1.prefix(body.count) == body)
        let end = JobJournal.headerBytes + JobJournal.entryHeaderBytes + (entries.first?.1.count ?? 0)
        let torn = JobJournal.entry(UUID(), body)
        let handle = try FileHandle(forWritingTo: segment)
        try handle.seek(toOffset: UInt64(end))
        try handle.write(contentsOf: torn.prefix(torn.count / 2))
        try handle.close()

        let second = try await ServiceHarness.start(directory: crashed)
        defer { Task { await second.stop() } }
        let done = try await second.waitFinished(id)
        #expect(done.json["status"] as? String == "succeeded", "\(done.text)")
        #expect(try await second.call("GET", "/v1/jobs/\(id)/solution").status == 200)
        #expect(try await second.call("GET", "/v1/jobs").json["total"] as? Int == 1, "the torn entry was never acknowledged")
        let file = try Data(contentsOf: crashed.appendingPathComponent("jobs/\(id).job"))
        #expect(file.prefix(body.count) == body && file.suffix(8) == Data("LSQJOB01".utf8))
        #expect(!FileManager.default.fileExists(atPath: segment.path), "replayed segments are removed")
    }

    /// Once its `.job` file is written the journal's checkpoint passes the entry: a job deleted after that
    /// (retention) is not brought back by a restart.
    @Test func materializedEntriesAreNotReplayed() async throws {
        let dir = Fixtures.temporaryDirectory()
        let store = try await readyStore(dir, delay: 3600)
        let body = Data(#"{"A":{"format":"coo","shape":[1,1],"rows":[0],"cols":[0],"values":[2]},"y":[4]}"#.utf8)
        let kept = record(body, sequence: 1), deleted = record(body, sequence: 2)
        try store.create(kept, body: .data(body))
        try store.create(deleted, body: .data(body))
        store.journal.materializeNow()
        let jobs = dir.appendingPathComponent("jobs")
        for r in [kept, deleted] {
            let file = try Data(contentsOf: jobs.appendingPathComponent("\(r.id.uuidString.lowercased()).job"))
            #expect(file.prefix(body.count) == body)
        }
        #expect(store.journal.payload(for: kept.id) == nil, "written jobs are no longer held in memory")
        #expect(JobJournal.entries(in: try Data(contentsOf: dir.appendingPathComponent("journal/1.wal"))).isEmpty)
        store.delete(deleted.id)

        let restarted = try JobStore(root: dir)
        let (records, unreadable) = restarted.loadAll()
        #expect(unreadable.isEmpty, "\(unreadable)")
        #expect(records.map(\.id) == [kept.id])
    }
}
