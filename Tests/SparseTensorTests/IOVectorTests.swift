// SparseTensorTests/IOVectorTests: dense vectors from Matrix Market, .npy and text, and back.
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Vector I/O")
struct IOVectorTests {
    @Test("numpy-written .npy in float64 (v1, v2, v3), float32, int64, int32 column")
    func npyFixtures() throws {
        let v = try IOFixtures.expectedVector()
        for name in ["vec_f64.npy", "vec_f64_v2.npy", "vec_f64_v3.npy"] {
            #expect(try MatrixIO.readVector(at: IOFixtures.url(name)) == v, "\(name)")
        }
        #expect(try MatrixIO.readVector(at: IOFixtures.url("vec_f32.npy")) == v.map { Double(Float($0)) })
        #expect(try MatrixIO.readVector(at: IOFixtures.url("vec_i64.npy")) == [3, -1, 0, 7, 2, 9])
        #expect(try MatrixIO.readVector(at: IOFixtures.url("vec_i32_column.npy")) == [3, -1, 0])
        let data = try Data(contentsOf: IOFixtures.url("vec_f64.npy"))
        #expect(try MatrixIO.readVector(data: data, name: "upload") == v)
    }

    @Test("Matrix Market: scipy's array (no final newline), coordinate column and row vectors")
    func matrixMarket() throws {
        let v = try IOFixtures.expectedVector()
        #expect(try MatrixIO.readVector(at: IOFixtures.url("vec_scipy_array.mtx")) == v)
        let column = "%%MatrixMarket matrix coordinate real general\n5 1 2\n2 1 1.5\n5 1 -2\n"
        #expect(try MatrixIO.readVector(data: Data(column.utf8), name: "c.mtx") == [0, 1.5, 0, 0, -2])
        let row = "%%MatrixMarket matrix coordinate integer general\n1 4 2\n1 4 7\n1 1 3\n"
        #expect(try MatrixIO.readVector(data: Data(row.utf8), name: "r.mtx") == [3, 0, 0, 7])
        let rowArray = "%%MatrixMarket matrix array real general\n1 3\n1\n2\n3\n"
        #expect(try MatrixIO.readVector(data: Data(rowArray.utf8), name: "r.mtx") == [1, 2, 3])
    }

    @Test("Plain text: Maragal_1.b.txt (a # comment line and 32 values), the singular-value files")
    func text() throws {
        let b = try MatrixIO.readVector(at: Fixtures.shared("Maragal_1.b.txt"))
        #expect(b.count == 32)
        #expect(b[0] == -0.4062358780926289 && b[1] == 0.04573354209419158)
        let svals = try MatrixIO.readVector(at: Fixtures.shared("Maragal_1.svals.txt"))
        #expect(svals.count == 14 && svals[0] == 5.932732252440613 && zip(svals, svals.dropFirst()).allSatisfy { $0 >= $1 })
        let homology = try MatrixIO.readVector(at: Fixtures.shared("n3c5-b3.svals.txt"))
        #expect(homology.count == 120 && homology[0] == 3.1622776601683817)
        #expect(try MatrixIO.readVector(data: Data("% c\n1\n\n  2.5 \r\n-3e2".utf8), name: "y") == [1, 2.5, -300])
        #expect(try MatrixIO.readVector(data: Data(), name: "y").isEmpty)
    }

    @Test("Write then read: .mtx sparse and dense, .npy, .txt")
    func roundTrip() throws {
        let dir = ScratchDirectory()
        var rng = SplitMix64(seed: 4)
        var x = (0..<200).map { _ in rng.nextGaussian() }
        for k in stride(from: 0, to: 200, by: 3) { x[k] = 0 }
        x[7] = .leastNonzeroMagnitude * 12345  // subnormal
        x[8] = -1.7976931348623157e308
        for (name, sparse) in [("x.mtx", true), ("y.mtx", false), ("x.npy", false), ("x.txt", false), ("e.mtx", true)] {
            let value = name.hasPrefix("e") ? [] : x
            try MatrixIO.writeVector(value, to: dir.file(name), sparse: sparse)
            #expect(try MatrixIO.readVector(at: dir.file(name)) == value, "\(name)")
        }
        let header = try String(contentsOf: dir.file("x.mtx"), encoding: .utf8).split(separator: "\n")
        #expect(header[0] == "%%MatrixMarket matrix coordinate real general" && header[2] == "200 1 \(x.filter { $0 != 0 }.count)")
        let dense = try String(contentsOf: dir.file("y.mtx"), encoding: .utf8).split(separator: "\n")
        #expect(dense[0] == "%%MatrixMarket matrix array real general" && dense[2] == "200 1")
        let error = expectSparseError { () throws(SparseError) in try MatrixIO.writeVector([1, .nan], to: dir.file("n.npy"), sparse: false) }
        if case let .nonFiniteValue(entry, _, _, value) = error { #expect(entry == 1 && value.isNaN) } else {
            Issue.record("expected nonFiniteValue, got \(String(describing: error))")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("n.npy").path))
    }
}
