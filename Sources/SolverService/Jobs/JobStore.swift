// SolverService/Jobs/JobStore: the data directory — a few flat files per job, written so that a crash never loses an accepted job.
import Foundation
import Logging
import SparseTensor
#if canImport(Glibc)
import Glibc
#endif

/// Durable job storage under a data directory:
///
/// ```
/// <data>/jobs/<uuid>.job                the request body as received, then the record as accepted and a
///                                       16-byte trailer; fsynced and renamed into place before 202 Accepted
/// <data>/jobs/<uuid>.json               the latest JobRecord (absent until the job first changes state),
///                                       replaced atomically (write-then-rename) on every state change
/// <data>/jobs/<uuid>.solution.npy       x (solve jobs), or <uuid>.product-{indptr,indices,values}.npy (products)
/// <data>/incoming/                      spooled uploads, renamed to <uuid>.job when accepted
/// <data>/journal/<n>.wal                preallocated log of accepted submissions held in memory (`JobJournal`)
/// ```
///
/// **A job exists once its `.job` file exists — or its entry in the journal**, and either alone is enough
/// to run it: a body held in memory is accepted with one `fdatasync` of the journal (its `.job` file is
/// written in the background, and at start-up from the journal if a crash came first); a spooled upload
/// costs two fsyncs (the file, then the `jobs` directory after the rename). Later files are
/// published by write-then-rename *without* an fsync on the request's path — they survive `kill -9`
/// (the page cache is the kernel's) — and finished jobs' files are fsynced in background batches
/// (`BackgroundFlush`). At start-up a `.json` that is missing or unreadable falls back to the record
/// in the `.job` file, and a finished job whose result file is incomplete is treated as interrupted
/// mid-run, so a power loss can at worst make a job run again — never lose it or serve a torn result.
/// Paths are built only from UUIDs the server generated and fixed suffixes — never from anything a
/// client sent.
struct JobStore: Sendable {
    let root: URL
    var jobsDirectory: URL { root.appendingPathComponent("jobs", isDirectory: true) }
    var incomingDirectory: URL { root.appendingPathComponent("incoming", isDirectory: true) }
    let flusher: BackgroundFlush
    /// Where accepted submissions are made durable first (see `JobJournal`).
    let journal: JobJournal

    static let submissionSuffix = ".job"
    static let recordSuffix = ".json"
    static let solutionName = "solution.npy"
    static let productNames = (indptr: "product-indptr.npy", indices: "product-indices.npy", values: "product-values.npy")
    /// Ends every `.job` file, after the record: the record's length (u64 little-endian), then this magic.
    static let trailerMagic = Data("LSQJOB01".utf8)

    /// - Parameter journalDelay: seconds before journaled jobs get their `.job` files (tests make it long).
    init(root: URL, journalDelay: Double = 0.2, logger: Logger = .silent) throws {
        self.root = root
        for dir in [root, root.appendingPathComponent("jobs", isDirectory: true), root.appendingPathComponent("incoming", isDirectory: true)] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        flusher = BackgroundFlush(directory: root.appendingPathComponent("jobs", isDirectory: true), logger: logger)
        journal = JobJournal(directory: root.appendingPathComponent("journal", isDirectory: true),
                             jobsDirectory: root.appendingPathComponent("jobs", isDirectory: true), delay: journalDelay, logger: logger)
    }

    private func prefix(_ id: UUID) -> String { id.uuidString.lowercased() }
    func submissionFile(_ id: UUID) -> URL { jobsDirectory.appendingPathComponent(prefix(id) + Self.submissionSuffix, isDirectory: false) }
    func recordFile(_ id: UUID) -> URL { jobsDirectory.appendingPathComponent(prefix(id) + Self.recordSuffix, isDirectory: false) }
    /// A result file (`solutionName` or one of `productNames`).
    func file(_ id: UUID, _ name: String) -> URL { jobsDirectory.appendingPathComponent(prefix(id) + "." + name, isDirectory: false) }
    private var resultNames: [String] { [Self.solutionName, Self.productNames.indptr, Self.productNames.indices, Self.productNames.values] }

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

