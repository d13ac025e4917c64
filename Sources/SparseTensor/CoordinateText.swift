// SparseTensor/CoordinateText: the `row column [value]` lines shared by Matrix Market coordinate and CSparse triplet
// files, and the one-value-per-line lists of Matrix Market arrays and plain-text vectors; parsed in parallel chunks.
import Foundation

/// One `row column [value]` line into slot `entry` of the output triplet arrays.
struct CoordinateLineParser: EntryLineParser {
    let decimal: DecimalParser
    let rows: UnsafeMutablePointer<Int32>
    let columns: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Double>?
    /// Exclusive upper bounds of the 0-based indices.
    let rowLimit: Int
    let columnLimit: Int
    /// 1 for Matrix Market, 0 for 0-based files.
    let base: Int
    let skew: Bool
    var maxRow = -1
    var maxColumn = -1

    @inline(__always)
    mutating func parseEntry(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, entry: Int) -> Int {
        guard let line = CoordinateLine.parse(b, start, end, decimal: decimal, rowLimit: rowLimit, columnLimit: columnLimit,
                                              base: base, hasValues: values != nil, skew: skew) else { return -1 }
        let r = line.row, c = line.column
        values?[entry] = line.value
        rows[entry] = Int32(truncatingIfNeeded: r)
        columns[entry] = Int32(truncatingIfNeeded: c)
        if r > maxRow { maxRow = r }
        if c > maxColumn { maxColumn = c }
        return line.end
    }
}

/// The fast path of one `row column [value]` line, shared by the triplet parser and the direct-to-CSR parser.
enum CoordinateLine {
    /// Parses the line starting at `start`: indices separated by blanks, converted from `base` and checked
    /// against the limits; with `hasValues`, a finite value (which `skew` forbids to be nonzero on the diagonal),
    /// otherwise 1; then only blanks up to the newline. Returns the 0-based entry and the offset of the line's
    /// end, or nil when the line is not exactly that (the slow path in `CoordinateText.diagnose` says why).
    @inline(__always)
    static func parse(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, decimal: DecimalParser,
                      rowLimit: Int, columnLimit: Int, base: Int, hasValues: Bool,
                      skew: Bool) -> (row: Int, column: Int, value: Double, end: Int)? {
        var i = start
        guard let r1 = decimal.parseUnsigned(b, &i, end) else { return nil }
        guard i < end, b[i] == ASCII.space || b[i] == ASCII.tab else { return nil }
        repeat { i += 1 } while i < end && (b[i] == ASCII.space || b[i] == ASCII.tab)
        guard let c1 = decimal.parseUnsigned(b, &i, end) else { return nil }
        let r = r1 &- base, c = c1 &- base
        guard r >= 0, r < rowLimit, c >= 0, c < columnLimit else { return nil }
        var x = 1.0
        if hasValues {
            guard i < end, b[i] == ASCII.space || b[i] == ASCII.tab else { return nil }
            repeat { i += 1 } while i < end && (b[i] == ASCII.space || b[i] == ASCII.tab)
            guard let v = decimal.parseDouble(b, &i, end), v.isFinite else { return nil }
            if skew && r == c && v != 0 { return nil }
            x = v
        }
        while i < end, ASCII.isBlank(b[i]) { i += 1 }
        guard i == end || b[i] == ASCII.newline else { return nil }
        return (r, c, x, i)
    }
}

/// One number per line into slot `entry`.
struct ValueLineParser: EntryLineParser {
    let decimal: DecimalParser
    let values: UnsafeMutablePointer<Double>

    @inline(__always)
    mutating func parseEntry(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, entry: Int) -> Int {
        var i = start
        guard let v = decimal.parseDouble(b, &i, end), v.isFinite else { return -1 }
        while i < end, ASCII.isBlank(b[i]) { i += 1 }
        guard i == end || b[i] == ASCII.newline else { return -1 }
        values[entry] = v
        return i
    }
}

