// SparseTensor/DirectCSRParsing: Matrix Market coordinate lines parsed straight into CSR slots, with no triplet arrays.
//
// Pass 1 (parallel, chunks claimed dynamically) counts lines and, per worker, the entries of each row (the row
// index is all it parses; symmetric files also need the column for the mirror). Row starts follow by a prefix
// sum, and each worker owns the slots of its own entries in every row. Pass 2 replays the same chunk-to-worker
// assignment and parses every line fully, writing (column, value) into the next slot of its row — the parse
// and the scatter are one pass, and the peak memory is the CSR result plus one row-count array per worker
// (the triplet path needs 16 more bytes per entry). Rows are then sorted and duplicates summed in a canonical
// order, so the result does not depend on which worker took which chunk.

/// Pass 2's line parser: full `row column [value]` lines, collected in a small batch and scattered into CSR
/// slots a batch at a time. (Scattering each line as it is parsed serialises the cache misses on the random
/// rows: the parsing between them keeps the processor from overlapping them. A batch of independent stores
/// lets it keep many misses in flight.)
struct DirectLineParser<I: FixedWidthInteger>: EntryLineParser {
    static var batchSize: Int { 512 }
    let decimal: DecimalParser
    let next: UnsafeMutablePointer<I>          // this worker's next slot in each row
    let indices: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Double>
    let rowLimit: Int
    let columnLimit: Int
    let base: Int
    let hasValues: Bool
    let symmetry: StoredSymmetry
    /// The batch: `batchSize` rows, columns and values (owned by the caller, one per worker).
    let batchRows: UnsafeMutablePointer<Int32>
    let batchColumns: UnsafeMutablePointer<Int32>
    let batchValues: UnsafeMutablePointer<Double>
    var batched = 0

    @inline(__always)
    mutating func parseEntry(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, entry: Int) -> Int {
        guard let line = CoordinateLine.parse(b, start, end, decimal: decimal, rowLimit: rowLimit, columnLimit: columnLimit,
                                              base: base, hasValues: hasValues,
                                              skew: symmetry == .skewSymmetric) else { return -1 }
        batchRows[batched] = Int32(truncatingIfNeeded: line.row)
        batchColumns[batched] = Int32(truncatingIfNeeded: line.column)
        batchValues[batched] = line.value
        batched += 1
        if batched == Self.batchSize { flush() }
        return line.end
    }

    /// Scatters the batch into the rows' next slots (and the mirrors of symmetric entries).
    @inline(__always)
    mutating func flush() {
        if symmetry == .general {
            for k in 0..<batched {
                let r = Int(batchRows[k])
                let p = Int(next[r])
                next[r] = next[r] &+ 1
                indices[p] = batchColumns[k]
                values[p] = batchValues[k]
            }
        } else {
            let sign: Double = symmetry == .skewSymmetric ? -1 : 1
            for k in 0..<batched {
                let r = Int(batchRows[k]), c = Int(batchColumns[k]), x = batchValues[k]
                let p = Int(next[r])
                next[r] = next[r] &+ 1
                indices[p] = Int32(truncatingIfNeeded: c)
                values[p] = x
                if r != c {
                    let q = Int(next[c])
                    next[c] = next[c] &+ 1
                    indices[q] = Int32(truncatingIfNeeded: r)
                    values[q] = sign * x
                }
            }
        }
        batched = 0
    }
}

enum DirectCSRParsing {
    /// Reads the coordinate section into CSR, or returns nil when the entry lines do not number exactly
    /// `header.entries` (the caller then takes the triplet path, which reports the exact line at fault).
    static func read(_ b: UnsafePointer<UInt8>, count: Int, header: MatrixMarketHeader, name: String,
                     options: ReadOptions) throws(SparseError) -> CSRMatrix? {
        let expanded = CoordinateAssembly.expandedBound(stored: header.entries, symmetry: header.symmetry)
        if 2 * expanded < Double(Int32.max) {
            return try read(Int32.self, b, count: count, header: header, name: name, options: options)
        }
        return try read(Int.self, b, count: count, header: header, name: name, options: options)
    }

