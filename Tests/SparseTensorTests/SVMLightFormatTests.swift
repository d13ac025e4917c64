// SparseTensorTests/SVMLightFormatTests: SVMlight / libsvm reading (scikit-learn's fixtures) and round trips.
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("SVMlight format")
struct SVMLightFormatTests {
    @Test("scikit-learn's classification fixture: comments, tabs, inline comments, 1.23e10")
    func classification() throws {
        let loaded = try MatrixIO.readMatrix(at: Fixtures.shared("svmlight/svmlight_classification.txt"), format: .svmlight)
        let a = loaded.matrix
        #expect(a.rowCount == 4 && a.columnCount == 21 && a.nnz == 7)
        #expect(loaded.labels == [1, 2, 3, 4])
        let d = a.dense()
        #expect(d[0][2] == 2.5 && d[0][10] == -5.2 && d[0][15] == 1.5)
        #expect(d[1][5] == 1.0 && d[1][12] == -3)
        #expect(d[2][20] == 27)
        #expect(d[3][1] == 1.234567890123456e10)
        // Without an explicit format the `idx:val` content is recognised.
        #expect(try MatrixIO.readMatrix(at: Fixtures.shared("svmlight/svmlight_classification.txt")).matrix == a)
    }

    @Test("scikit-learn's multilabel fixture is rejected at the first multilabel line")
    func multilabel() {
        expectMalformed(line: 2, ["multilabel target '1,0'", "one numeric label per row"],
                        file: Fixtures.shared("svmlight/svmlight_multilabel.txt").path) { () throws(SparseError) in
            _ = try MatrixIO.readMatrix(at: Fixtures.shared("svmlight/svmlight_multilabel.txt"), format: .svmlight)
        }
    }

    @Test("Empty labels, bad features, zero indices, qid")
    func errorsAndQid() throws {
        expectMalformed(line: 2, ["missing label", "'2:3.5'"], file: "s.svm") { () throws(SparseError) in
            _ = try readText("1 1:1\n 2:3.5 11:26\n", format: .svmlight, name: "s.svm")
        }
        expectMalformed(line: 1, ["feature 'abc' is not 'index:value'"]) { () throws(SparseError) in
            _ = try readText("1 abc\n", format: .svmlight, name: "s.svm")
        }
        expectMalformed(line: 1, ["index 0 at line 1", "SVMlight indices are 1-based"]) { () throws(SparseError) in
            _ = try readText("1 0:2\n", format: .svmlight, name: "s.svm")
        }
        expectMalformed(line: 1, ["feature value", "finite"]) { () throws(SparseError) in
            _ = try readText("1 3:nan\n", format: .svmlight, name: "s.svm")
        }
        expectMalformed(line: 1, ["label 'x'", "not a number"]) { () throws(SparseError) in
            _ = try readText("x 3:1\n", format: .svmlight, name: "s.svm")
        }
        let q = try readText("# header\n2 qid:7 1:1.5 3:2\n-1 qid:7 2:4 # tail 9:9\n\n0.5\n", format: .svmlight)
        #expect(q.labels == [2, -1, 0.5])
        #expect(q.matrix.dense() == [[1.5, 0, 2], [0, 4, 0], [0, 0, 0]])
        let zero = try readText("1 0:2 2:1\n", format: .svmlight, options: ReadOptions(zeroBased: true))
        #expect(zero.matrix.dense() == [[2, 0, 1]])
        let unsorted = try readText("1 3:1 1:2 4:4\n", format: .svmlight)
        #expect(unsorted.matrix.dense() == [[2, 0, 1, 4]] && unsorted.matrix.nnz == 3)
    }

    @Test("A feature index repeated in a row is an error naming its line, in whichever chunk it falls")
    func repeatedIndex() {
        // Comments, blank lines and a sorted repeat before the unsorted one: the first repeat is on line 6.
        var text = "# generated\n1 1:1 2:2\n\n2 2:1 # 2:2 in a comment is no repeat\n-1 qid:3 1:1 3:1\n"
        text += "4 5:1 2:1 5:2\n" + String(repeating: "1 1:1 2:2\n", count: 200) + "0 7:1 7:1\n"
        for options in [ReadOptions(), .tinyChunks(64), .singleThreaded()] {
            expectMalformed(line: 6, ["feature index 5 appears more than once in row 4", "once per row"], file: "s.svm") { () throws(SparseError) in
                _ = try readText(text, format: .svmlight, name: "s.svm", options: options)
            }
        }
        expectMalformed(line: 1, ["feature index 0 appears more than once in row 1"]) { () throws(SparseError) in
            _ = try readText("1 0:1 0:2\n", format: .svmlight, name: "s.svm", options: ReadOptions(zeroBased: true))
        }
    }

    @Test("Write then read returns A and y")
    func roundTrip() throws {
        let dir = ScratchDirectory()
        var a = RandomSparse.matrix(rows: 300, columns: 40, density: 0.1, seed: 11)
        // Make sure the last column is used (the column count is inferred from the largest index).
        var coo = COOMatrix(a)
        let rows = coo.rows + [0], columns = coo.columns + [39], values = coo.values + [0.25]
        coo = try COOMatrix(rowCount: 300, columnCount: 40, rows: rows, columns: columns, values: values)
        a = try CSRMatrix(coo)
        var rng = SplitMix64(seed: 5)
        let y = (0..<300).map { _ in rng.nextGaussian() }
        let url = dir.file("a.svm")
        try MatrixIO.writeSVMLight(a, labels: y, to: url)
        let back = try MatrixIO.readMatrix(at: url)
        #expect(back.matrix == a)
        #expect(back.labels == y)
        let tiny = try MatrixIO.readMatrix(at: url, options: .tinyChunks(100))
        #expect(tiny.matrix == a && tiny.labels == y)
        let error = expectSparseError { () throws(SparseError) in try MatrixIO.writeMatrix(a, to: url) }
        if case .unsupportedFormat = error {} else { Issue.record("expected unsupportedFormat, got \(String(describing: error))") }
    }
}
