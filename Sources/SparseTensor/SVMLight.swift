// SparseTensor/SVMLight: SVMlight / libsvm text (`y idx:val idx:val … # comment`) → the matrix A and the labels y.
//
// One row per line: a numeric target, then 1-based `index:value` features (`qid:n` is ignored), separated by
// spaces or tabs; `#` starts a comment. The column count is the largest index. Features need not be sorted, but an
// index repeated within a row is an error naming the line (as in libsvm and scikit-learn: such a file is broken,
// and summing the values would hide it). Multilabel targets (`1,0`) and lines without a target are rejected.
import Foundation

/// One SVMlight line: label into `labels[row]`, features into the chunk's slots, the row length into `lengths[row]`.
struct SVMLightLineParser: EntryLineParser {
    let decimal: DecimalParser
    let labels: UnsafeMutablePointer<Double>
    let lengths: UnsafeMutablePointer<Int>
    let columns: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Double>
    let base: Int
    /// Next free feature slot and the end of this chunk's slots.
    var next: Int
    let limit: Int
    var maxColumn = -1

    @inline(__always)
    mutating func parseEntry(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, entry row: Int) -> Int {
        var i = start
        guard let y = decimal.parseDouble(b, &i, end), y.isFinite else { return -1 }
        guard i == end || ASCII.isBlank(b[i]) || b[i] == ASCII.newline || b[i] == ASCII.hash else { return -1 }
        labels[row] = y
        let first = next
        while true {
            while i < end, ASCII.isBlank(b[i]) { i += 1 }
            if i == end || b[i] == ASCII.newline { break }
            if b[i] == ASCII.hash {
                i = TextChunks.nextNewline(b, i, end)
                break
            }
            // qid:n
            if b[i] == 0x71, i + 3 < end, b[i + 1] == 0x69, b[i + 2] == 0x64, b[i + 3] == ASCII.colon {
                i += 4
                guard decimal.parseUnsigned(b, &i, end) != nil else { return -1 }
            } else {
                guard let j1 = decimal.parseUnsigned(b, &i, end), i < end, b[i] == ASCII.colon else { return -1 }
                i += 1
                let j = j1 &- base
                guard j >= 0, j < Int(Int32.max), next < limit,
                      let v = decimal.parseDouble(b, &i, end), v.isFinite else { return -1 }
                columns[next] = Int32(truncatingIfNeeded: j)
                values[next] = v
                next += 1
                if j > maxColumn { maxColumn = j }
            }
            guard i == end || ASCII.isBlank(b[i]) || b[i] == ASCII.newline || b[i] == ASCII.hash else { return -1 }
        }
        lengths[row] = next - first
        return i
    }
}