    private static func read<I: FixedWidthInteger & BitwiseCopyable>(
        _: I.Type, _ b: UnsafePointer<UInt8>, count: Int, header: MatrixMarketHeader, name: String, options: ReadOptions
    ) throws(SparseError) -> CSRMatrix? {
        let m = header.rows, n = header.columns
        let tuning = options.tuning
        let base = options.zeroBased ? 0 : 1
        let mirror = header.symmetry != .general
        var chunks = TextChunks.split(b, start: header.dataStart, end: count, tuning: tuning)
        let workers = min(tuning.workers(chunks: chunks.count),
                          CoordinateAssembly.workers(rowCount: m, entries: Double(header.entries), parallel: tuning.parallel))
        let stride = m + 1
        var counts = [I](repeating: 0, count: workers * stride)
        var owner = [Int](repeating: 0, count: chunks.count)

        // Pass 1: lines, entries, and per-worker row counts.
        try DecimalParser.with { (decimal) throws(SparseError) in
            chunks.withUnsafeMutableBufferPointer { cs in
                counts.withUnsafeMutableBufferPointer { counts in
                    owner.withUnsafeMutableBufferPointer { owner in
                        let queue = ChunkQueue(count: cs.count)
                        Parallelism.run(workers) { w in
                            let c = counts.baseAddress! + w * stride
                            while let k = queue.next() {
                                owner[k] = w
                                countRows(b, &cs[k], c, decimal: decimal, rowLimit: m, columnLimit: n, base: base, mirror: mirror)
                            }
                        }
                    }
                }
            }
        }
        var line = header.dataFirstLine, entry = 0
        for k in chunks.indices {
            chunks[k].firstLine = line
            chunks[k].firstEntry = entry
            line += chunks[k].newlines
            entry += chunks[k].entries
        }
        guard entry == header.entries else { return nil }

        // Row starts; each worker's count for row r becomes its first slot in row r.
        let offsets = counts.withUnsafeMutableBufferPointer { cs in
            CoordinateAssembly.placeRows(cs, rowCount: m, workers: workers)
        }
        let total = offsets[m]
        var indices = uninitializedArray(of: Int32.self, count: max(total, 1))   // pass 2 fills every slot, or throws
        var values = uninitializedArray(of: Double.self, count: max(total, 1))

        // Pass 2: full parse, each worker replaying its own chunks into its own slots.
        let meter = options.progress.map { ProgressMeter(total: count, done: header.dataStart, report: $0) }
        var failures = [LineFailure?](repeating: nil, count: chunks.count)
        try DecimalParser.with { (decimal) throws(SparseError) in
            counts.withUnsafeMutableBufferPointer { cs in
                indices.withUnsafeMutableBufferPointer { idx in
                    values.withUnsafeMutableBufferPointer { val in
                        failures.withUnsafeMutableBufferPointer { out in
                            Parallelism.run(workers) { w in
                                let size = DirectLineParser<I>.batchSize
                                let batchRows = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * size)
                                let batchValues = UnsafeMutablePointer<Double>.allocate(capacity: size)
                                defer {
                                    batchRows.deallocate()
                                    batchValues.deallocate()
                                }
                                var parser = DirectLineParser<I>(
                                    decimal: decimal, next: cs.baseAddress! + w * stride, indices: idx.baseAddress!,
                                    values: val.baseAddress!, rowLimit: m, columnLimit: n, base: base,
                                    hasValues: header.hasValues, symmetry: header.symmetry,
                                    batchRows: batchRows, batchColumns: batchRows + size, batchValues: batchValues)
                                for k in chunks.indices where owner[k] == w {
                                    out[k] = TextChunks.parse(b, chunks[k], comment: .percent, limit: .max, parser: &parser)
                                    parser.flush()
                                    meter?.add(chunks[k].end - chunks[k].start)
                                    if out[k] != nil { break }  // this worker's later chunks hold later lines
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).min() {
            let layout = CoordinateLayout(shape: (m, n), declaredEntries: header.entries, base: base,
                                          hasValues: header.hasValues, skew: header.symmetry == .skewSymmetric,
                                          comment: .percent, kind: "Matrix Market", headerLine: header.dataFirstLine - 1)
            let text = TextChunks.lineText(b, offset: failure.offset, end: count)
            throw .malformedFile(file: name, line: failure.line,
                                 reason: CoordinateText.diagnose(text, line: failure.line, layout: layout))
        }
        counts = []
        if total == 0 {
            indices = []
            values = []
        }
        var storage = CompressedStorage(unchecked: m, n, offsets, indices, values)
        try CoordinateAssembly.canonicalizeLines(&storage, rowMajor: true, parallel: tuning.parallel)
        return CSRMatrix(storage: storage)
    }

    /// Pass 1 for one chunk: newlines, entry lines, and `counts[r + 1] += 1` for each line whose row (and, when
    /// mirrored, column) index parses and is in range. Lines that do not are left to pass 2 to report.
    /// The rows are collected in a small batch and counted a batch at a time, so the cache misses on the
    /// random rows overlap instead of each waiting behind the parsing of a line.
    private static func countRows<I: FixedWidthInteger>(_ b: UnsafePointer<UInt8>, _ chunk: inout TextChunk,
                                                        _ counts: UnsafeMutablePointer<I>, decimal: DecimalParser,
                                                        rowLimit: Int, columnLimit: Int, base: Int, mirror: Bool) {
        let batchSize = 512
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: batchSize) { batch in
            var batched = 0
            func flush() {
                for k in 0..<batched { counts[Int(batch[k]) + 1] &+= 1 }
                batched = 0
            }
            var pos = chunk.start
            let end = chunk.end
            var newlines = 0, entries = 0
            while pos < end {
                while pos < end, ASCII.isBlank(b[pos]) { pos += 1 }
                if pos == end { break }
                let c = b[pos]
                if c != ASCII.newline && c != ASCII.percent {
                    entries += 1
                    var i = pos
                    if let r1 = decimal.parseUnsigned(b, &i, end), i < end, b[i] == ASCII.space || b[i] == ASCII.tab {
                        let r = r1 &- base
                        if r >= 0, r < rowLimit {
                            if mirror {
                                repeat { i += 1 } while i < end && (b[i] == ASCII.space || b[i] == ASCII.tab)
                                if let c1 = decimal.parseUnsigned(b, &i, end) {
                                    let col = c1 &- base
                                    if col >= 0, col < columnLimit {
                                        batch[batched] = Int32(truncatingIfNeeded: r)
                                        batched += 1
                                        if col != r {
                                            batch[batched] = Int32(truncatingIfNeeded: col)
                                            batched += 1
                                        }
                                        if batched >= batchSize - 1 { flush() }
                                    }
                                }
                            } else {
                                batch[batched] = Int32(truncatingIfNeeded: r)
                                batched += 1
                                if batched >= batchSize - 1 { flush() }
                            }
                        }
                    }
                    pos = i
                }
                let nl = TextChunks.nextNewline(b, pos, end)
                if nl < end { newlines += 1 }
                pos = nl + 1
            }
            flush()
            chunk.newlines = newlines
            chunk.entries = entries
        }
    }
}
