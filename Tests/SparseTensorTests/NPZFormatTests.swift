// SparseTensorTests/NPZFormatTests: scipy.sparse .npz archives written by scipy (fixtures) and by lsq (round trips).
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("npz format")
struct NPZFormatTests {
    @Test("scipy-written archives: csr/csc/coo, int32/int64, compressed or stored, sparray", arguments: [
        ("small_csr_f64_i32_compressed.npz", "small"), ("small_csr_f64_i64_stored.npz", "small"),
        ("small_csc_f64.npz", "small"), ("small_coo_f64.npz", "small"), ("small_coo_array_f64.npz", "small"),
        ("small_csr_f32_i64.npz", "small_f32"), ("noncanonical_csr_i64data.npz", "noncanonical"),
    ])
    func scipyFixtures(_ entry: (String, String)) throws {
        let (file, expectedName) = entry
        let expected = try IOFixtures.expectedMatrix(expectedName)
        let a = try MatrixIO.readMatrix(at: IOFixtures.url(file)).matrix
        #expect(a == expected, "\(file): \(a.dense()) vs \(expected.dense())")
        // The same bytes uploaded.
        let data = try Data(contentsOf: IOFixtures.url(file))
        #expect(try MatrixIO.readMatrix(data: data, format: .npz, name: file).matrix == expected)
    }

    @Test("Big-endian arrays written by numpy read as scipy reads them; a uint64 beyond Int64 keeps its value")
    func bigEndian() throws {
        let a = try MatrixIO.readMatrix(at: IOFixtures.url("bigendian_csr.npz")).matrix
        #expect(a.dense() == [[1.5, 0, -2.25], [0, 3e300, 0]])
        let v = try MatrixIO.readVector(at: IOFixtures.url("bigendian_uint64.npy"))
        #expect(v == [1, 9223372036854777856, 7])  // 2⁶³ + 2048, exactly representable
    }

    @Test("The non-canonical scipy matrix is sorted and its duplicate summed")
    func noncanonical() throws {
        let a = try MatrixIO.readMatrix(at: IOFixtures.url("noncanonical_csr_i64data.npz")).matrix
        #expect(a.dense() == [[0, 0, 0, 0], [5, 0, 0, 6], [0, 7, 0, 0]])
    }

    @Test("Write then read, stored and deflated, including empty shapes")
    func roundTrip() throws {
        let dir = ScratchDirectory()
        for (m, n, density, seed) in [(50, 20, 0.1, UInt64(1)), (0, 0, 0.0, 2), (3, 0, 0.0, 3), (1, 1000, 0.01, 4)] {
            let a = RandomSparse.matrix(rows: m, columns: n, density: density, seed: seed)
            for compressed in [false, true] {
                let url = dir.file("a\(seed)\(compressed).npz")
                try NPZ.write(a, to: url, compressed: compressed)
                #expect(try MatrixIO.readMatrix(at: url).matrix == a)
            }
        }
        let a = RandomSparse.matrix(rows: 10, columns: 10, density: 0.3, seed: 8)
        try MatrixIO.writeMatrix(a, to: dir.file("public.npz"))
        #expect(try MatrixIO.readMatrix(at: dir.file("public.npz")).matrix == a)
        #expect(dir.contents().allSatisfy { !$0.hasPrefix(".") }, "temporary files left: \(dir.contents())")
    }
}