enum SVMLight {
    static func read(_ raw: UnsafeRawBufferPointer, name: String,
                     options: ReadOptions) throws(SparseError) -> (CSRMatrix, [Double]) {
        guard let base = raw.baseAddress, raw.count > 0 else {
            return (try CSRMatrix.zeros(rowCount: 0, columnCount: 0), [])
        }
        let b = base.assumingMemoryBound(to: UInt8.self)
        let end = raw.count
        let tuning = options.tuning
        var chunks = TextChunks.split(b, start: 0, end: end, tuning: tuning)
        TextChunks.countAll(b, &chunks, firstLine: 1, comment: .hash, countColons: true, tuning: tuning)
        let m = chunks.last.map { $0.firstEntry + $0.entries } ?? 0
        let slots = chunks.last.map { $0.firstColon + $0.colons } ?? 0
        try options.checkEntries(slots, file: name)
        // Labels, row lengths/offsets, and the features (12 B each; sorting is in place).
        try options.budget.check(Double(m) * 16 + 8 + Double(slots) * 12,
                                 for: "reading \(name) (\(m) rows, up to \(slots) features)")
        guard m <= Int(Int32.max) else {
            throw .malformedFile(file: name, line: 0, reason: "\(m) rows: lsq supports at most \(Int32.max) rows")
        }
        var labels = [Double](repeating: 0, count: max(m, 1))
        var lengths = [Int](repeating: 0, count: m + 1)
        var columns = [Int32](repeating: 0, count: max(slots, 1))
        var values = [Double](repeating: 0, count: max(slots, 1))
        var used = [Int](repeating: 0, count: chunks.count)       // features each chunk wrote
        var maxima = [Int](repeating: -1, count: chunks.count)
        let zeroBased = options.zeroBased
        let failure: LineFailure? = try DecimalParser.with { (decimal) throws(SparseError) -> LineFailure? in
            labels.withUnsafeMutableBufferPointer { yp in
                lengths.withUnsafeMutableBufferPointer { lp in
                    columns.withUnsafeMutableBufferPointer { cp in
                        values.withUnsafeMutableBufferPointer { vp in
                            used.withUnsafeMutableBufferPointer { up in
                                maxima.withUnsafeMutableBufferPointer { mx in
                                    TextChunks.forEachChunk(chunks, tuning: tuning, totalBytes: end, bytesBefore: 0,
                                                            progress: options.progress) { k in
                                        let c = chunks[k]
                                        var parser = SVMLightLineParser(
                                            decimal: decimal, labels: yp.baseAddress!, lengths: lp.baseAddress! + 1,
                                            columns: cp.baseAddress!, values: vp.baseAddress!, base: zeroBased ? 0 : 1,
                                            next: c.firstColon, limit: c.firstColon + c.colons)
                                        let f = TextChunks.parse(b, c, comment: .hash, limit: m, parser: &parser)
                                        up[k] = parser.next - c.firstColon
                                        mx[k] = parser.maxColumn
                                        return f
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure {
            let text = TextChunks.lineText(b, offset: failure.offset, end: end)
            throw .malformedFile(file: name, line: failure.line, reason: diagnose(text, line: failure.line, base: zeroBased ? 0 : 1))
        }
        // Close the gaps the `qid:` slots left between chunks, then prefix-sum the row lengths.
        var write = 0
        for k in 0..<chunks.count {
            let from = chunks[k].firstColon, count = used[k]
            if from != write {
                for p in 0..<count {
                    columns[write + p] = columns[from + p]
                    values[write + p] = values[from + p]
                }
            }
            write += count
        }
        columns.removeLast(columns.count - write)
        values.removeLast(values.count - write)
        for r in 0..<m { lengths[r + 1] += lengths[r] }
        if m == 0 { labels = [] }
        let n = (maxima.max() ?? -1) + 1
        var storage = CompressedStorage(unchecked: m, n, lengths, columns, values)
        if let row = CoordinateAssembly.sortLines(&storage, parallel: tuning.parallel) {
            let start = storage.offsets[row], end = storage.offsets[row + 1]
            let repeated = ((start + 1)..<end).first { storage.indices[$0] == storage.indices[$0 - 1] }.map { Int(storage.indices[$0]) } ?? -1
            let line = TextChunks.line(ofEntry: row, b, chunks, comment: .hash) ?? 0
            throw .malformedFile(file: name, line: line, reason: "feature index \(repeated + (zeroBased ? 0 : 1)) appears more than once in row \(row + 1); "
                                 + "each SVMlight feature index may occur once per row (libsvm and scikit-learn refuse such files too; the order does not matter)")
        }
        return (CSRMatrix(storage: storage), labels)
    }

    static func diagnose(_ text: Substring, line: Int, base: Int) -> String {
        let content = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let tokens = TextChunks.tokens(content)
        guard let label = tokens.first else { return "cannot parse \(TextChunks.quote(text, limit: 80))" }
        if label.contains(",") {
            return "multilabel target \(TextChunks.quote(label)) at line \(line): lsq needs exactly one numeric label per row (multilabel SVMlight is not supported)"
        }
        if label.contains(":") {
            return "missing label: the line starts with feature \(TextChunks.quote(label)); every SVMlight line starts with its numeric target y"
        }
        if let p = CoordinateText.valueProblem(label, what: "label") { return p }
        for token in tokens.dropFirst() {
            let parts = token.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                return "feature \(TextChunks.quote(token)) is not 'index:value'"
            }
            if parts[0] == "qid" {
                if !parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) || parts[1].isEmpty {
                    return "qid \(TextChunks.quote(parts[1])) is not a nonnegative integer"
                }
                continue
            }
            if let p = CoordinateText.indexProblem(parts[0], what: "feature index", line: line, limit: nil, base: base, kind: "SVMlight") {
                return p
            }
            if let p = CoordinateText.valueProblem(parts[1], what: "feature value") { return p }
        }
        return "cannot parse \(TextChunks.quote(text, limit: 80)) as 'label index:value …'"
    }

    /// `y_i j:a_ij …` per row, 1-based j.
    static func write(_ a: CSRMatrix, labels y: [Double], to url: URL) throws(SparseError) {
        guard y.count == a.rowCount else {
            throw .dimensionMismatch(operation: "writing SVMlight", expected: "\(a.rowCount) labels (one per row)", got: "\(y.count)")
        }
        try MatrixIO.checkFinite(y, name: url.path)
        try writeAtomically(to: url) { (w) throws(SparseError) in
            let offsets = a.rowOffsets, indices = a.columnIndices, values = a.values
            try TextFormatting.writeInPieces(to: w, count: a.rowCount, offsets: offsets) { rows, out in
                for r in rows {
                    TextFormatting.appendDouble(y[r], to: &out)
                    for p in offsets[r]..<offsets[r + 1] {
                        out.append(ASCII.space)
                        TextFormatting.appendInt(Int(indices[p]) + 1, to: &out)
                        out.append(ASCII.colon)
                        TextFormatting.appendDouble(values[p], to: &out)
                    }
                    out.append(ASCII.newline)
                }
            }
        }
    }
}
