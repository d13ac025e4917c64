// SparseTensor/MatrixMarketHeader: the banner and size line of a Matrix Market file (NIST, Boisvert, Pozo & Remington 1996).
//
// ```
// %%MatrixMarket matrix coordinate real general      ← banner: object format field symmetry
// % comments …
// m n nnz                                            ← size line (array: m n)
// ```

/// The parsed header of a Matrix Market file.
struct MatrixMarketHeader {
    enum Layout: String { case coordinate, array }
    enum Field: String { case real, integer, pattern }

    var layout: Layout
    var field: Field
    var symmetry: StoredSymmetry
    var rows: Int
    var columns: Int
    /// Stored entries declared (coordinate); for `array` the number of values listed.
    var entries: Int
    /// Byte offset and 1-based line number of the first line after the size line.
    var dataStart: Int
    var dataFirstLine: Int

    var hasValues: Bool { field != .pattern }

    /// Reads the banner, skips comments, reads the size line. `name` is used in messages.
    static func parse(_ b: UnsafePointer<UInt8>, count: Int, name: String,
                      budget: MemoryBudget) throws(SparseError) -> MatrixMarketHeader {
        var pos = 0
        var line = 1
        func readLine() -> Substring? {
            guard pos < count else { return nil }
            let e = TextChunks.nextNewline(b, pos, count)
            let text = String(decoding: UnsafeBufferPointer(start: b + pos, count: e - pos), as: UTF8.self)
            pos = e + 1
            return Substring(text)
        }
        let expectedBanner = "'%%MatrixMarket matrix coordinate|array real|integer|pattern general|symmetric|skew-symmetric'"
        guard let bannerLine = readLine() else {
            throw .malformedFile(file: name, line: 1, reason: "empty file: expected the Matrix Market banner \(expectedBanner)")
        }
        let banner = TextChunks.tokens(bannerLine)
        guard let first = banner.first, first.lowercased() == "%%matrixmarket" else {
            throw .malformedFile(file: name, line: 1,
                                 reason: "expected the Matrix Market banner \(expectedBanner), found \(TextChunks.quote(bannerLine, limit: 60))")
        }
        guard banner.count == 5 else {
            throw .malformedFile(file: name, line: 1,
                                 reason: "the banner needs 4 words after %%MatrixMarket (object format field symmetry), found \(banner.count - 1)")
        }
        let object = banner[1].lowercased(), format = banner[2].lowercased()
        let fieldWord = banner[3].lowercased(), symmetryWord = banner[4].lowercased()
        guard object == "matrix" else {
            if object == "vector" {
                throw .unsupportedFormat(file: name, reason: "Matrix Market object 'vector' is not supported; write a vector as an m × 1 'matrix array' or 'matrix coordinate'")
            }
            throw .malformedFile(file: name, line: 1, reason: "unknown Matrix Market object '\(banner[1])'; expected 'matrix'")
        }
        guard let layout = Layout(rawValue: format) else {
            throw .malformedFile(file: name, line: 1, reason: "unknown Matrix Market format '\(banner[2])'; expected 'coordinate' or 'array'")
        }
        let field: Field
        switch fieldWord {
        case "real", "double": field = .real
        case "integer": field = .integer
        case "pattern": field = .pattern
        case "complex":
            throw .unsupportedFormat(file: name, reason: "complex Matrix Market files are not supported: lsq solves real least-squares problems (field must be real, integer or pattern)")
        default:
            throw .malformedFile(file: name, line: 1, reason: "unknown Matrix Market field '\(banner[3])'; expected real, integer or pattern")
        }
        let symmetry: StoredSymmetry
        switch symmetryWord {
        case "general": symmetry = .general
        case "symmetric": symmetry = .symmetric
        case "skew-symmetric": symmetry = .skewSymmetric
        case "hermitian":
            throw .unsupportedFormat(file: name, reason: "hermitian Matrix Market files are not supported (they are complex); use general, symmetric or skew-symmetric")
        default:
            throw .malformedFile(file: name, line: 1, reason: "unknown Matrix Market symmetry '\(banner[4])'; expected general, symmetric or skew-symmetric")
        }
        if layout == .array && field == .pattern {
            throw .malformedFile(file: name, line: 1, reason: "'array pattern' is not a valid Matrix Market combination (an array lists values)")
        }
        if field == .pattern && symmetry == .skewSymmetric {
            // Each stored entry stands for +1 and its mirror for −1, so a diagonal entry could only be 1 = −1
            // (the reference mmio.c refuses the combination).
            throw .malformedFile(file: name, line: 1, reason: "'pattern skew-symmetric' is not a valid Matrix Market combination (a pattern entry is 1, its mirror would be −1)")
        }

        // Comments and blank lines, then the size line.
        var sizeLine: Substring?
        while let text = readLine() {
            line += 1
            let trimmed = text.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if trimmed.isEmpty || trimmed.first == "%" { continue }
            sizeLine = text
            break
        }
        let expectedSize = layout == .coordinate ? "'rows columns entries'" : "'rows columns'"
        guard let sizeLine else {
            throw .malformedFile(file: name, line: line + 1, reason: "the file ends before the size line \(expectedSize) (truncated?)")
        }
        let sizeTokens = TextChunks.tokens(sizeLine)
        let needed = layout == .coordinate ? 3 : 2
        guard sizeTokens.count == needed else {
            throw .malformedFile(file: name, line: line,
                                 reason: "expected the size line \(expectedSize) (\(needed) integers), found \(TextChunks.quote(sizeLine.prefix(80)))")
        }
        func dimension(_ token: Substring, _ what: String) throws(SparseError) -> Int {
            guard token.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw .malformedFile(file: name, line: line, reason: "\(what) \(TextChunks.quote(token)) in the size line is not a nonnegative integer")
            }
            guard let v = Int(token), v <= Int(Int32.max) else {
                throw .malformedFile(file: name, line: line,
                                     reason: "\(what) \(TextChunks.quote(token)) is too large: lsq supports at most \(Int32.max) (2³¹−1) rows and columns")
            }
            return v
        }
        let rows = try dimension(sizeTokens[0], "row count")
        let columns = try dimension(sizeTokens[1], "column count")
        var entries: Int
        if layout == .coordinate {
            let token = sizeTokens[2]
            guard token.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw .malformedFile(file: name, line: line, reason: "entry count \(TextChunks.quote(token)) in the size line is not a nonnegative integer")
            }
            guard let v = Int(token) else {
                // Larger than Int: certainly beyond any memory budget; say so before anything is allocated.
                let declared = Double(token) ?? .infinity
                throw .exceedsMemoryBudget(what: "reading \(name) (\(token) entries declared at line \(line))",
                                           bytes: StorageBytes.coordinate(nnz: declared), budget: budget.bytes,
                                           detail: "the declared entry count does not even fit a 64-bit integer")
            }
            entries = v
        } else {
            switch symmetry {
            case .general: entries = rows.multipliedReportingOverflow(by: columns).partialValue
            case .symmetric: entries = rows * (rows + 1) / 2
            case .skewSymmetric: entries = rows * max(0, rows - 1) / 2
            }
            if Double(rows) * Double(columns) > Double(Int.max) { entries = Int.max }
        }
        if symmetry != .general && rows != columns {
            throw .malformedFile(file: name, line: line,
                                 reason: "a \(symmetryWord) matrix must be square, but the size line says \(rows) × \(columns)")
        }
        return MatrixMarketHeader(layout: layout, field: field, symmetry: symmetry, rows: rows, columns: columns,
                                  entries: entries, dataStart: min(pos, count), dataFirstLine: line + 1)
    }
}
