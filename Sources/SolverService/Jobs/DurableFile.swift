// SolverService/Jobs/DurableFile: writes that survive a crash — write a temporary file, fsync, rename, fsync the directory.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// POSIX file operations with the ordering a crash-safe store needs.
///
/// `replace(_:with:)` is atomic: a reader (or a restart after `kill -9` or power loss) sees the old
/// content or the new one, never a mix, because the new bytes are on disk (`fsync`) before the
/// `rename(2)` that publishes them, and the directory entry is on disk (`fsync` of the directory) after it.
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var code: Int32
        var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    /// How far a write must reach before it returns.
    enum Durability {
        /// Survives a process crash (`kill -9`) but maybe not a power loss: the rename is atomic, nothing is fsynced.
        case processCrash
        /// Data and directory entry are on disk.
        case full
    }

    /// Atomically replaces (or creates) `url` with `data`.
    static func replace(_ url: URL, with data: Data, durability: Durability = .full) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp", isDirectory: false)
        try write(data, to: temporary, sync: durability != .processCrash)
        guard rename(temporary.path, url.path) == 0 else {
            let e = errno
            unlink(temporary.path)
            throw Failure(operation: "rename", path: url.path, code: e)
        }
        if durability == .full { try syncDirectory(url.deletingLastPathComponent()) }
    }

    /// Creates `url` with `data` and (by default) flushes it; not atomic on its own: publish it with a rename.
    static func write(_ data: Data, to url: URL, sync: Bool = true) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(operation: "open", path: url.path, code: errno) }
        defer { close(fd) }
        try writeAll(fd, data, path: url.path)
        if sync, fsync(fd) != 0 { throw Failure(operation: "fsync", path: url.path, code: errno) }
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write", path: path, code: errno)
                }
                offset += n
            }
        }
    }

    /// Appends `data` to an existing file (a spooled upload), then flushes the whole file.
    static func append(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: url.path, code: errno) }
        defer { close(fd) }
        try writeAll(fd, data, path: url.path)
        guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: url.path, code: errno) }
    }

    /// Flushes a file that is already written; a file that no longer exists is not an error.
    static func sync(_ url: URL, ignoringMissing: Bool = false) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if ignoringMissing, errno == ENOENT { return }
            throw Failure(operation: "open", path: url.path, code: errno)
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: url.path, code: errno) }
    }

    /// Publishes a written (and, for durability, fsynced) file under its final name and makes the
    /// directory entry durable: `rename(2)`, then `fsync` of the destination directory.
    static func publish(_ from: URL, as to: URL) throws {
        guard rename(from.path, to.path) == 0 else { throw Failure(operation: "rename", path: to.path, code: errno) }
        try syncDirectory(to.deletingLastPathComponent())
    }

    /// Makes the entries of a directory (creations, renames) durable.
    static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: url.path, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: url.path, code: errno) }
    }
}
