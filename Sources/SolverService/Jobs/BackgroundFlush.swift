// SolverService/Jobs/BackgroundFlush: fsyncs finished jobs' files in batches, off the path of any response.
import Foundation
import Logging
import Synchronization

/// Flushes files that were published with `DurableFile.Durability.processCrash` (write, rename, no fsync)
/// to disk a little later, in batches: each pending file is fsynced, then their directory once.
///
/// Until a batch is flushed its files survive a process crash (`kill -9`: the page cache belongs to the
/// kernel) but maybe not a power loss or kernel crash; the store's start-up check (`JobStore.loadAll`)
/// treats a finished job whose result or record did not reach the disk as never finished, so the
/// worst a power loss inside that window does is run the job again. Batching turns k finished jobs
/// into k file fsyncs plus one directory fsync, none of them on a client's critical path.
final class BackgroundFlush: Sendable {
    private struct Pending {
        var files: [URL] = []
        var scheduled = false
    }

    private let directory: URL
    private let delay: Double
    private let pending = Mutex(Pending())
    private let queue = DispatchQueue(label: "lsq.store.flush", qos: .utility)
    private let logger: Logger

    /// - Parameters:
    ///   - directory: the directory whose entries (the renames) are made durable after the files.
    ///   - delay: seconds to gather a batch before flushing it.
    init(directory: URL, delay: Double = 0.2, logger: Logger = .silent) {
        self.directory = directory
        self.delay = delay
        self.logger = logger
    }

    /// Queues files (already renamed into `directory`) for a flush.
    func schedule(_ files: [URL]) {
        guard !files.isEmpty else { return }
        let start = pending.withLock { p -> Bool in
            p.files.append(contentsOf: files)
            defer { p.scheduled = true }
            return !p.scheduled
        }
        if start { queue.asyncAfter(deadline: .now() + delay) { self.flushPending() } }
    }

    /// Flushes everything queued so far before returning (shutdown).
    func flushNow() {
        queue.sync { self.flushPending() }
    }

    private func flushPending() {
        let files = pending.withLock { p -> [URL] in
            defer { p.files = []; p.scheduled = false }
            return p.files
        }
        guard !files.isEmpty else { return }
        do {
            // A file deleted meanwhile (retention, a re-run replacing it) needs no flush.
            for f in files { try DurableFile.sync(f, ignoringMissing: true) }
            try DurableFile.syncDirectory(directory)
        } catch {
            logger.error("store: background flush failed (a power loss may make these jobs run again): \(error)")
        }
    }
}
