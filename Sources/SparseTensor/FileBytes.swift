// SparseTensor/FileBytes: a whole input file as read-only bytes (memory-mapped), and atomic output files.
import CFileGuard
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The message of the current `errno`.
func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Opens `path` read-only and stats it; the caller closes the descriptor. Errors name the file and the reason
/// ("no such file", or the system's message).
func openForReading(_ path: String) throws(SparseError) -> (fd: Int32, info: stat) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
        let code = errno
        throw .io(path: path, reason: code == ENOENT ? "no such file" : "cannot open: \(errnoDescription(code))")
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
        let reason = "cannot stat: \(errnoDescription())"
        close(fd)
        throw .io(path: path, reason: reason)
    }
    return (fd, info)
}

/// A file's bytes, mapped read-only for the lifetime of the value (no copy; pages come in as the parser touches them).
/// Empty files are not mapped (mmap rejects length 0).
///
/// Another process may change the file while it is read (a pipeline rewriting it with `>`, say). Touching a mapped
/// page past a new, shorter end raises SIGBUS, which would end lsq: the mapping is registered with the truncation
/// guard (`CFileGuard`), which answers such a fault with a zero page. `withBytes` then throws an error that says
/// what happened instead of returning what was parsed — also when the file's size or modification time changed
/// without a fault (a cut inside the last page, or a rewrite in place).
final class MappedFile {
    let path: String
    let count: Int
    private let base: UnsafeMutableRawPointer?
    /// Kept open to compare the file's size and modification time after the read with those at the start.
    private let fd: Int32
    private let opened: stat
    private let guardSlot: Int32

    init(path: String) throws(SparseError) {
        self.path = path
        let (fd, info) = try openForReading(path)
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io(path: path, reason: "not a regular file")
        }
        self.fd = fd
        opened = info
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            guardSlot = -1
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            let reason = "cannot map \(count) bytes: \(errnoDescription())"
            close(fd)
            throw .io(path: path, reason: reason)
        }
        #if canImport(Glibc)
        _ = madvise(p, count, MADV_SEQUENTIAL)
        #endif
        base = p
        guardSlot = lsq_guard_register(p, count)
    }

    deinit {
        lsq_guard_unregister(guardSlot)
        if let base { munmap(base, count) }
        close(fd)
    }

    /// The bytes, valid inside `body` only. Throws `.io` naming the file if it was truncated or rewritten while
    /// `body` read it (whatever `body` returned or threw from what it saw then).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(SparseError) -> R) throws(SparseError) -> R {
        let result: Result<R, SparseError>
        do throws(SparseError) { result = .success(try body(UnsafeRawBufferPointer(start: base, count: count))) } catch { result = .failure(error) }
        var now = stat()
        let statted = fstat(fd, &now) == 0
        let truncated = lsq_guard_faults_in(guardSlot) > 0 || (statted && Int(now.st_size) < count)
        let rewritten = statted && (Int(now.st_size) != count || now.st_mtim.tv_sec != opened.st_mtim.tv_sec
                                    || now.st_mtim.tv_nsec != opened.st_mtim.tv_nsec)
        if truncated || rewritten {
            let sizes = "\(count) bytes when opened, \(statted ? "\(now.st_size) bytes" : "unknown") now"
            throw .io(path: path, reason: "the file \(truncated ? "shrank" : "changed") while it was being read (\(sizes)): "
                      + "another process truncated or rewrote it; nothing was read from it — read it again once it is complete")
        }
        return try result.get()
    }
}

