// SparseTensor/TextChunks: line-oriented text split at newlines into chunks that are counted, then parsed, in parallel.
//
// Two passes over the bytes, both parallel over chunks:
// 1. count: newlines (→ each chunk's first line number), entry lines (→ each chunk's first output slot),
//    and for SVMlight the `:` of each line (→ an upper bound on its features);
// 2. parse: every chunk writes straight into its own slots of the shared output arrays.
// The outputs are allocated once, after pass 1, sized by counts checked against the memory budget.
import Foundation

/// One piece of a data section: `start..<end`, beginning at a line start.
struct TextChunk {
    var start: Int
    var end: Int
    /// 1-based number of the line that starts at `start`.
    var firstLine = 0
    /// Newlines inside the chunk.
    var newlines = 0
    /// Entry lines (neither blank nor comment) inside the chunk, and the global index of the first one.
    var entries = 0
    var firstEntry = 0
    /// `:` characters on entry lines outside comments (SVMlight features + `qid:`), and the first slot for them.
    var colons = 0
    var firstColon = 0
}

/// Where a chunk stopped parsing: the first bad line.
struct LineFailure: Comparable {
    /// 1-based line number and the byte offset of the line's first non-blank character.
    var line: Int
    var offset: Int
    /// The line is well formed but is one more entry than the header declares.
    var tooMany: Bool

    static func < (a: LineFailure, b: LineFailure) -> Bool { a.line < b.line }
}

/// Tuning of the chunked readers (internal: tests force tiny chunks or a single thread).
struct ChunkTuning: Sendable {
    /// Upper bound on chunk size; smaller inputs get at least `4 × workers` chunks for balance.
    var chunkBytes = 4 << 20
    /// Lower bound on chunk size (a wake-up of a worker costs about as much as parsing this much).
    var minimumChunkBytes = 256 << 10
    /// Parse on several threads when there is more than one chunk.
    var parallel = true

    /// Threads for `chunks` chunks: `Parallelism.workerCount` (honours `LSQ_THREADS`), at most one per chunk.
    func workers(chunks: Int) -> Int { parallel ? max(1, min(Parallelism.workerCount, chunks)) : 1 }
}

/// Parses one entry line that starts at `i` (its first non-blank byte). Returns the index of the line's
/// terminating newline (or `end`), or -1 when the line is malformed. `entry` is the global entry index.
protocol EntryLineParser {
    mutating func parseEntry(_ b: UnsafePointer<UInt8>, _ i: Int, _ end: Int, entry: Int) -> Int
}

/// The characters that start a comment line (two, so that `#` and `%` can both be accepted).
struct CommentMarks: Sendable {
    var first: UInt8
    var second: UInt8
    init(_ first: UInt8, _ second: UInt8? = nil) {
        self.first = first
        self.second = second ?? first
    }
    @inline(__always) func contains(_ c: UInt8) -> Bool { c == first || c == second }

    static let percent = CommentMarks(ASCII.percent)
    static let hash = CommentMarks(ASCII.hash)
    static let either = CommentMarks(ASCII.hash, ASCII.percent)
}

enum TextChunks {
    /// Splits `start..<end` into chunks that begin right after a newline.
    static func split(_ b: UnsafePointer<UInt8>, start: Int, end: Int, tuning: ChunkTuning) -> [TextChunk] {
        let total = end - start
        guard total > 0 else { return [TextChunk(start: start, end: end)] }
        let pieces = tuning.parallel ? max(1, Parallelism.workerCount * 4) : 1
        let target = max(1, min(tuning.chunkBytes, max(tuning.minimumChunkBytes, total / pieces)))
        var chunks: [TextChunk] = []
        chunks.reserveCapacity(total / target + 2)
        var s = start
        while s < end {
            var e = s + target
            if e >= end {
                e = end
            } else if let nl = memchr(b + e, Int32(ASCII.newline), end - e) {
                e = b.distance(to: nl.assumingMemoryBound(to: UInt8.self)) + 1
            } else {
                e = end
            }
            chunks.append(TextChunk(start: s, end: e))
            s = e
        }
        return chunks
    }

