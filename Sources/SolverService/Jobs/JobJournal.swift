// SolverService/Jobs/JobJournal: accepted submissions made durable with one fdatasync of a preallocated log, turned into `.job` files in the background.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging
import Synchronization

/// A write-ahead log of accepted submissions.
///
/// Making a new `.job` file durable costs a file creation, an `fsync` of the file and an `fsync` of
/// its directory (on the ext4 disk this service was measured on, about 0.7–0.9 ms). Appending the same
/// bytes to a segment file whose blocks were allocated and zero-filled beforehand needs one
/// `fdatasync`: the file's size and block map do not change, so the file system only writes the data
/// and flushes the device cache (about 0.15–0.2 ms). Concurrent submissions share that flush (group
/// commit): each waits until the log is synced past its own entry, and one `fdatasync` covers every
/// entry written before it started.
///
/// A journaled job is turned into its ordinary `<uuid>.job` file a little later, in batches, off any
/// request's path (written, fsynced, renamed, then the directory fsynced once per batch); then the
/// segment's *checkpoint* — the offset before which every entry has its `.job` file or was deleted —
/// is advanced and synced. At start-up (`replay`) every valid entry past the checkpoint whose `.job`
/// file is missing gets one, the segments are removed, and the store loads as before. Until then the
/// runner reads the problem from memory (`payload(for:)`).
///
/// Segment layout (`<data>/journal/<n>.wal`, `segmentBytes` long):
/// ```
/// [0, 8)     "LSQSEG01"
/// [8, 16)    checkpoint, u64 little-endian (0: none yet, replay from headerBytes)
/// [headerBytes, …) entries: "LSQWAL01", payload length u64, job id (16 bytes), CRC-32 of the payload,
///            CRC-32 of the 36 header bytes before it, then the payload (the `.job` file's bytes);
///            zeros after the last one
/// ```
/// An entry is acknowledged (the `202`) only after an `fdatasync` that covers it and every entry before
/// it, so a torn or missing entry can only follow the acknowledged ones: replay stops at the first
/// entry whose magic, length or checksums do not hold.
final class JobJournal: Sendable {
    static let segmentBytes = 4 << 20
    static let headerBytes = 4096
    static let entryHeaderBytes = 40
    static let segmentMagic = Array("LSQSEG01".utf8)
    static let entryMagic = Array("LSQWAL01".utf8)
    /// Payloads larger than this go the ordinary way (a `.job` file of their own).
    static let maxPayload = 1 << 20

    final class Segment: Sendable {
        let number: Int
        let url: URL
        let fd: Int32
        /// Bytes written (entries end here); only grows, updated after the bytes are in the page cache.
        let written = Atomic<Int>(JobJournal.headerBytes)
        /// Bytes known to be on disk (guarded: one fdatasync at a time).
        let synced = Mutex<Int>(JobJournal.headerBytes)

        init(number: Int, url: URL, fd: Int32) {
            self.number = number
            self.url = url
            self.fd = fd
        }

        deinit { close(fd) }
    }

    private struct Pending {
        var id: UUID
        var payload: Data
        var segment: Segment
        var end: Int
    }

    private struct State {
        var active: Segment?
        var spare: Segment?
        var preparing = false
        var nextNumber = 1
        /// Appended, not yet written as `.job` files, in append order.
        var pending: [Pending] = []
        var byID: [UUID: Data] = [:]
        var dropped: Set<UUID> = []
        var scheduled = false
        /// Segments no longer appended to, removed once everything in them is materialized.
        var retired: [Segment] = []
    }

