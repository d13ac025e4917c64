// SparseTensorTests/IOFormatRoundTripTests: .lsqb and .tri round trips, the CSparse triplet fixture, format inference,
// atomic writes.
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Binary and triplet formats, inference, atomic writes")
struct IOFormatRoundTripTests {
    @Test("mbeacxc.csparse.tri: inferred 492 × 490, 49920 entries, scipy's checksums")
    func csparseTriplet() throws {
        let a = try MatrixIO.readMatrix(at: Fixtures.shared("mbeacxc.csparse.tri")).matrix
        #expect(a.rowCount == 492 && a.columnCount == 490 && a.nnz == 49920)
        let (s, w) = MatrixMarketFormatTests.checksums(a)
        #expect(abs(s - 22.876551338423653) <= 1e-12 * 22.9, "Σa² = \(s)")
        #expect(abs(w - 63240.06564334712) <= 1e-12 * 63240, "Σa·(j+1) = \(w)")
        #expect(try MatrixIO.readMatrix(at: Fixtures.shared("mbeacxc.csparse.tri"), options: .tinyChunks(777)).matrix == a)
    }

    @Test(".lsqb and .tri: write then read", arguments: [MatrixFileFormat.binary, .triplet])
    func roundTrip(_ format: MatrixFileFormat) throws {
        let dir = ScratchDirectory()
        for (m, n, density, seed) in [(60, 45, 0.1, UInt64(1)), (1, 1, 1.0, 2), (500, 300, 0.01, 3)] {
            var a = RandomSparse.matrix(rows: m, columns: n, density: density, seed: seed)
            if format == .triplet {
                // A triplet file only knows the largest indices: keep the last row and column occupied.
                var coo = COOMatrix(a)
                coo = try COOMatrix(rowCount: m, columnCount: n, rows: coo.rows + [Int32(m - 1)],
                                    columns: coo.columns + [Int32(n - 1)], values: coo.values + [1e-300])
                a = try CSRMatrix(coo)
            }
            let url = dir.file("a\(seed).\(format.rawValue)")
            try MatrixIO.writeMatrix(a, to: url)
            #expect(try MatrixIO.readMatrix(at: url).matrix == a)
            let data = try Data(contentsOf: url)
            #expect(try MatrixIO.readMatrix(data: data, format: format, name: "upload").matrix == a)
        }
        // Empty matrices.
        let empty = try CSRMatrix.zeros(rowCount: format == .binary ? 7 : 0, columnCount: format == .binary ? 3 : 0)
        try MatrixIO.writeMatrix(empty, to: dir.file("e.\(format.rawValue)"))
        #expect(try MatrixIO.readMatrix(at: dir.file("e.\(format.rawValue)")).matrix == empty)
    }

    @Test("Format inference from extensions and contents")
    func inference() throws {
        #expect(MatrixFileFormat.infer(fromPath: "/a/b.MTX") == .matrixMarket)
        #expect(MatrixFileFormat.infer(fromPath: "b.mm") == .matrixMarket)
        #expect(MatrixFileFormat.infer(fromPath: "b.libsvm") == .svmlight)
        #expect(MatrixFileFormat.infer(fromPath: "b.svmlight") == .svmlight)
        #expect(MatrixFileFormat.infer(fromPath: "b.svm") == .svmlight)
        #expect(MatrixFileFormat.infer(fromPath: "b.npz") == .npz)
        #expect(MatrixFileFormat.infer(fromPath: "b.lsqb") == .binary)
        #expect(MatrixFileFormat.infer(fromPath: "b.tri") == .triplet)
        #expect(MatrixFileFormat.infer(fromPath: "b.txt") == nil)
        #expect(MatrixFileFormat.infer(fromPath: "b.mtx.gz") == nil)
        let dir = ScratchDirectory()
        let a = RandomSparse.matrix(rows: 5, columns: 4, density: 0.5, seed: 1)
        for format in [MatrixFileFormat.matrixMarket, .npz, .binary] {
            let url = dir.file("a.\(format.rawValue)")
            try MatrixIO.writeMatrix(a, to: url)
            let renamed = dir.file("a-\(format.rawValue).dat")
            try FileManager.default.moveItem(at: url, to: renamed)
            #expect(try MatrixIO.readMatrix(at: renamed).matrix == a, "sniffing \(format)")
        }
        // SVMlight by content: CRLF lines after a comment, a first line longer than the 4 KB head, an upper-case
        // Matrix Market banner.
        let crlf = try dir.write("crlf.dat", "# labels first\r\n1 1:0.5 3:2\r\n-1 2:1\r\n")
        #expect(try MatrixIO.readMatrix(at: crlf).matrix.dense() == [[0.5, 0, 2], [0, 1, 0]])
        let long = try dir.write("long.dat", "1 " + (1...800).map { "\($0):1" }.joined(separator: " ") + "\n0 1:2\n")
        #expect(try MatrixIO.readMatrix(at: long).matrix.nnz == 801)
        let upper = try dir.write("upper.dat", "%%MATRIXMARKET MATRIX COORDINATE REAL GENERAL\n2 2 1\n1 2 3.5\n")
        #expect(try MatrixIO.readMatrix(at: upper).matrix.dense() == [[0, 3.5], [0, 0]])
        #expect(try MatrixIO.readVector(data: Data("%%MATRIXMARKET matrix array real general\n2 1\n1\n2\n".utf8), name: "y") == [1, 2])
        let unknown = try dir.write("u.dat", "0 0 1\n")
        let error = expectSparseError { () throws(SparseError) in _ = try MatrixIO.readMatrix(at: unknown) }
        if case let .unsupportedFormat(file, reason) = error { #expect(file == unknown.path && reason.contains(".mtx")) } else {
            Issue.record("expected unsupportedFormat, got \(String(describing: error))")
        }
    }

    @Test("A failed write leaves nothing at the output path (and no temporary file)")
    func atomicWrites() throws {
        let dir = ScratchDirectory()
        let a = RandomSparse.matrix(rows: 5, columns: 4, density: 0.5, seed: 1)
        // Unknown extension: nothing written.
        _ = expectSparseError { () throws(SparseError) in try MatrixIO.writeMatrix(a, to: dir.file("a.xyz")) }
        // A failure in the middle of writing (an error thrown by the body) removes the temporary file.
        let target = dir.file("b.mtx")
        let error = expectSparseError { () throws(SparseError) in
            try writeAtomically(to: target) { (w) throws(SparseError) in
                try w.write("partial content\n")
                throw SparseError.io(path: target.path, reason: "simulated failure")
            }
        }
        #expect(error == .io(path: target.path, reason: "simulated failure"))
        #expect(dir.contents().isEmpty, "left behind: \(dir.contents())")
        // A directory that does not exist: an .io error naming the path.
        let missing = dir.file("no/such/dir/a.mtx")
        let e2 = expectSparseError { () throws(SparseError) in try MatrixIO.writeMatrix(a, to: missing) }
        if case let .io(path, _) = e2 { #expect(path == missing.path) } else { Issue.record("expected .io, got \(String(describing: e2))") }
        // Overwriting an existing file replaces it whole.
        try dir.write("c.mtx", "old")
        try MatrixIO.writeMatrix(a, to: dir.file("c.mtx"))
        #expect(try MatrixIO.readMatrix(at: dir.file("c.mtx")).matrix == a)
        #expect(dir.contents() == ["c.mtx"])
    }
}