extension Data {
    /// The bytes, with a typed-throwing body.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(SparseError) -> R) throws(SparseError) -> R {
        let result: Result<R, SparseError> = withUnsafeBytes { raw in
            do throws(SparseError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Writes a file atomically: everything goes to a temporary file in the destination's directory, which is
/// renamed over the destination only after a successful close, so a failure leaves nothing at the output path.
final class AtomicFileWriter {
    let destination: URL
    let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var finished = false
    private static let flushThreshold = 1 << 20

    init(destination: URL) throws(SparseError) {
        self.destination = destination
        let directory = destination.deletingLastPathComponent().path
        let name = ".\(destination.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp"
        temporaryPath = (directory as NSString).appendingPathComponent(name)
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw .io(path: destination.path, reason: "cannot create a file in \(directory): \(errnoDescription())")
        }
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    deinit { abandon() }

    /// Appends bytes to the buffer, flushing it when large.
    func write(_ bytes: some Sequence<UInt8>) throws(SparseError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    func write(_ text: String) throws(SparseError) { try write(text.utf8) }

    /// Writes raw memory directly (large arrays), after flushing what is buffered.
    func writeRaw(_ raw: UnsafeRawBufferPointer) throws(SparseError) {
        try flush()
        try writeAll(raw)
    }

    func flush() throws(SparseError) {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        let result: Result<Void, SparseError> = buffer.withUnsafeBytes { raw in
            do throws(SparseError) { try writeAll(raw); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws(SparseError) {
        var offset = 0
        while offset < raw.count {
            let n = posixWrite(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: destination.path, reason: "write failed: \(errnoDescription())")
            }
            offset += n
        }
    }

    /// Flushes, closes and renames the temporary file onto the destination.
    func commit() throws(SparseError) {
        do throws(SparseError) { try flush() } catch { abandon(); throw error }
        finished = true
        guard close(fd) == 0 else {
            unlink(temporaryPath)
            throw .io(path: destination.path, reason: "close failed: \(errnoDescription())")
        }
        guard rename(temporaryPath, destination.path) == 0 else {
            let reason = errnoDescription()
            unlink(temporaryPath)
            throw .io(path: destination.path, reason: "cannot rename the finished file into place: \(reason)")
        }
    }

    /// Closes and deletes the temporary file (idempotent).
    func abandon() {
        guard !finished else { return }
        finished = true
        close(fd)
        unlink(temporaryPath)
    }
}

private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, count)
    #else
    return Darwin.write(fd, p, count)
    #endif
}

/// Runs `body` with an atomic writer for `url`: commits on success, removes the temporary file on any error.
func writeAtomically(to url: URL, _ body: (AtomicFileWriter) throws(SparseError) -> Void) throws(SparseError) {
    let writer = try AtomicFileWriter(destination: url)
    do throws(SparseError) {
        try body(writer)
    } catch {
        writer.abandon()
        throw error
    }
    try writer.commit()
}

/// A temporary path beside `url` for writers that need a path (ZIP archives), renamed into place on success.
func withTemporaryPath(beside url: URL, _ body: (URL) throws(SparseError) -> Void) throws(SparseError) {
    let directory = url.deletingLastPathComponent()
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
    do throws(SparseError) {
        try body(temporary)
    } catch {
        unlink(temporary.path)
        throw error
    }
    guard rename(temporary.path, url.path) == 0 else {
        let reason = errnoDescription()
        unlink(temporary.path)
        throw .io(path: url.path, reason: "cannot rename the finished file into place: \(reason)")
    }
}

/// Calls an API that only `rethrows` (untyped) around a body that throws `SparseError`, restoring the type.
/// Only SparseError can arrive here; anything else would be a bug, reported rather than trapped.
func typedThrows<R>(_ call: () throws -> R) throws(SparseError) -> R {
    do {
        return try call()
    } catch let error as SparseError {
        throw error
    } catch {
        throw .io(path: "", reason: "unexpected error: \(error)")
    }
}

extension Array {
    /// `withUnsafeBytes` with a typed-throwing body.
    func typedBytes<R>(_ body: (UnsafeRawBufferPointer) throws(SparseError) -> R) throws(SparseError) -> R {
        try typedThrows { try withUnsafeBytes { raw in try body(raw) } }
    }

    /// `withUnsafeMutableBytes` with a typed-throwing body.
    mutating func typedMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(SparseError) -> R) throws(SparseError) -> R {
        try typedThrows { try withUnsafeMutableBytes { raw in try body(raw) } }
    }
}