/// Triplets read from text: 0-based, in range, finite.
struct Triplets {
    var rows: [Int32]
    var columns: [Int32]
    /// nil for pattern files (every value is 1).
    var values: [Double]?
    var maxRow: Int
    var maxColumn: Int
    var count: Int { rows.count }
}

/// What a coordinate section looks like, for the parser and its messages.
struct CoordinateLayout {
    /// Declared shape, or nil when it is inferred from the largest indices (triplet files).
    var shape: (rows: Int, columns: Int)?
    /// Declared number of entries, or nil when every line counts.
    var declaredEntries: Int?
    var base: Int
    var hasValues: Bool
    var skew: Bool
    var comment: CommentMarks
    /// Words for messages: "Matrix Market", "triplet".
    var kind: String
    /// Where the declaration is, for "the header at line N declares …".
    var headerLine: Int
}

enum CoordinateText {
    /// Parses the coordinate lines of `start..<end` (the first at line `firstLine`) in parallel chunks.
    /// Budget: the caller checked `declaredEntries`; when it is nil, the counted lines are checked here first.
    static func read(_ b: UnsafePointer<UInt8>, start: Int, end: Int, firstLine: Int, layout: CoordinateLayout,
                     name: String, options: ReadOptions, budgetPerEntry: Double) throws(SparseError) -> Triplets {
        let tuning = options.tuning
        var chunks = TextChunks.split(b, start: start, end: end, tuning: tuning)
        TextChunks.countAll(b, &chunks, firstLine: firstLine, comment: layout.comment, countColons: false, tuning: tuning)
        let counted = chunks.last.map { $0.firstEntry + $0.entries } ?? 0
        if layout.declaredEntries == nil {
            try options.checkEntries(counted, file: name)
            try options.budget.check(budgetPerEntry * Double(counted), for: "reading \(name) (\(counted) entries)")
        }
        let capacity = min(counted, layout.declaredEntries ?? counted)
        // One slot at least, so that every buffer has a base address (nothing is written past `capacity`).
        // Not zero-filled: the parse writes every slot below `capacity`, or fails and the arrays are dropped.
        var rows = uninitializedArray(of: Int32.self, count: max(capacity, 1))
        var columns = uninitializedArray(of: Int32.self, count: max(capacity, 1))
        var values: [Double]? = layout.hasValues ? uninitializedArray(of: Double.self, count: max(capacity, 1)) : nil
        var maxima = [(Int, Int)](repeating: (-1, -1), count: chunks.count)
        let rowLimit = layout.shape?.rows ?? Int(Int32.max)
        let columnLimit = layout.shape?.columns ?? Int(Int32.max)
        let failure: LineFailure? = try DecimalParser.with { (decimal) throws(SparseError) -> LineFailure? in
            rows.withUnsafeMutableBufferPointer { rp in
                columns.withUnsafeMutableBufferPointer { cp in
                    withOptionalMutableBuffer(&values) { vp in
                        maxima.withUnsafeMutableBufferPointer { mx in
                            TextChunks.forEachChunk(chunks, tuning: tuning, totalBytes: end, bytesBefore: start,
                                                    progress: options.progress) { k in
                                var parser = CoordinateLineParser(
                                    decimal: decimal, rows: rp.baseAddress!, columns: cp.baseAddress!,
                                    values: vp?.baseAddress,
                                    rowLimit: rowLimit, columnLimit: columnLimit, base: layout.base, skew: layout.skew)
                                let f = TextChunks.parse(b, chunks[k], comment: layout.comment, limit: capacity, parser: &parser)
                                mx[k] = (parser.maxRow, parser.maxColumn)
                                return f
                            }
                        }
                    }
                }
            }
        }
        if let failure {
            if failure.tooMany, let declared = layout.declaredEntries {
                throw .malformedFile(file: name, line: failure.line,
                                     reason: "more entries than the \(declared) declared in the header at line \(layout.headerLine)")
            }
            let text = TextChunks.lineText(b, offset: failure.offset, end: end)
            throw .malformedFile(file: name, line: failure.line, reason: diagnose(text, line: failure.line, layout: layout))
        }
        if let declared = layout.declaredEntries, counted < declared {
            let lastLine = chunks.last.map { $0.firstLine + $0.newlines } ?? firstLine
            throw .malformedFile(file: name, line: lastLine,
                                 reason: "the header at line \(layout.headerLine) declares \(declared) entries but the file ends after \(counted) (truncated?)")
        }
        let maxRow = maxima.map(\.0).max() ?? -1, maxColumn = maxima.map(\.1).max() ?? -1
        if capacity == 0 {
            rows = []
            columns = []
            if values != nil { values = [] }
        }
        return Triplets(rows: rows, columns: columns, values: values, maxRow: maxRow, maxColumn: maxColumn)
    }

