// SparseTensorTests/IOBadInputTests: every reader rejects bad input with a SparseError naming file, line (or array)
// and what was expected — and checks declared sizes against the memory budget before allocating.
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Bad input")
struct IOBadInputTests {
    static let head = "%%MatrixMarket matrix coordinate real general\n% a comment\n3 2 3\n"

    // MARK: - Matrix Market entries

    @Test("maxEntries: refused from what each format declares or counts, before parsing; at the limit, read")
    func entryLimit() throws {
        let a = RandomSparse.matrix(rows: 40, columns: 30, density: 0.2, seed: 8)
        let dir = Fixtures.temporaryDirectory()
        var files: [(MatrixFileFormat, Data)] = []
        for (format, ext) in [(MatrixFileFormat.matrixMarket, "mtx"), (.npz, "npz"), (.binary, "lsqb"), (.triplet, "tri")] {
            let url = dir.appendingPathComponent("A.\(ext)")
            try MatrixIO.writeMatrix(a, to: url, format: format)
            files.append((format, try Data(contentsOf: url)))
        }
        let svm = dir.appendingPathComponent("A.svm")
        try MatrixIO.writeSVMLight(a, labels: [Double](repeating: 1, count: 40), to: svm)
        files.append((.svmlight, try Data(contentsOf: svm)))
        for (format, data) in files {
            var options = ReadOptions()
            options.maxEntries = a.nnz - 1
            #expect(throws: SparseError.tooManyEntries(file: "A", entries: a.nnz, limit: a.nnz - 1), "\(format)") {
                try MatrixIO.readMatrix(data: data, format: format, name: "A", options: options)
            }
            options.maxEntries = a.nnz
            #expect(try MatrixIO.readMatrix(data: data, format: format, name: "A", options: options).matrix == a, "\(format)")
        }
        // A header declaring 5·10⁷ entries over a one-line body: refused for the declaration, not parsed as truncated.
        var options = ReadOptions()
        options.maxEntries = 1000
        let declared = Data("%%MatrixMarket matrix coordinate real general\n10000 10000 50000000\n1 1 1.0\n".utf8)
        #expect(throws: SparseError.tooManyEntries(file: "A", entries: 50_000_000, limit: 1000)) {
            try MatrixIO.readMatrix(data: declared, format: .matrixMarket, name: "A", options: options)
        }
    }

    @Test("Out-of-range, zero and negative indices")
    func indices() {
        expectMalformed(line: 5, ["row index 4", "out of range 1...3", "3 rows"], file: "test.mtx") { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n4 1 2\n3 2 3\n")
        }
        expectMalformed(line: 6, ["column index 3", "out of range 1...2"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1 2\n3 3 3\n")
        }
        expectMalformed(line: 4, ["index 0 at line 4", "1-based", "zeroBased"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 0 1\n2 1 2\n3 2 3\n")
        }
        expectMalformed(line: 5, ["negative row index -2"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n-2 1 2\n3 2 3\n")
        }
        expectMalformed(line: 4, ["row index 3", "out of range 0..<3"]) { () throws(SparseError) in
            _ = try readText(Self.head + "3 1 1\n", options: ReadOptions(zeroBased: true))
        }
        expectMalformed(line: 4, ["row index 99999999999999999999999", "too large"]) { () throws(SparseError) in
            _ = try readText(Self.head + "99999999999999999999999 1 1\n")
        }
    }

    @Test("NaN and infinite values", arguments: ["nan", "NaN", "-inf", "Infinity", "1e999"])
    func nonFinite(_ token: String) {
        expectMalformed(line: 5, ["value", "finite"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1 \(token)\n3 2 3\n")
        }
    }

    @Test("Non-numeric tokens, missing and extra fields")
    func tokens() {
        expectMalformed(line: 5, ["value 'abc' is not a number"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1 abc\n3 2 3\n")
        }
        expectMalformed(line: 5, ["column index '1.5' is not an integer"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1.5 2\n3 2 3\n")
        }
        expectMalformed(line: 5, ["row index 'x2'", "not a number"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\nx2 1 2\n3 2 3\n")
        }
        expectMalformed(line: 5, ["expected 3 fields", "found 2"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1\n3 2 3\n")
        }
        expectMalformed(line: 5, ["unexpected field '9'"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1 2 9\n3 2 3\n")
        }
        expectMalformed(line: 3, ["unexpected field '2.5'", "pattern"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1 2.5\n")
        }
        expectMalformed(line: 4, ["skew-symmetric", "zero diagonal"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 2\n2 1 1\n2 2 5\n")
        }
    }

    @Test("Header entry count differs from the entries present")
    func entryCount() {
        expectMalformed(line: 7, ["more entries than the 3 declared", "line 3"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1 2\n3 2 3\n1 2 4\n")
        }
        expectMalformed(line: 6, ["declares 3 entries", "ends after 2", "truncated"]) { () throws(SparseError) in
            _ = try readText(Self.head + "1 1 1\n2 1 2\n")
        }
        // The same with tiny chunks, so that the count spans several chunks.
        var many = Self.head.replacingOccurrences(of: "3 2 3\n", with: "3 2 50\n")
        for k in 0..<49 { many += "\(k % 3 + 1) \(k % 2 + 1) \(k)\n" }
        // The line reported is where the file ends: the empty line after the final newline.
        expectMalformed(line: 53, ["declares 50 entries", "ends after 49"]) { () throws(SparseError) in
            _ = try readText(many, options: .tinyChunks(16))
        }
        many += "1 1 1\n1 1 1\n"
        expectMalformed(line: 54, ["more entries than the 50 declared"]) { () throws(SparseError) in
            _ = try readText(many, options: .tinyChunks(16))
        }
    }

    @Test("Truncated files: mid-line, before the size line, empty")
    func truncated() throws {
        let full = try String(contentsOf: Fixtures.shared("west0067.mtx"), encoding: .utf8)
        let lines = full.split(separator: "\n", omittingEmptySubsequences: false)
        // Cut inside the value of the 40th line (keeping its row and column).
        let lineNumber = 40
        let cutLine = lines[lineNumber - 1]
        let fields = cutLine.split(separator: " ")
        let text = lines[0..<(lineNumber - 1)].joined(separator: "\n") + "\n" + fields[0] + " " + fields[1]
        expectMalformed(line: lineNumber, ["expected 3 fields", "truncated line"]) { () throws(SparseError) in
            _ = try readText(text, name: "west0067.mtx")
        }
        // Cut after a complete line: too few entries.
        let text2 = lines[0..<lineNumber].joined(separator: "\n") + "\n"
        expectMalformed(line: lineNumber + 1, ["declares 294 entries", "truncated"]) { () throws(SparseError) in
            _ = try readText(text2, name: "west0067.mtx")
        }
        expectMalformed(line: 3, ["ends before the size line"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real general\n% only a comment\n")
        }
        expectMalformed(line: 1, ["empty file"]) { () throws(SparseError) in
            _ = try readText("")
        }
        expectMalformed(line: 1, ["expected the Matrix Market banner"]) { () throws(SparseError) in
            _ = try readText("3 2 1\n1 1 1\n")
        }
        expectMalformed(line: 2, ["size line", "3 integers"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real general\n3 2\n")
        }
        expectMalformed(line: 2, ["row count 'x'", "not a nonnegative integer"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real general\nx 2 1\n")
        }
        expectMalformed(line: 2, ["too large", "2147483647"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real general\n3000000000 2 1\n")
        }
    }

    // MARK: - Memory budget, checked before allocating

    @Test("Declared sizes beyond the budget or beyond Int fail before allocating")
    func budget() {
        let small = ReadOptions(budget: MemoryBudget(bytes: 10_000))
        for (text, what) in [
            ("%%MatrixMarket matrix coordinate real general\n1000 1000 1000\n", "1000 entries declared"),
            ("%%MatrixMarket matrix coordinate real general\n2147483647 2147483647 1\n", "2147483647 × 2147483647"),
            ("%%MatrixMarket matrix array real general\n1000 1000\n", "dense 1000 × 1000"),
        ] {
            let error = expectSparseError { () throws(SparseError) in _ = try readText(text, options: small) }
            guard case let .exceedsMemoryBudget(w, bytes, budget, _) = error else {
                Issue.record("expected exceedsMemoryBudget, got \(String(describing: error))"); continue
            }
            #expect(w.contains(what) && w.contains("test.mtx") && budget == 10_000 && bytes > 10_000, "\(w)")
        }
        // Astronomical declarations with the default budget: would crash if anything were allocated first.
        for text in ["%%MatrixMarket matrix coordinate real general\n2000000000 2000000000 1000000000000000000\n",
                     "%%MatrixMarket matrix coordinate real general\n5 5 99999999999999999999999999\n",
                     "%%MatrixMarket matrix array real general\n2000000000 2000000000\n"] {
            let error = expectSparseError { () throws(SparseError) in _ = try readText(text) }
            guard case .exceedsMemoryBudget = error else {
                Issue.record("expected exceedsMemoryBudget, got \(String(describing: error))"); continue
            }
        }
        // Vectors: dense length.
        let error = expectSparseError { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("%%MatrixMarket matrix array real general\n2000000000 1\n".utf8), name: "y.mtx",
                                        options: small)
        }
        guard case let .exceedsMemoryBudget(w, _, _, _) = error else {
            Issue.record("expected exceedsMemoryBudget, got \(String(describing: error))"); return
        }
        #expect(w.contains("y.mtx") && w.contains("2000000000"))
        let npy = NPY.header(descr: "<f8", shape: [1 << 40]) + [UInt8](repeating: 0, count: 16)
        let e2 = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readVector(data: Data(npy), name: "y.npy") }
        guard case .exceedsMemoryBudget = e2 else { Issue.record("expected exceedsMemoryBudget, got \(String(describing: e2))"); return }
        // Triplet and SVMlight files have no header: their counted lines are checked before the arrays exist.
        let e3 = expectSparseError { () throws(SparseError) in
            _ = try readText(String(repeating: "0 0 1\n", count: 1000), format: .triplet, name: "t.tri", options: small)
        }
        guard case .exceedsMemoryBudget = e3 else { Issue.record("expected exceedsMemoryBudget, got \(String(describing: e3))"); return }
        let e4 = expectSparseError { () throws(SparseError) in
            _ = try readText(String(repeating: "1 1:1 2:2\n", count: 1000), format: .svmlight, name: "s.svm", options: small)
        }
        guard case .exceedsMemoryBudget = e4 else { Issue.record("expected exceedsMemoryBudget, got \(String(describing: e4))"); return }
    }

    // MARK: - Unsupported variants

    @Test("Complex, hermitian, vector objects and invalid combinations")
    func unsupported() {
        for (banner, fragment) in [("matrix coordinate complex general", "complex"), ("matrix coordinate real hermitian", "hermitian"),
                                   ("vector coordinate real general", "'vector'")] {
            let error = expectSparseError { () throws(SparseError) in
                _ = try readText("%%MatrixMarket \(banner)\n2 2 1\n1 1 1 0\n")
            }
            guard case let .unsupportedFormat(file, reason) = error else {
                Issue.record("expected unsupportedFormat for \(banner), got \(String(describing: error))"); continue
            }
            #expect(file == "test.mtx" && reason.contains(fragment), "\(reason)")
        }
        expectMalformed(line: 1, ["pattern skew-symmetric"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate pattern skew-symmetric\n2 2 2\n1 1\n2 1\n")
        }
        expectMalformed(line: 1, ["array pattern"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix array pattern general\n2 2\n")
        }
        expectMalformed(line: 1, ["unknown Matrix Market field 'quaternion'"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate quaternion general\n2 2 1\n")
        }
        expectMalformed(line: 2, ["must be square", "3 × 2"]) { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real symmetric\n3 2 1\n1 1 1\n")
        }
        expectMalformed(line: 2, ["expected a vector", "2 × 2"]) { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n".utf8), name: "y.mtx")
        }
        let error = expectSparseError { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: URL(fileURLWithPath: "/tmp/whatever.dat"))
        }
        if case let .io(path, reason) = error { #expect(path == "/tmp/whatever.dat" && reason.contains("no such file")) } else {
            Issue.record("expected .io, got \(String(describing: error))")
        }
    }

    // MARK: - .npz

    /// Writes an archive of the given arrays (key, descr, shape, raw bytes).
    static func archive(_ dir: ScratchDirectory, _ name: String, _ arrays: [(String, String, [Int], [UInt8])]) throws -> URL {
        let url = dir.file(name)
        try NPZ.writeArchive(to: url, compressed: false) { (add) throws(SparseError) in
            for (key, descr, shape, bytes) in arrays {
                try bytes.typedBytes { (raw) throws(SparseError) in try add(key, descr, shape, raw) }
            }
        }
        return url
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// A valid 2 × 3 csr: [[1, 0, 2], [0, 3, 0]].
    static func csrArrays(indptr: [Int32] = [0, 2, 3], indices: [Int32] = [0, 2, 1], data: [Double] = [1, 2, 3],
                          shape: [Int64] = [2, 3], format: String = "csr") -> [(String, String, [Int], [UInt8])] {
        [("indptr", "<i4", [indptr.count], bytes(indptr)), ("indices", "<i4", [indices.count], bytes(indices)),
         ("data", "<f8", [data.count], bytes(data)), ("shape", "<i8", [2], bytes(shape)),
         ("format", "|S\(format.utf8.count)", [], Array(format.utf8))]
    }

    @Test("npz: an entry holding more than its .npy header declares is refused at its first surplus chunk (a zip bomb)")
    func npzSurplus() throws {
        let dir = ScratchDirectory()
        let url = dir.file("bomb.npz")
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        try NPZ.writeArchive(to: url, compressed: true) { (add) throws(SparseError) in
            for (key, descr, shape, bytes) in Self.csrArrays() where key != "format" {
                try bytes.typedBytes { (raw) throws(SparseError) in try add(key, descr, shape, raw) }
            }
            // 'format' declares 3 bytes and holds 64 MB of deflated zeros.
            try zeros.typedBytes { (raw) throws(SparseError) in try add("format", "|S3", [], raw) }
        }
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? .max
        #expect(size < 1 << 20)
        let error = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: url) }
        #expect(error.map { "\($0)".contains("array 'format': the entry holds more than the") } == true, "\(String(describing: error))")
    }

    @Test("npz: the valid baseline reads")
    func npzBaseline() throws {
        let dir = ScratchDirectory()
        let url = try Self.archive(dir, "ok.npz", Self.csrArrays())
        #expect(try MatrixIO.readMatrix(at: url).matrix.dense() == [[1, 0, 2], [0, 3, 0]])
        // `format` as a unicode string ('<U3', UTF-32LE), int32 `shape`, float32 data: also what numpy may write.
        let unicode = try Self.archive(dir, "u.npz", Self.csrArrays().map { a in
            switch a.0 {
            case "format": return ("format", "<U3", [], Self.bytes("csr".unicodeScalars.map { UInt32($0.value) }))
            case "shape": return ("shape", "<i4", [2], Self.bytes([Int32(2), 3]))
            case "data": return ("data", "<f4", [3], Self.bytes([Float(1), 2, 3]))
            default: return a
            }
        })
        #expect(try MatrixIO.readMatrix(at: unicode).matrix.dense() == [[1, 0, 2], [0, 3, 0]])
    }

    @Test("npz: each missing array is named", arguments: ["indptr", "indices", "data", "shape", "format"])
    func npzMissing(_ key: String) throws {
        let dir = ScratchDirectory()
        let url = try Self.archive(dir, "m.npz", Self.csrArrays().filter { $0.0 != key })
        expectMalformed(line: 0, ["missing array '\(key)'"], file: url.path) { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: url)
        }
    }

    @Test("npz: coo without row or col")
    func npzCooMissing() throws {
        let dir = ScratchDirectory()
        let base: [(String, String, [Int], [UInt8])] = [
            ("row", "<i4", [2], Self.bytes([Int32(0), 1])), ("col", "<i4", [2], Self.bytes([Int32(2), 0])),
            ("data", "<f8", [2], Self.bytes([1.0, 2.0])), ("shape", "<i8", [2], Self.bytes([Int64(2), 3])),
            ("format", "|S3", [], Array("coo".utf8)),
        ]
        let ok = try Self.archive(dir, "ok.npz", base)
        #expect(try MatrixIO.readMatrix(at: ok).matrix.dense() == [[0, 0, 1], [2, 0, 0]])
        for key in ["row", "col"] {
            let url = try Self.archive(dir, "no\(key).npz", base.filter { $0.0 != key })
            expectMalformed(line: 0, ["missing array '\(key)'"]) { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: url) }
        }
        let long = try Self.archive(dir, "long.npz", base.map { $0.0 == "col" ? ("col", "<i4", [3], Self.bytes([Int32(2), 0, 1])) : $0 })
        expectMalformed(line: 0, ["inconsistent lengths", "'col' 3"]) { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: long) }
        let outOfRange = try Self.archive(dir, "oor.npz", base.map { $0.0 == "row" ? ("row", "<i4", [2], Self.bytes([Int32(0), 2])) : $0 })
        expectMalformed(line: 0, ["array 'row'", "element 1 is 2", "outside 0..<2"]) { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: outOfRange)
        }
    }

    @Test("npz: inconsistent lengths, non-monotonic indptr, bad indices, bad values, bad format")
    func npzInconsistent() throws {
        let dir = ScratchDirectory()
        let cases: [([(String, String, [Int], [UInt8])], [String])] = [
            (Self.csrArrays(indptr: [0, 2, 3, 3]), ["'indptr' has 4 elements", "needs 3"]),
            (Self.csrArrays(indptr: [0, 3, 2], indices: [0, 2, 1]), ["'indptr' decreases at position 2", "nondecreasing"]),
            (Self.csrArrays(indptr: [1, 2, 3]), ["'indptr' starts at 1"]),
            (Self.csrArrays(indptr: [0, 2, 4], indices: [0, 2, 1, 1], data: [1, 2, 3]), ["'indptr' ends at 4", "'data' has 3"]),
            (Self.csrArrays(indices: [0, 2], data: [1, 2, 3]), ["'indices' has 2", "'data' has 3"]),
            (Self.csrArrays(indices: [0, 3, 1]), ["array 'indices'", "element 1 is 3", "outside 0..<3"]),
            (Self.csrArrays(indices: [0, -1, 1]), ["array 'indices'", "element 1 is -1"]),
            (Self.csrArrays(data: [1, .nan, 3]), ["array 'data'", "element 1 is nan", "finite"]),
            (Self.csrArrays(shape: [2, 3, 4].map { Int64($0) }), ["array 'shape'", "2 dimensions"]),
        ]
        for (k, (arrays, fragments)) in cases.enumerated() {
            let url = try Self.archive(dir, "bad\(k).npz", arrays.map { a in
                a.0 == "shape" ? (a.0, a.1, [a.3.count / 8], a.3) : a
            })
            expectMalformed(line: 0, fragments, file: url.path) { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: url) }
        }
        let bsr = try Self.archive(dir, "bsr.npz", Self.csrArrays(format: "bsr"))
        let error = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: bsr) }
        if case let .unsupportedFormat(_, reason) = error { #expect(reason.contains("'bsr'")) } else {
            Issue.record("expected unsupportedFormat, got \(String(describing: error))")
        }
        let notZip = try dir.write("plain.npz", "this is not a zip archive")
        expectMalformed(line: 0, ["not a readable .npz"]) { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: notZip) }
        // A declared shape far beyond the budget fails on the header, before the data is accumulated.
        let huge = try Self.archive(dir, "huge.npz", Self.csrArrays().map {
            $0.0 == "data" ? ("data", "<f8", [1 << 40], $0.3) : $0
        })
        let e3 = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: huge) }
        guard case .exceedsMemoryBudget = e3 else { Issue.record("expected exceedsMemoryBudget, got \(String(describing: e3))"); return }
    }

    // MARK: - .npy, .lsqb, triplet, text vectors

    @Test("npy: truncated data, bad magic, big-endian read (but not big-endian unicode), 2-D matrix as a vector")
    func npy() {
        let good = NPY.header(descr: "<f8", shape: [3]) + Self.bytes([1.0, 2.0, 3.0])
        #expect((try? MatrixIO.readVector(data: Data(good), name: "y.npy")) == [1, 2, 3])
        expectMalformed(line: 0, ["truncated", "needs 24 bytes", "found 16"], file: "y.npy") { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data(good.dropLast(8)), name: "y.npy")
        }
        // Big-endian is read (numpy writes it on request); a big-endian unicode string is not.
        let bigEndian = NPY.header(descr: ">f8", shape: [2]) + [0.5, -3.0].flatMap { Self.bytes([$0.bitPattern.bigEndian]) }
        #expect((try? MatrixIO.readVector(data: Data(bigEndian), name: "y.npy")) == [0.5, -3.0])
        let bigUnicode = NPY.header(descr: ">U3", shape: []) + [UInt8](repeating: 0, count: 12)
        let error = expectSparseError { () throws(SparseError) in
            try bigUnicode.typedBytes { (raw) throws(SparseError) in _ = try NPY.parseHeader(raw, file: "f.npy", what: "array") }
        }
        if case let .unsupportedFormat(_, reason) = error { #expect(reason.contains("big-endian")) } else {
            Issue.record("expected unsupportedFormat, got \(String(describing: error))")
        }
        let matrix = NPY.header(descr: "<f8", shape: [2, 2]) + Self.bytes([1.0, 2.0, 3.0, 4.0])
        expectMalformed(line: 0, ["1-D array", "[2, 2]"]) { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data(matrix), name: "y.npy")
        }
    }

    @Test("lsqb: truncated, corrupt, wrong magic")
    func binary() throws {
        let dir = ScratchDirectory()
        let a = RandomSparse.matrix(rows: 30, columns: 20, density: 0.2, seed: 9)
        let url = dir.file("a.lsqb")
        try MatrixIO.writeMatrix(a, to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        let truncated = try dir.write("t.lsqb", bytes: Array(bytes.dropLast(5)))
        expectMalformed(line: 0, ["truncated or corrupt"], file: truncated.path) { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: truncated)
        }
        // Corrupt a column index (first index slot) to an out-of-range value.
        let indicesStart = 64 + 8 * 31
        bytes.replaceSubrange(indicesStart..<(indicesStart + 4), with: Self.bytes([Int32(5000)]))
        let corrupt = try dir.write("c.lsqb", bytes: bytes)
        expectMalformed(line: 0, ["corrupt .lsqb", "out of range"]) { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: corrupt) }
        let text = try dir.write("x.lsqb", "%%MatrixMarket matrix coordinate real general\n")
        expectMalformed(line: 0, ["not an .lsqb file"]) { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: text) }
    }

    @Test("Triplet files: negative indices, missing values, non-numeric values")
    func triplet() {
        expectMalformed(line: 2, ["negative row index -1"], file: "t.tri") { () throws(SparseError) in
            _ = try readText("0 0 1\n-1 0 2\n", format: .triplet, name: "t.tri")
        }
        expectMalformed(line: 3, ["expected 3 fields"]) { () throws(SparseError) in
            _ = try readText("0 0 1\n1 0 2\n4 4\n", format: .triplet, name: "t.tri")
        }
        expectMalformed(line: 1, ["value 'x' is not a number"]) { () throws(SparseError) in
            _ = try readText("0 0 x\n", format: .triplet, name: "t.tri")
        }
        expectMalformed(line: 1, ["value inf is not finite"]) { () throws(SparseError) in
            _ = try readText("0 0 inf\n", format: .triplet, name: "t.tri")
        }
    }

    @Test("Plain-text vectors: non-numeric, NaN, two numbers on a line")
    func textVector() {
        expectMalformed(line: 3, ["value 'abc' is not a number"], file: "y.txt") { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("# y\n1\nabc\n".utf8), name: "y.txt")
        }
        expectMalformed(line: 2, ["value NaN is not finite"]) { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("1\nNaN\n".utf8), name: "y.txt")
        }
        expectMalformed(line: 1, ["one number per line", "found 2"]) { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("1 2\n".utf8), name: "y.txt")
        }
        expectMalformed(line: 6, ["declares 3 values", "ends after 2"]) { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("%%MatrixMarket matrix array real general\n% c\n3 1\n1\n2\n".utf8), name: "y.mtx")
        }
        expectMalformed(line: 6, ["more values than the 2 values declared"]) { () throws(SparseError) in
            _ = try MatrixIO.readVector(data: Data("%%MatrixMarket matrix array real general\n% c\n2 1\n1\n2\n3\n".utf8), name: "y.mtx")
        }
    }

    @Test("A file truncated by another process while it is parsed: an error naming it, not a SIGBUS", arguments: [false, true])
    func truncatedWhileReading(parallel: Bool) throws {
        let dir = ScratchDirectory()
        let url = dir.file("shrinking.mtx")
        var text = "%%MatrixMarket matrix coordinate real general\n2000 50 20000\n"
        for k in 0..<20_000 { text += "\(k % 2000 + 1) \(k % 50 + 1) \(Double(k) + 0.5)\n" }
        try Data(text.utf8).write(to: url)
        let size = text.utf8.count
        var options = ReadOptions()
        options.tuning = ChunkTuning(chunkBytes: 16 << 10, minimumChunkBytes: 1, parallel: parallel)
        let path = url.path
        // After the first parsed chunk, the file is cut to 100 bytes (as `>` does before rewriting it): every
        // later chunk reads pages that no longer exist.
        options.progress = { _, _ in _ = truncate(path, 100) }
        let error = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: url, options: options) }
        guard case let .io(p, reason)? = error else {
            Issue.record("expected an I/O error, got \(String(describing: error))")
            return
        }
        #expect(p == path)
        #expect(reason.contains("shrank while it was being read") && reason.contains("\(size) bytes when opened") && reason.contains("100 bytes now"), "\(reason)")
        // The guard is per mapping: the next read of a complete file works.
        try Data(text.utf8).write(to: url)
        #expect(try MatrixIO.readMatrix(at: url).matrix.nnz > 0)
        // Rewritten in place, same size (no fault): its modification time gives it away. (Set explicitly: two
        // writes within one tick of the kernel's clock can carry the same time.)
        var rewrite = ReadOptions()
        rewrite.tuning = options.tuning
        rewrite.progress = { _, _ in
            let fd = open(path, O_WRONLY)
            _ = pwrite(fd, "9", 1, size - 3)
            var times = [timespec(tv_sec: time(nil) + 10, tv_nsec: 0), timespec(tv_sec: time(nil) + 10, tv_nsec: 0)]
            _ = futimens(fd, &times)
            close(fd)
        }
        let changed = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: url, options: rewrite) }
        guard case let .io(_, why)? = changed else {
            Issue.record("expected an I/O error, got \(String(describing: changed))")
            return
        }
        #expect(why.contains("changed while it was being read"), "\(why)")
    }
}
