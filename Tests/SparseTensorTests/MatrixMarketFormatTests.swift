// SparseTensorTests/MatrixMarketFormatTests: Matrix Market reading (real files, variants) and writing (round trips).
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Matrix Market format")
struct MatrixMarketFormatTests {
    /// The shared real matrices with the shape and nnz their README states, and two checksums computed by
    /// scipy (`scipy.io.mmread`, duplicates summed): Σ a_ij² and Σ_ij a_ij·(j+1).
    static let sharedFiles: [(String, Int, Int, Int, Double, Double)] = [
        ("ash219.mtx", 219, 85, 438, 438.0, 17958.0),
        ("lp_e226_transposed.mtx", 472, 223, 2768, 12249763.094816484, -579679.3112799999),
        ("Franz6_id1959_aug.mtx", 10592, 3016, 48472, 4400560, 179283864.0),
        ("Groebner_id2003_aug.mtx", 4967, 2456, 173670, 1.9055284032505292e18, 90474693494666.0),
        ("Maragal_1.mtx", 32, 14, 234, 105.96210488970964, 198.40842477748365),
        ("n3c5-b3.mtx", 210, 120, 840, 840, -7920.0),
        ("illc1850.mtx", 1850, 712, 8636, 712.0000000292154, 701836.3751787705),
        ("lp_share1b.mtx", 117, 253, 1179, 40789911.7922939, 2801686.9972000006),
        ("west0067.mtx", 67, 67, 294, 172.17819655351167, 1147.5322518399998),
        ("GD06_theory.mtx", 101, 101, 380, 380.0, 19695.0),        // pattern symmetric: 190 stored → 380
        ("bcsstk13.mtx", 2003, 2003, 83883, 5.679718136868237e+25, 2.9962305285615016e+16),  // 42943 stored
    ]

    static func checksums(_ a: CSRMatrix) -> (Double, Double) {
        var squares = 0.0, weighted = 0.0
        for p in 0..<a.nnz {
            squares += a.values[p] * a.values[p]
            weighted += a.values[p] * Double(a.columnIndices[p] + 1)
        }
        return (squares, weighted)
    }

    @Test("Every shared .mtx reads with the README's shape and nnz and scipy's checksums",
          arguments: sharedFiles)
    func sharedFile(_ entry: (String, Int, Int, Int, Double, Double)) throws {
        let (name, m, n, nnz, squares, weighted) = entry
        let loaded = try MatrixIO.readMatrix(at: Fixtures.shared(name))
        let a = loaded.matrix
        #expect(a.rowCount == m && a.columnCount == n && a.nnz == nnz, "\(name): \(a.rowCount) × \(a.columnCount), nnz \(a.nnz)")
        #expect(loaded.labels == nil)
        let (s, w) = Self.checksums(a)
        #expect(abs(s - squares) <= 1e-12 * abs(squares), "\(name): Σa² = \(s), scipy \(squares)")
        #expect(abs(w - weighted) <= 1e-12 * max(1, abs(weighted)), "\(name): Σa·(j+1) = \(w), scipy \(weighted)")
        // Same matrix when parsed on one thread in one chunk and in many tiny chunks.
        let single = try MatrixIO.readMatrix(at: Fixtures.shared(name), options: .singleThreaded()).matrix
        #expect(single == a)
        let tiny = try MatrixIO.readMatrix(at: Fixtures.shared(name), options: .tinyChunks(2048)).matrix
        #expect(tiny == a)
    }

    @Test("Symmetric files expand to both triangles; pattern values are 1")
    func symmetricExpansion() throws {
        let g = try MatrixIO.readMatrix(at: Fixtures.shared("GD06_theory.mtx")).matrix
        #expect(g.nnz == 380)
        #expect(g.values.allSatisfy { $0 == 1 })
        #expect(g.transposed() == g)
        let k = try MatrixIO.readMatrix(at: Fixtures.shared("bcsstk13.mtx")).matrix
        #expect(k.transposed() == k)
    }

    @Test("scipy-written general, symmetric and skew-symmetric files read exactly")
    func scipyWritten() throws {
        for (file, expected) in [("small_scipy.mtx", "small"), ("sym_scipy.mtx", "sym"), ("skew_scipy.mtx", "skew")] {
            let a = try MatrixIO.readMatrix(at: IOFixtures.url(file)).matrix
            let e = try IOFixtures.expectedMatrix(expected)
            #expect(a == e, "\(file): \(a.dense()) vs \(e.dense())")
        }
    }