    /// Parses one number per line into exactly `expected` values (or every line when nil), in parallel chunks.
    static func readValues(_ b: UnsafePointer<UInt8>, start: Int, end: Int, firstLine: Int, expected: Int?,
                           comment: CommentMarks, name: String, what: String, headerLine: Int,
                           options: ReadOptions) throws(SparseError) -> [Double] {
        let tuning = options.tuning
        var chunks = TextChunks.split(b, start: start, end: end, tuning: tuning)
        TextChunks.countAll(b, &chunks, firstLine: firstLine, comment: comment, countColons: false, tuning: tuning)
        let counted = chunks.last.map { $0.firstEntry + $0.entries } ?? 0
        if expected == nil {
            try options.budget.check(Double(counted) * 8, for: "reading \(name) (\(counted) values)")
        }
        let capacity = min(counted, expected ?? counted)
        var values = uninitializedArray(of: Double.self, count: max(capacity, 1))
        let failure: LineFailure? = try DecimalParser.with { (decimal) throws(SparseError) -> LineFailure? in
            values.withUnsafeMutableBufferPointer { vp in
                TextChunks.forEachChunk(chunks, tuning: tuning, totalBytes: end, bytesBefore: start,
                                        progress: options.progress) { k in
                    var parser = ValueLineParser(decimal: decimal, values: vp.baseAddress!)
                    return TextChunks.parse(b, chunks[k], comment: comment, limit: capacity, parser: &parser)
                }
            }
        }
        if let failure {
            if failure.tooMany, let expected {
                throw .malformedFile(file: name, line: failure.line,
                                     reason: "more values than the \(expected) \(what) declared in the header at line \(headerLine)")
            }
            let text = TextChunks.lineText(b, offset: failure.offset, end: end)
            throw .malformedFile(file: name, line: failure.line, reason: diagnoseValue(text))
        }
        if let expected, counted < expected {
            let lastLine = chunks.last.map { $0.firstLine + $0.newlines } ?? firstLine
            throw .malformedFile(file: name, line: lastLine,
                                 reason: "the header at line \(headerLine) declares \(expected) \(what) but the file ends after \(counted) (truncated?)")
        }
        if capacity == 0 { values = [] }
        return values
    }

    // MARK: - Messages (slow path: re-reads the bad line)

    /// Why a number token does not parse, or nil when it is a finite number.
    static func valueProblem(_ token: Substring, what: String) -> String? {
        guard let v = TokenText.double(token) else {
            if TokenText.isNonFiniteSpelling(token) {
                return "\(what) \(token) is not finite; values must be finite numbers"
            }
            return "\(what) \(TextChunks.quote(token)) is not a number"
        }
        if !v.isFinite { return "\(what) \(TextChunks.quote(token)) overflows to infinity; values must be finite numbers" }
        return nil
    }