    /// Index of the next newline at or after `i`, or `end`.
    ///
    /// The first 32 bytes are searched eight at a time in registers (SWAR: a byte of x ^ 0x0A… is zero
    /// where b has a newline, and (v − 0x01…) & ~v & 0x80… marks the lowest zero byte of v exactly); the
    /// rest of a longer line by `memchr`. Matrix Market lines are ~30 bytes, and a `memchr` call per line
    /// was 6 % of a parse's samples.
    @inline(__always)
    static func nextNewline(_ b: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var p = i
        let stop = min(end, i + 32)
        while p + 8 <= stop {
            let v = UnsafeRawPointer(b + p).loadUnaligned(as: UInt64.self).littleEndian ^ 0x0A0A_0A0A_0A0A_0A0A
            let zero = (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
            if zero != 0 { return p + zero.trailingZeroBitCount >> 3 }
            p += 8
        }
        guard p < end, let nl = memchr(b + p, Int32(ASCII.newline), end - p) else { return end }
        return b.distance(to: nl.assumingMemoryBound(to: UInt8.self))
    }

    /// Pass 1 for one chunk: newlines and entry lines; with `countColons`, the `:` before any `comment` on entry lines.
    static func count(_ b: UnsafePointer<UInt8>, _ chunk: inout TextChunk, comment: CommentMarks, countColons: Bool) {
        var pos = chunk.start
        let end = chunk.end
        var newlines = 0, entries = 0, colons = 0
        while pos < end {
            while pos < end, ASCII.isBlank(b[pos]) { pos += 1 }
            if pos == end { break }
            let c = b[pos]
            if c != ASCII.newline, !comment.contains(c) { entries += 1 }
            if countColons, c != ASCII.newline, !comment.contains(c) {
                while pos < end {
                    let d = b[pos]
                    if d == ASCII.newline || comment.contains(d) { break }
                    if d == ASCII.colon { colons += 1 }
                    pos += 1
                }
            }
            let nl = nextNewline(b, pos, end)
            if nl < end { newlines += 1 }
            pos = nl + 1
        }
        chunk.newlines = newlines
        chunk.entries = entries
        chunk.colons = colons
    }

    /// Pass 1 over all chunks, then prefix sums of lines, entries and colons. `firstLine` is the data's first line.
    static func countAll(_ b: UnsafePointer<UInt8>, _ chunks: inout [TextChunk], firstLine: Int,
                         comment: CommentMarks, countColons: Bool, tuning: ChunkTuning) {
        chunks.withUnsafeMutableBufferPointer { cs in
            let n = cs.count
            let queue = ChunkQueue(count: n)
            Parallelism.run(tuning.workers(chunks: n)) { _ in
                while let k = queue.next() { count(b, &cs[k], comment: comment, countColons: countColons) }
            }
            var line = firstLine, entry = 0, colon = 0
            for k in 0..<n {
                cs[k].firstLine = line
                cs[k].firstEntry = entry
                cs[k].firstColon = colon
                line += cs[k].newlines
                entry += cs[k].entries
                colon += cs[k].colons
            }
        }
    }

    /// Pass 2 for one chunk: calls `parser` on each entry line. Stops at the first malformed line, or at the
    /// line that would be entry number `limit` (a file with more entries than declared).
    @inline(__always)
    static func parse<P: EntryLineParser>(_ b: UnsafePointer<UInt8>, _ chunk: TextChunk, comment: CommentMarks,
                                          limit: Int, parser: inout P) -> LineFailure? {
        var pos = chunk.start
        let end = chunk.end
        var line = chunk.firstLine
        var entry = chunk.firstEntry
        while pos < end {
            while pos < end, ASCII.isBlank(b[pos]) { pos += 1 }
            if pos == end { break }
            let c = b[pos]
            if c == ASCII.newline {
                pos += 1
                line += 1
                continue
            }
            if comment.contains(c) {
                pos = nextNewline(b, pos, end) + 1
                line += 1
                continue
            }
            if entry >= limit { return LineFailure(line: line, offset: pos, tooMany: true) }
            let next = parser.parseEntry(b, pos, end, entry: entry)
            if next < 0 { return LineFailure(line: line, offset: pos, tooMany: false) }
            entry += 1
            pos = next + 1
            line += 1
        }
        return nil
    }

    /// The 1-based line number of entry line `entry` (0-based, counted as `parse` counts them), found by walking its
    /// chunk again: for error messages about an entry that was parsed without error.
    static func line(ofEntry entry: Int, _ b: UnsafePointer<UInt8>, _ chunks: [TextChunk], comment: CommentMarks) -> Int? {
        guard let chunk = chunks.first(where: { entry >= $0.firstEntry && entry < $0.firstEntry + $0.entries }) else { return nil }
        var pos = chunk.start
        var line = chunk.firstLine
        var current = chunk.firstEntry
        while pos < chunk.end {
            while pos < chunk.end, ASCII.isBlank(b[pos]) { pos += 1 }
            if pos == chunk.end { break }
            let c = b[pos]
            if c != ASCII.newline && !comment.contains(c) {
                if current == entry { return line }
                current += 1
            }
            pos = c == ASCII.newline ? pos + 1 : nextNewline(b, pos, chunk.end) + 1
            line += 1
        }
        return nil
    }

    /// Runs `body(k)` for every chunk, in parallel when tuned so, and reports progress after each chunk.
    /// Returns the earliest failure any chunk reported.
    static func forEachChunk(_ chunks: [TextChunk], tuning: ChunkTuning, totalBytes: Int, bytesBefore: Int,
                             progress: (@Sendable (Int, Int) -> Void)?,
                             _ body: (Int) -> LineFailure?) -> LineFailure? {
        var failures = [LineFailure?](repeating: nil, count: chunks.count)
        let meter = progress.map { ProgressMeter(total: totalBytes, done: bytesBefore, report: $0) }
        let n = chunks.count
        let queue = ChunkQueue(count: n)
        failures.withUnsafeMutableBufferPointer { out in
            // Workers claim chunks in order, so a worker slowed down by the rest of the machine just takes fewer.
            // After a failure, chunks further on are skipped (they can only hold later lines).
            Parallelism.run(tuning.workers(chunks: n)) { _ in
                while let k = queue.next() {
                    out[k] = body(k)
                    meter?.add(chunks[k].end - chunks[k].start)
                    if out[k] != nil { queue.stop(after: k) }
                }
            }
        }
        return failures.compactMap { $0 }.min()
    }

    /// The text of the line containing byte `offset` (without the newline), for messages.
    static func lineText(_ b: UnsafePointer<UInt8>, offset: Int, end: Int) -> Substring {
        var s = offset
        while s > 0, b[s - 1] != ASCII.newline { s -= 1 }
        let e = nextNewline(b, offset, end)
        let text = String(decoding: UnsafeBufferPointer(start: b + s, count: e - s), as: UTF8.self)
        return Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Blank-separated tokens of a line (messages only).
    static func tokens(_ line: Substring) -> [Substring] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
    }

    /// A token shortened for messages.
    static func quote(_ token: Substring, limit: Int = 40) -> String {
        token.count <= limit ? "'\(token)'" : "'\(token.prefix(limit))…'"
    }
}

/// Hands out chunk numbers 0, 1, 2, … to worker threads (dynamic scheduling), up to an optional stop.
final class ChunkQueue {
    private let lock = NSLock()
    private var nextChunk = 0
    private var end: Int

    init(count: Int) { end = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextChunk < end else { return nil }
        nextChunk += 1
        return nextChunk - 1
    }

    /// No chunk after `k` is handed out any more.
    func stop(after k: Int) {
        lock.lock()
        end = min(end, k + 1)
        lock.unlock()
    }
}

/// Cumulative progress across worker threads, reported in nondecreasing order.
final class ProgressMeter {
    private let lock = NSLock()
    private var done: Int
    private let total: Int
    private let report: @Sendable (Int, Int) -> Void

    init(total: Int, done: Int, report: @escaping @Sendable (Int, Int) -> Void) {
        self.total = total
        self.done = done
        self.report = report
    }

    func add(_ bytes: Int) {
        lock.lock()
        done += bytes
        report(min(done, total), total)
        lock.unlock()
    }
}