    @Test("0-based files: a clear error by default, read with zeroBased")
    func zeroBased() throws {
        expectMalformed(line: 11, ["index 0 at line 11", "1-based", "zeroBased: true", "--zero-based"],
                        file: Fixtures.shared("a4.mtx").path) { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: Fixtures.shared("a4.mtx"))
        }
        expectMalformed(line: 10, ["index 0 at line 10"]) { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: Fixtures.shared("s32.mtx"))
        }
        let a4 = try MatrixIO.readMatrix(at: Fixtures.shared("a4.mtx"), options: ReadOptions(zeroBased: true)).matrix
        #expect(a4.dense() == [[1.1, -99], [2.1, 2.2], [0, 0], [0, 0]])
        let s32 = try MatrixIO.readMatrix(at: Fixtures.shared("s32.mtx"), options: ReadOptions(zeroBased: true)).matrix
        #expect(s32.dense() == [[-1.1, 1.2], [4.1, 2.2], [9.1, 3.2]])
    }

    @Test("Variants: integer, pattern, skew-symmetric mirror, array general and symmetric, CRLF, blank lines, duplicates")
    func variants() throws {
        let integer = try readText("%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 7\n2 2 -3\n").matrix
        #expect(integer.dense() == [[7, 0], [0, -3]])
        let pattern = try readText("%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n").matrix
        #expect(pattern.dense() == [[0, 0, 1], [1, 0, 0]])
        let skew = try readText("%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 0.5\n3 2 -7\n").matrix
        #expect(skew.dense() == [[0, -0.5, 0], [0.5, 0, 7], [0, -7, 0]])
        let array = try readText("%%MatrixMarket matrix array real general\n% comment\n2 3\n1\n0\n2\n3\n0\n-4.5\n").matrix
        #expect(array.dense() == [[1, 2, 0], [0, 3, -4.5]])
        #expect(array.nnz == 4)  // zeros of an array are not stored
        let symArray = try readText("%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n").matrix
        #expect(symArray.dense() == [[1, 2], [2, 3]])
        let crlf = try readText("%%MatrixMarket matrix coordinate real general\r\n%c\r\n2 2 1\r\n\r\n2 1 5\r\n").matrix
        #expect(crlf.dense() == [[0, 0], [5, 0]])
        let tabs = try readText("%%MatrixMarket matrix coordinate real general\n2 2 2\n\t1\t1\t1.5  \n\n   2 2 2e0").matrix
        #expect(tabs.dense() == [[1.5, 0], [0, 2]])
        let dup = try readText("%%MatrixMarket matrix coordinate real general\n2 2 3\n1 2 1\n1 2 2.5\n2 1 1\n").matrix
        #expect(dup.dense() == [[0, 3.5], [1, 0]] && dup.nnz == 2)
        let none = try readText("%%MatrixMarket matrix coordinate real general\n1 1 0\n").matrix
        #expect(none.rowCount == 1 && none.nnz == 0)
        let empty = try readText("%%MatrixMarket matrix coordinate real general\n0 0 0\n").matrix
        #expect(empty.rowCount == 0 && empty.columnCount == 0)
        let caps = try readText("%%MatrixMarket MATRIX Coordinate REAL General\n1 1 1\n1 1 3\n").matrix
        #expect(caps.dense() == [[3]])
    }

    @Test("Write then read gives the same matrix (values across the whole double range, subnormals, integers)")
    func roundTrip() throws {
        let dir = ScratchDirectory()
        var rng = SplitMix64(seed: 3)
        for (m, n, density, seed) in [(40, 30, 0.1, UInt64(1)), (1, 1, 1.0, 2), (5, 0, 0.5, 3), (0, 4, 0.5, 4), (200, 50, 0.02, 5)] {
            var a = RandomSparse.matrix(rows: m, columns: n, density: density, seed: seed)
            // Values across the whole range, integers, tiny and huge.
            var values = a.values
            for p in values.indices {
                switch p % 4 {
                case 0: values[p] = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF | (rng.next() & (1 << 63)))
                case 1: values[p] = Double(Int(rng.next() % 2001) - 1000)
                default: break
                }
            }
            a = try CSRMatrix(rowCount: m, columnCount: n, rowOffsets: a.rowOffsets, columnIndices: a.columnIndices, values: values)
            let url = dir.file("a\(seed).mtx")
            try MatrixIO.writeMatrix(a, to: url)
            #expect(try MatrixIO.readMatrix(at: url).matrix == a)
        }
        #expect(dir.contents().allSatisfy { !$0.hasPrefix(".") }, "temporary files left: \(dir.contents())")
    }

    @Test("Reading from Data names the upload in errors")
    func uploadName() {
        expectMalformed(line: 3, ["row index 'x'"], file: "upload.mtx") { () throws(SparseError) in
            _ = try readText("%%MatrixMarket matrix coordinate real general\n2 2 1\nx 1 1\n", name: "upload.mtx")
        }
    }

    @Test("Progress is reported up to the file size, nondecreasing")
    func progress() throws {
        let recorder = UncheckedSendable(ProgressRecorder())
        var options = ReadOptions.tinyChunks(4096)
        options.progress = { done, total in recorder.value.record(done, total) }
        let url = Fixtures.shared("illc1850.mtx")
        _ = try MatrixIO.readMatrix(at: url, options: options)
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? -1
        let events = recorder.value.events
        #expect(events.count > 10)
        #expect(events.last.map { $0.0 == size && $0.1 == size } == true, "last event \(String(describing: events.last)), size \(size)")
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.0 <= $1.0 })
    }
}

/// Collects progress callbacks from reader threads (shared through the package's audited `UncheckedSendable`).
final class ProgressRecorder {
    private let lock = NSLock()
    private var storage: [(Int, Int)] = []
    func record(_ done: Int, _ total: Int) { lock.lock(); storage.append((done, total)); lock.unlock() }
    var events: [(Int, Int)] { lock.lock(); defer { lock.unlock() }; return storage }
}