    let directory: URL
    let jobsDirectory: URL
    private let delay: Double
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "lsq.store.journal", qos: .utility)
    private let logger: Logger

    /// - Parameter delay: seconds to gather a batch of entries before writing their `.job` files.
    init(directory: URL, jobsDirectory: URL, delay: Double = 0.2, logger: Logger) {
        self.directory = directory
        self.jobsDirectory = jobsDirectory
        self.delay = delay
        self.logger = logger
    }

    // MARK: - Appending

    /// Appends a submission and returns once it is on disk; false when the journal cannot take it now
    /// (too large, no segment ready): the caller stores a `.job` file instead.
    func append(_ id: UUID, payload: Data) throws -> Bool {
        guard payload.count <= Self.maxPayload else { return false }
        let total = Self.entryHeaderBytes + payload.count
        let entry = Self.entry(id, payload)
        let placed = try state.withLock { s throws -> (Segment, Int)? in
            if let a = s.active, a.written.load(ordering: .acquiring) + total > Self.segmentBytes {
                s.retired.append(a)
                s.active = nil
            }
            if s.active == nil, let spare = s.spare {
                s.active = spare
                s.spare = nil
            }
            guard let segment = s.active else { return nil }
            let offset = segment.written.load(ordering: .acquiring)
            try Self.pwriteAll(segment.fd, entry, at: offset, path: segment.url.path)
            segment.written.store(offset + total, ordering: .releasing)
            s.pending.append(Pending(id: id, payload: payload, segment: segment, end: offset + total))
            s.byID[id] = payload
            return (segment, offset + total)
        }
        prepareSpareIfNeeded()
        guard let (segment, end) = placed else { return false }
        try segment.synced.withLock { synced in
            guard synced < end else { return }  // another submission's fdatasync covered this entry
            let target = segment.written.load(ordering: .acquiring)
            guard fdatasync(segment.fd) == 0 else { throw DurableFile.Failure(operation: "fdatasync", path: segment.url.path, code: errno) }
            synced = target
        }
        scheduleMaterialize()
        return true
    }

    /// Whether a segment is ready for the next append.
    var isReady: Bool { state.withLock { $0.active != nil || $0.spare != nil } }

    /// The `.job` bytes of a journaled job whose file is not written yet.
    func payload(for id: UUID) -> Data? { state.withLock { $0.byID[id] } }

    /// The job is being deleted: its `.job` file must not be written from the journal any more.
    func drop(_ id: UUID) {
        state.withLock { s in
            if s.byID.removeValue(forKey: id) != nil { s.dropped.insert(id) }
        }
    }

    static func entry(_ id: UUID, _ payload: Data) -> Data {
        var header = Data(entryMagic)
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: id.uuid) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32.checksum(payload).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32.checksum(header).littleEndian) { header.append(contentsOf: $0) }
        return header + payload
    }

    // MARK: - Segments

    private func segmentURL(_ n: Int) -> URL { directory.appendingPathComponent("\(n).wal", isDirectory: false) }

    /// Starts making the first segment in the background (after `replay`); submissions that come
    /// before it is ready are stored as files.
    func prepare() { prepareSpareIfNeeded() }

    private func prepareSpareIfNeeded() {
        let go = state.withLock { s -> Bool in
            let activeHalfFull = s.active.map { $0.written.load(ordering: .relaxed) * 2 > Self.segmentBytes } ?? true
            guard s.spare == nil, !s.preparing, activeHalfFull else { return false }
            s.preparing = true
            return true
        }
        guard go else { return }
        queue.async {
            let n = self.state.withLock { s -> Int in defer { s.nextNumber += 1 }; return s.nextNumber }
            do {
                let segment = try self.makeSegment(n)
                self.state.withLock { $0.spare = segment; $0.preparing = false }
            } catch {
                self.state.withLock { $0.preparing = false }
                self.logger.warning("store: cannot prepare a journal segment (submissions are stored as files meanwhile): \(error)")
            }
        }
    }

    /// A zero-filled, fully allocated segment with its header, durable under its final name.
    private func makeSegment(_ n: Int) throws -> Segment {
        let url = segmentURL(n)
        let temporary = directory.appendingPathComponent(".\(n).wal.tmp", isDirectory: false)
        let fd = open(temporary.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFile.Failure(operation: "open", path: temporary.path, code: errno) }
        do {
            var header = Data(Self.segmentMagic)
            header.append(Data(count: Self.headerBytes - header.count))
            try Self.pwriteAll(fd, header, at: 0, path: temporary.path)
            let zeros = Data(count: 1 << 20)
            var offset = Self.headerBytes
            while offset < Self.segmentBytes {
                let chunk = min(zeros.count, Self.segmentBytes - offset)
                try Self.pwriteAll(fd, zeros.prefix(chunk), at: offset, path: temporary.path)
                offset += chunk
            }
            guard fsync(fd) == 0 else { throw DurableFile.Failure(operation: "fsync", path: temporary.path, code: errno) }
            try DurableFile.publish(temporary, as: url)
        } catch {
            close(fd)
            unlink(temporary.path)
            throw error
        }
        return Segment(number: n, url: url, fd: fd)
    }

    // MARK: - Materializing

    private func scheduleMaterialize() {
        let start = state.withLock { s -> Bool in defer { s.scheduled = true }; return !s.scheduled }
        if start { queue.asyncAfter(deadline: .now() + delay) { self.materialize() } }
    }

    /// Writes every pending entry's `.job` file before returning (shutdown, tests).
    func materializeNow() { queue.sync { self.materialize() } }

    private func materialize() {
        let batch = state.withLock { s -> [Pending] in defer { s.scheduled = false }; return s.pending }
        guard !batch.isEmpty else { return }
        do {
            let dropped = state.withLock { $0.dropped }
            var published = false
            for p in batch where !dropped.contains(p.id) {
                let final = jobsDirectory.appendingPathComponent(p.id.uuidString.lowercased() + JobStore.submissionSuffix, isDirectory: false)
                let temporary = jobsDirectory.appendingPathComponent(".\(p.id.uuidString.lowercased())\(JobStore.submissionSuffix).tmp", isDirectory: false)
                try DurableFile.write(p.payload, to: temporary)
                guard rename(temporary.path, final.path) == 0 else { throw DurableFile.Failure(operation: "rename", path: final.path, code: errno) }
                published = true
            }
            if published { try DurableFile.syncDirectory(jobsDirectory) }
            // The `.job` files are durable: the checkpoints may pass these entries.
            var checkpoints: [ObjectIdentifier: (Segment, Int)] = [:]
            for p in batch { checkpoints[ObjectIdentifier(p.segment)] = (p.segment, p.end) }
            for (segment, end) in checkpoints.values { try Self.writeCheckpoint(segment, end) }
            let finished = state.withLock { s -> [Segment] in
                s.pending.removeFirst(batch.count)
                for p in batch {
                    s.byID[p.id] = nil
                    s.dropped.remove(p.id)
                }
                let live = Set(s.pending.map { ObjectIdentifier($0.segment) })
                let done = s.retired.filter { !live.contains(ObjectIdentifier($0)) }
                s.retired.removeAll { !live.contains(ObjectIdentifier($0)) }
                return done
            }
            for segment in finished { unlink(segment.url.path) }
            if !finished.isEmpty { try DurableFile.syncDirectory(directory) }
        } catch {
            logger.error("store: cannot write journaled jobs as files (retrying; they are safe in the journal): \(error)")
            scheduleMaterialize()
        }
    }

    private static func writeCheckpoint(_ segment: Segment, _ end: Int) throws {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(end).littleEndian) { bytes.append(contentsOf: $0) }
        try pwriteAll(segment.fd, bytes, at: 8, path: segment.url.path)
        guard fdatasync(segment.fd) == 0 else { throw DurableFile.Failure(operation: "fdatasync", path: segment.url.path, code: errno) }
    }

    // MARK: - Start-up

    /// Gives every journaled job that has no `.job` file one (durably), then removes the segments.
    /// Runs before the store loads its jobs. Returns how many jobs came from the journal.
    @discardableResult
    func replay() throws -> Int {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var segments: [(Int, URL)] = []
        for name in try fm.contentsOfDirectory(atPath: directory.path) {
            let url = directory.appendingPathComponent(name, isDirectory: false)
            if name.hasSuffix(".wal"), let n = Int(name.dropLast(4)), n > 0 { segments.append((n, url)) } else { try? fm.removeItem(at: url) }
        }
        segments.sort { $0.0 < $1.0 }
        var restored = 0
        for (_, url) in segments {
            let data = try Data(contentsOf: url, options: .alwaysMapped)
            for (id, payload) in Self.entries(in: data) {
                let name = id.uuidString.lowercased()
                let final = jobsDirectory.appendingPathComponent(name + JobStore.submissionSuffix, isDirectory: false)
                guard !fm.fileExists(atPath: final.path) else { continue }
                let temporary = jobsDirectory.appendingPathComponent(".\(name)\(JobStore.submissionSuffix).tmp", isDirectory: false)
                try DurableFile.write(payload, to: temporary)
                guard rename(temporary.path, final.path) == 0 else { throw DurableFile.Failure(operation: "rename", path: final.path, code: errno) }
                restored += 1
            }
        }
        if restored > 0 { try DurableFile.syncDirectory(jobsDirectory) }
        for (_, url) in segments { unlink(url.path) }
        if !segments.isEmpty { try DurableFile.syncDirectory(directory) }
        state.withLock { s in s.nextNumber = (segments.last?.0 ?? 0) + 1 }
        return restored
    }

    /// The valid entries past a segment's checkpoint, in order, up to the first one that does not check out.
    static func entries(in data: Data) -> [(UUID, Data)] {
        guard data.count >= headerBytes, data.prefix(8).elementsEqual(segmentMagic) else { return [] }
        func u64(_ at: Int) -> UInt64 { data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) } }
        func u32(_ at: Int) -> UInt32 { data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) } }
        let checkpoint = Int(clamping: u64(8))
        var offset = (headerBytes...data.count).contains(checkpoint) ? checkpoint : headerBytes
        var out: [(UUID, Data)] = []
        while offset + entryHeaderBytes <= data.count {
            let start = data.startIndex + offset
            guard data[start..<(start + 8)].elementsEqual(entryMagic),
                  CRC32.checksum(data[start..<(start + 36)]) == u32(offset + 36) else { break }
            let length = Int(clamping: u64(offset + 8))
            guard length <= data.count - offset - entryHeaderBytes else { break }
            let payload = data[(start + entryHeaderBytes)..<(start + entryHeaderBytes + length)]
            guard CRC32.checksum(payload) == u32(offset + 32) else { break }
            let id = data.withUnsafeBytes { raw -> UUID in
                var t: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                withUnsafeMutableBytes(of: &t) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(offset + 16)..<(offset + 32)])) }
                return UUID(uuid: t)
            }
            out.append((id, Data(payload)))
            offset += entryHeaderBytes + length
        }
        return out
    }

    static func pwriteAll(_ fd: Int32, _ data: Data, at offset: Int, path: String) throws {
        try data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DurableFile.Failure(operation: "pwrite", path: path, code: errno)
                }
                done += n
            }
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), to tell a torn journal entry from a whole one.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<D: DataProtocol>(_ bytes: D) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for region in bytes.regions {
                region.withUnsafeBytes { raw in
                    for b in raw { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
                }
            }
        }
        return c ^ 0xFFFF_FFFF
    }
}