    private static func trailer(_ record: JobRecord) throws -> Data {
        var out = try encoder().encode(record)
        withUnsafeBytes(of: UInt64(out.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(trailerMagic)
        return out
    }

    /// Creates the job durably before this returns, so the `202` that follows is a promise the store can keep.
    ///
    /// A body held in memory (up to `JobJournal.maxPayload`) is appended, with its record and trailer, to the
    /// journal: one `fdatasync`; its `.job` file is written in the background (see `JobJournal`).
    /// Otherwise one file — the problem (a spooled upload is appended to in place) followed by the record — is
    /// written under a temporary name and fsynced, then one `rename(2)` publishes it as `<uuid>.job`
    /// and an fsync of the `jobs` directory makes the name durable: two fsyncs. A crash at any point
    /// leaves either no job or a complete one (temporary files are removed at start-up).
    func create(_ record: JobRecord, body: HTTPBody) throws {
        let temporary = jobsDirectory.appendingPathComponent(".\(prefix(record.id))\(Self.submissionSuffix).tmp", isDirectory: false)
        let trailer = try Self.trailer(record)
        switch body {
        case let .data(d):
            if try journal.append(record.id, payload: d + trailer) { return }
        case .empty:
            if try journal.append(record.id, payload: trailer) { return }
        case .file:
            break
        }
        do {
            switch body {
            case let .file(url, _):
                try DurableFile.append(trailer, to: url)
                guard rename(url.path, temporary.path) == 0 else {
                    throw DurableFile.Failure(operation: "rename", path: temporary.path, code: errno)
                }
            case let .data(d):
                var all = d
                all.append(trailer)
                try DurableFile.write(all, to: temporary)
            case .empty:
                try DurableFile.write(trailer, to: temporary)
            }
            try DurableFile.publish(temporary, as: submissionFile(record.id))
        } catch {
            unlink(temporary.path)
            throw error
        }
    }

    /// Replaces the job's record atomically (see `DurableFile.Durability` for how far it reaches).
    func save(_ record: JobRecord, durability: DurableFile.Durability = .full) throws {
        try DurableFile.replace(recordFile(record.id), with: try Self.encoder().encode(record), durability: durability)
    }

    /// Saves a finished job's record without an fsync (it survives `kill -9` at once) and queues it and
    /// `results` for a background flush (it survives a power loss a fraction of a second later; until
    /// then a power loss makes the job run again, see `loadAll`).
    func saveFinished(_ record: JobRecord, results: [String]) throws {
        try save(record, durability: .processCrash)
        flusher.schedule(results.map { file(record.id, $0) } + [recordFile(record.id)])
    }

    /// The `.job` file split into the problem (the request body) and the record as accepted.
    private func submission(_ id: UUID) throws -> (problem: Data, record: JobRecord) {
        let url = submissionFile(id)
        // A journaled job whose `.job` file is not written yet: the same bytes, from memory.
        let all = try journal.payload(for: id) ?? Data(contentsOf: url, options: .alwaysMapped)
        let tail = Self.trailerMagic.count + 8
        guard all.count >= tail, all.suffix(Self.trailerMagic.count).elementsEqual(Self.trailerMagic) else {
            throw ServiceError(.internalServerError, "storage_error", "\(url.lastPathComponent): no job trailer at its end")
        }
        let lengthAt = all.count - tail
        let length = all.withUnsafeBytes { Int(exactly: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: lengthAt, as: UInt64.self))) } ?? -1
        guard length >= 0, length <= lengthAt else {
            throw ServiceError(.internalServerError, "storage_error", "\(url.lastPathComponent): bad record length in its trailer")
        }
        let problemEnd = lengthAt - length
        let record = try Self.decoder().decode(JobRecord.self, from: all.subdata(in: problemEnd..<lengthAt))
        // A slice that starts at index 0 of the mapping: no copy of the body.
        return (all.prefix(problemEnd), record)
    }

    func problem(_ id: UUID) throws -> Data { try submission(id).problem }

    /// Writes a result file: write, rename, no fsync (`saveFinished` queues it for the background flush).
    func writeResult(_ id: UUID, name: String, data: Data) throws {
        try DurableFile.replace(file(id, name), with: data, durability: .processCrash)
    }

