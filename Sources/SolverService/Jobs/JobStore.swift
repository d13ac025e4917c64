// SolverService/Jobs/JobStore: the data directory — one folder per job, written so that a crash never loses an accepted job.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Durable job storage under a data directory:
///
/// ```
/// <data>/jobs/<uuid>/problem      the request body as received (fsynced before 202 Accepted)
/// <data>/jobs/<uuid>/job.json     the JobRecord, replaced atomically on every state change
/// <data>/jobs/<uuid>/solution.npy x (solve jobs), or product-{indptr,indices,values}.npy (product jobs)
/// <data>/incoming/                spooled uploads, moved (renamed) into a job folder when accepted
/// ```
/// A job exists once its `job.json` exists: a folder without one is a submission that crashed
/// before `202` was sent, and is removed at start-up. Paths are built only from UUIDs the server
/// generated and fixed file names — never from anything a client sent.
struct JobStore: Sendable {
    let root: URL
    var jobsDirectory: URL { root.appendingPathComponent("jobs", isDirectory: true) }
    var incomingDirectory: URL { root.appendingPathComponent("incoming", isDirectory: true) }

    static let recordName = "job.json"
    static let problemName = "problem"
    static let solutionName = "solution.npy"
    static let productNames = (indptr: "product-indptr.npy", indices: "product-indices.npy", values: "product-values.npy")

    init(root: URL) throws {
        self.root = root
        for dir in [root, jobsDirectory, incomingDirectory] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    func directory(_ id: UUID) -> URL { jobsDirectory.appendingPathComponent(id.uuidString.lowercased(), isDirectory: true) }
    func file(_ id: UUID, _ name: String) -> URL { directory(id).appendingPathComponent(name) }

    private static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    private static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }

    /// Creates the job — its problem (moved from a spool file, or written) and its record — durably
    /// before this returns, so the `202` that follows is a promise the store can keep.
    ///
    /// Both files are written and fsynced in a staging folder (then the folder itself, for their
    /// entries), which one `rename(2)` publishes as `jobs/<uuid>`; then the jobs folder is fsynced.
    /// A crash at any point leaves either no job or a complete one.
    func create(_ record: JobRecord, body: HTTPBody) throws {
        let staging = jobsDirectory.appendingPathComponent(".staging-\(record.id.uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            let problem = staging.appendingPathComponent(Self.problemName)
            switch body {
            case let .file(url, _):
                try DurableFile.sync(url)
                guard rename(url.path, problem.path) == 0 else {
                    throw DurableFile.Failure(operation: "rename", path: problem.path, code: errno)
                }
            case let .data(d):
                try DurableFile.write(d, to: problem)
            case .empty:
                try DurableFile.write(Data(), to: problem)
            }
            try DurableFile.write(try Self.encoder().encode(record), to: staging.appendingPathComponent(Self.recordName))
            try DurableFile.syncDirectory(staging)  // the two entries inside it
            try DurableFile.move(staging, to: directory(record.id))
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Replaces the job's record atomically (see `DurableFile.Durability` for how far it reaches).
    func save(_ record: JobRecord, durability: DurableFile.Durability = .full) throws {
        try DurableFile.replace(file(record.id, Self.recordName), with: try Self.encoder().encode(record), durability: durability)
    }

    func problem(_ id: UUID) throws -> Data {
        try Data(contentsOf: file(id, Self.problemName), options: .alwaysMapped)
    }

    /// Writes a result file (data fsynced; the record saved after it syncs the folder).
    func writeResult(_ id: UUID, name: String, data: Data) throws {
        try DurableFile.replace(file(id, name), with: data, durability: .dataSynced)
    }

    func readResult(_ id: UUID, name: String) throws -> Data {
        try Data(contentsOf: file(id, name), options: .alwaysMapped)
    }

    func delete(_ id: UUID) {
        try? FileManager.default.removeItem(at: directory(id))
    }

    /// Every job on disk. Removes folders of submissions that never completed and stale spool files;
    /// reports records that cannot be read (they are left in place for inspection).
    func loadAll() -> (records: [JobRecord], unreadable: [String]) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: incomingDirectory.path)) ?? [] {
            try? fm.removeItem(at: incomingDirectory.appendingPathComponent(name))
        }
        var records: [JobRecord] = []
        var unreadable: [String] = []
        for name in (try? fm.contentsOfDirectory(atPath: jobsDirectory.path)) ?? [] {
            if name.hasPrefix(".staging-") {
                try? fm.removeItem(at: jobsDirectory.appendingPathComponent(name))  // never acknowledged
                continue
            }
            guard let id = UUID(uuidString: name), id.uuidString.lowercased() == name else { continue }
            let recordURL = file(id, Self.recordName)
            guard fm.fileExists(atPath: recordURL.path) else {
                unreadable.append("\(name): no \(Self.recordName)")
                continue
            }
            do {
                let record = try Self.decoder().decode(JobRecord.self, from: Data(contentsOf: recordURL))
                guard record.id == id else { unreadable.append("\(name): record id \(record.id) does not match its folder"); continue }
                records.append(record)
            } catch {
                unreadable.append("\(name): \(error)")
            }
            // Leftover temporary files from an interrupted replace.
            for entry in (try? fm.contentsOfDirectory(atPath: directory(id).path)) ?? [] where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
                try? fm.removeItem(at: directory(id).appendingPathComponent(entry))
            }
        }
        return (records.sorted { $0.sequence < $1.sequence }, unreadable)
    }
}