    /// Why an index token is invalid, or nil when it is fine. `limit` is the declared dimension (nil: inferred).
    static func indexProblem(_ token: Substring, what: String, line: Int, limit: Int?, base: Int, kind: String) -> String? {
        let isDigits = !token.isEmpty && token.allSatisfy { $0.isASCII && $0.isNumber }
        if !isDigits {
            if token.first == "-", token.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }), token.count > 1 {
                return "negative \(what) \(token); indices are \(base == 1 ? "1-based" : "0-based") and must be nonnegative"
            }
            if TokenText.double(token) != nil {
                return "\(what) \(TextChunks.quote(token)) is not an integer"
            }
            return "\(what) \(TextChunks.quote(token)) is not a number (expected an integer index)"
        }
        guard let v = Int(token) else {
            return "\(what) \(token) is too large (at most \(Int32.max))"
        }
        if base == 1 && v == 0 {
            return "index 0 at line \(line): \(kind) indices are 1-based; pass zeroBased: true (--zero-based) to read a 0-based file"
        }
        if let limit, v - base >= limit {
            let range = base == 1 ? "1...\(limit)" : "0..<\(limit)"
            return "\(what) \(v) is out of range \(range) (the header declares \(limit) \(what.hasPrefix("row") ? "rows" : "columns"))"
        }
        if limit == nil, v - base >= Int(Int32.max) {
            return "\(what) \(v) is too large: lsq supports at most \(Int32.max) rows and columns"
        }
        return nil
    }

    static func diagnose(_ text: Substring, line: Int, layout: CoordinateLayout) -> String {
        let tokens = TextChunks.tokens(text)
        let expected = layout.hasValues ? 3 : 2
        let fields = layout.hasValues ? "row column value" : "row column"
        if tokens.count < expected {
            return "expected \(expected) fields (\(fields)), found \(tokens.count): \(TextChunks.quote(text, limit: 80)) (truncated line?)"
        }
        if let p = indexProblem(tokens[0], what: "row index", line: line, limit: layout.shape?.rows, base: layout.base, kind: layout.kind) {
            return p
        }
        if let p = indexProblem(tokens[1], what: "column index", line: line, limit: layout.shape?.columns, base: layout.base, kind: layout.kind) {
            return p
        }
        if layout.hasValues, let p = valueProblem(tokens[2], what: "value") { return p }
        if tokens.count > expected {
            let hint = layout.hasValues ? "" : " (a pattern file has no values)"
            return "unexpected field \(TextChunks.quote(tokens[expected])) after \(fields)\(hint); expected \(expected) fields per line"
        }
        if layout.skew, tokens[0] == tokens[1] {
            return "a skew-symmetric matrix has a zero diagonal, but entry (\(tokens[0]), \(tokens[1])) is \(tokens[2])"
        }
        return "cannot parse \(TextChunks.quote(text, limit: 80)) as '\(fields)'"
    }

    static func diagnoseValue(_ text: Substring) -> String {
        let tokens = TextChunks.tokens(text)
        if tokens.count > 1 {
            return "expected one number per line, found \(tokens.count) fields: \(TextChunks.quote(text, limit: 80))"
        }
        if let t = tokens.first, let p = valueProblem(t, what: "value") { return p }
        return "cannot parse \(TextChunks.quote(text, limit: 80)) as a number"
    }
}

/// An array of a trivial type whose elements the caller will all overwrite (skips the zero-filling pass).
/// Large arrays are advised onto transparent huge pages before their first touch: 512 times fewer page faults
/// while the parsers fill them.
func uninitializedArray<T: BitwiseCopyable>(of _: T.Type, count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
        initialized = count
    }
}

/// `madvise(MADV_HUGEPAGE)` on the whole 2 MiB pages inside `buffer` (Linux; a no-op elsewhere or when small).
func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    let hugePage = 2 << 20
    guard buffer.count >= 4 * hugePage, let base = buffer.baseAddress else { return }
    let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
    let end = (Int(bitPattern: base) + buffer.count) & ~(hugePage - 1)
    if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(p, end - start, MADV_HUGEPAGE)
    }
    #endif
}

/// `withUnsafeMutableBufferPointer` on an optional array.
func withOptionalMutableBuffer<T, R>(_ array: inout [T]?, _ body: (UnsafeMutableBufferPointer<T>?) -> R) -> R {
    guard array != nil else { return body(nil) }
    return array!.withUnsafeMutableBufferPointer { body($0) }
}