    func readResult(_ id: UUID, name: String) throws -> Data {
        try Data(contentsOf: file(id, name), options: .alwaysMapped)
    }

    /// Removes the job: its `.job` file first (from then on it no longer exists, even after a crash),
    /// then its other files (any left behind by a crash are removed at start-up).
    func delete(_ id: UUID) {
        journal.drop(id)
        unlink(submissionFile(id).path)
        unlink(recordFile(id).path)
        for name in resultNames { unlink(file(id, name).path) }
    }

    /// Whether every result file a finished record promises is complete on disk (a power loss before the
    /// background flush can leave a renamed result empty or short).
    private func resultsComplete(_ r: JobRecord) -> Bool {
        let names = r.kind == .solve ? [Self.solutionName] : [Self.productNames.indptr, Self.productNames.indices, Self.productNames.values]
        for name in names {
            guard let data = try? Data(contentsOf: file(r.id, name), options: .alwaysMapped),
                  NPYArray.isComplete(data) else { return false }
        }
        return true
    }

    /// Every job on disk. Removes temporary files, stale spool files and files of jobs that no longer
    /// exist; reports jobs that cannot be read (left in place for inspection).
    ///
    /// A job's record is its `.json` file, or — when that is missing or unreadable (never written, or
    /// lost to a power loss before it was flushed) — the record in its `.job` file. A finished record
    /// whose result file is incomplete comes back as `running` (the recovery policy then re-queues or
    /// interrupts it): the run's outcome never reached the disk.
    func loadAll() -> (records: [JobRecord], unreadable: [String]) {
        let fm = FileManager.default
        var unreadable: [String] = []
        // Jobs acknowledged through the journal get their `.job` files first.
        do { try journal.replay() } catch { unreadable.append("journal: \(error)") }
        defer { journal.prepare() }
        for name in (try? fm.contentsOfDirectory(atPath: incomingDirectory.path)) ?? [] {
            try? fm.removeItem(at: incomingDirectory.appendingPathComponent(name))
        }
        let names = (try? fm.contentsOfDirectory(atPath: jobsDirectory.path)) ?? []
        var jobs = Set<UUID>()
        for name in names where name.hasSuffix(Self.submissionSuffix) {
            let stem = String(name.dropLast(Self.submissionSuffix.count))
            if let id = UUID(uuidString: stem), id.uuidString.lowercased() == stem { jobs.insert(id) }
        }
        for name in names {
            // Temporary files of an interrupted write, and files of jobs without a `.job` file (never
            // accepted, or deleted): never acknowledged or no longer wanted.
            let stem = String(name.prefix(36))
            let owner = UUID(uuidString: stem).flatMap { $0.uuidString.lowercased() == stem ? $0 : nil }
            if owner != nil, name == stem {
                // A folder per job was the layout before `.job` files: left alone, reported.
                unreadable.append("\(name): a job folder in the earlier layout (jobs/<uuid>/job.json); not loaded")
                continue
            }
            if name.hasPrefix(".") || (owner.map { !jobs.contains($0) } ?? false) {
                try? fm.removeItem(at: jobsDirectory.appendingPathComponent(name))
            }
        }
        var records: [JobRecord] = []
        for id in jobs {
            var record: JobRecord?
            if let data = try? Data(contentsOf: recordFile(id)), let r = try? Self.decoder().decode(JobRecord.self, from: data), r.id == id {
                record = r
            } else {
                do {
                    let accepted = try submission(id).record
                    if accepted.id == id { record = accepted } else { unreadable.append("\(prefix(id)): record id \(accepted.id) does not match its file name") }
                } catch {
                    unreadable.append("\(prefix(id)): \(error)")
                }
            }
            guard var r = record else { continue }
            if r.state.isFinished, r.hasResult, !resultsComplete(r) {
                r.state = .running
                r.hasResult = false
                r.report = nil
                r.finishedAt = nil
                r.product?.resultRows = nil
                r.product?.resultColumns = nil
                r.product?.resultNNZ = nil
            }
            records.append(r)
        }
        return (records.sorted { $0.sequence < $1.sequence }, unreadable)
    }
}
