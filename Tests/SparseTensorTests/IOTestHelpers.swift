// SparseTensorTests/IOTestHelpers: fixtures, temporary files and expectations shared by the I/O tests.
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

enum IOFixtures {
    /// A committed fixture (Tests/SparseTensorTests/Fixtures, generated once by make_fixtures.py).
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    /// The canonical CSR a fixture's `.expected.json` describes (values as IEEE bit patterns, so no parser is involved).
    static func expectedMatrix(_ name: String) throws -> CSRMatrix {
        let data = try Data(contentsOf: url("\(name).expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let shape = json["shape"] as! [Int]
        let indptr = json["indptr"] as! [Int]
        let indices = (json["indices"] as! [Int]).map { Int32($0) }
        let values = (json["bits"] as! [String]).map { Double(bitPattern: UInt64($0, radix: 16)!) }
        return try CSRMatrix(rowCount: shape[0], columnCount: shape[1], rowOffsets: indptr, columnIndices: indices, values: values)
    }

    static func expectedVector() throws -> [Double] {
        let data = try Data(contentsOf: url("vec.expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (json["bits"] as! [String]).map { Double(bitPattern: UInt64($0, radix: 16)!) }
    }
}

/// A temporary directory removed at deinit.
final class ScratchDirectory {
    let url: URL
    init() { url = Fixtures.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Writes `text` to `name` and returns its URL.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        let u = file(name)
        try Data(text.utf8).write(to: u)
        return u
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> URL {
        let u = file(name)
        try Data(bytes).write(to: u)
        return u
    }

    /// Names in the directory (to check that failed writes leave nothing behind).
    func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }
}

/// Reads text as a matrix of the given format (from memory, with `name` in messages).
func readText(_ text: String, format: MatrixFileFormat = .matrixMarket, name: String = "test.mtx",
              options: ReadOptions = ReadOptions()) throws(SparseError) -> LoadedMatrix {
    try MatrixIO.readMatrix(data: Data(text.utf8), format: format, name: name, options: options)
}

/// The SparseError thrown by `body`, or nil (Issue recorded) when it succeeds.
func expectSparseError(_ body: () throws(SparseError) -> Void,
                       sourceLocation: SourceLocation = #_sourceLocation) -> SparseError? {
    do {
        try body()
        Issue.record("expected a SparseError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Checks that `body` throws `.malformedFile` at `line` whose reason contains every fragment.
func expectMalformed(line: Int, _ fragments: [String], file: String? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(SparseError) -> Void) {
    guard let error = expectSparseError(body, sourceLocation: sourceLocation) else { return }
    guard case let .malformedFile(f, l, reason) = error else {
        Issue.record("expected malformedFile at line \(line), got \(error)", sourceLocation: sourceLocation)
        return
    }
    #expect(l == line, "line of: \(error)", sourceLocation: sourceLocation)
    if let file { #expect(f == file, "file of: \(error)", sourceLocation: sourceLocation) }
    for fragment in fragments {
        #expect(reason.contains(fragment), "'\(fragment)' missing from: \(reason)", sourceLocation: sourceLocation)
    }
}

/// Options that force the chunked readers onto one thread, or onto many tiny chunks.
extension ReadOptions {
    static func singleThreaded() -> ReadOptions {
        var o = ReadOptions()
        o.tuning = ChunkTuning(chunkBytes: .max / 4, minimumChunkBytes: .max / 4, parallel: false)
        return o
    }

    static func tinyChunks(_ bytes: Int = 64) -> ReadOptions {
        var o = ReadOptions()
        o.tuning = ChunkTuning(chunkBytes: bytes, minimumChunkBytes: 1, parallel: true)
        return o
    }
}
