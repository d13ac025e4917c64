// SparseTensorTests/IOParallelParsingTests: the chunked parallel readers give exactly the single-threaded result.
import Foundation
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Parallel parsing")
struct IOParallelParsingTests {
    /// A generated file of a few MB (several default-size chunks' worth at the minimum chunk size), with comments,
    /// blank lines, CRLF lines, duplicates (Matrix Market) and unsorted rows sprinkled in.
    static func generate(_ dir: ScratchDirectory) throws -> (URL, URL) {
        var rng = SplitMix64(seed: 2024)
        let m = 3000, n = 2000, nnz = 60_000
        var mtx = "%%MatrixMarket matrix coordinate real general\n% generated\n\(m) \(n) \(nnz)\n"
        var svm = ""
        mtx.reserveCapacity(nnz * 40)
        for k in 0..<nnz {
            let i = Int(rng.next() % UInt64(m)) + 1, j = Int(rng.next() % UInt64(n)) + 1
            let v = (rng.nextUnit() * 2 - 1) * pow(10, Double(Int(rng.next() % 20)) - 10)
            mtx += "\(i) \(j) \(v)\(k % 97 == 0 ? "\r" : "")\n"
            if k % 501 == 0 { mtx += "\n" }
            if k % 1003 == 0 { mtx += "% a comment in the data\n" }
            if k % 20 == 0 {
                svm += "\(v)"
                // Unsorted, each index once per row (a repeated SVMlight index is an error).
                var used = Set<Int>()
                for _ in 0..<(1 + Int(rng.next() % 30)) {
                    let j = Int(rng.next() % 5000) + 1
                    if used.insert(j).inserted { svm += " \(j):\(rng.nextGaussian())" }
                }
                svm += k % 7 == 0 ? " # comment\n" : "\n"
            }
        }
        let a = dir.file("big.mtx"), b = dir.file("big.svm")
        try Data(mtx.utf8).write(to: a)
        try Data(svm.utf8).write(to: b)
        return (a, b)
    }

    @Test("Matrix Market and SVMlight: many chunks on all threads equal one chunk on one thread")
    func sameResult() throws {
        let dir = ScratchDirectory()
        let (mtx, svm) = try Self.generate(dir)
        let single = try MatrixIO.readMatrix(at: mtx, options: .singleThreaded())
        #expect(single.matrix.rowCount == 3000 && single.matrix.nnz > 59_000)
        for chunk in [100, 4096, 65_536] {
            let parallel = try MatrixIO.readMatrix(at: mtx, options: .tinyChunks(chunk))
            #expect(parallel.matrix == single.matrix, "chunk \(chunk)")
        }
        #expect(try MatrixIO.readMatrix(at: mtx).matrix == single.matrix)
        let s1 = try MatrixIO.readMatrix(at: svm, options: .singleThreaded())
        let s2 = try MatrixIO.readMatrix(at: svm, options: .tinyChunks(333))
        #expect(s1.matrix == s2.matrix && s1.labels == s2.labels)
        #expect(s1.matrix.rowCount == 3000)
        // A written copy reads back equal (writer formats pieces in parallel too).
        try MatrixIO.writeMatrix(single.matrix, to: dir.file("copy.mtx"))
        #expect(try MatrixIO.readMatrix(at: dir.file("copy.mtx"), options: .tinyChunks(1000)).matrix == single.matrix)
    }

    @Test("Duplicates sum to the same bits whatever their order in the file")
    func duplicateOrder() throws {
        let parts = [0.1, 0.2, 0.3, 1e-17, 5.5, -0.7, 1e16, -1e16]
        var rng = SplitMix64(seed: 12)
        var reference: CSRMatrix?
        for _ in 0..<20 {
            var order = parts
            order.shuffle(using: &rng)
            var text = "%%MatrixMarket matrix coordinate real general\n3 3 \(order.count + 1)\n2 2 1\n"
            for v in order { text += "3 1 \(v)\n" }
            let a = try readText(text, options: .tinyChunks(8)).matrix
            if let reference { #expect(a == reference && a.values[1].bitPattern == reference.values[1].bitPattern) }
            reference = a
        }
    }

    @Test("The earliest bad line is reported whichever chunk finds it")
    func earliestError() throws {
        var text = "%%MatrixMarket matrix coordinate real general\n10 10 400\n"
        for k in 0..<400 { text += k == 150 || k == 390 ? "1 1 bad\n" : "\(k % 10 + 1) \(k % 7 + 1) \(k)\n" }
        for chunk in [16, 64, 1024] {
            expectMalformed(line: 153, ["value 'bad' is not a number"]) { () throws(SparseError) in
                _ = try readText(text, options: .tinyChunks(chunk))
            }
        }
    }

    @Test("The next newline: the register search and memchr agree with a byte loop at every distance and end")
    func nextNewline() {
        var rng = SplitMix64(seed: 77)
        // Lines of 0 to 80 bytes (the register search covers 32) of any byte but a newline — UTF-8 in comments,
        // and bytes one bit away from 0x0A (0x0B, 0x8A, 0x80, 0xFF), which a search without its `& ~v` would take
        // for newlines — some without a newline before the end.
        let nearNewline: [UInt8] = [0x0B, 0x8A, 0x80, 0xFF, 0x09, 0x0E, 0x1A, 0x2A, 0x4A]
        for _ in 0..<600 {
            let length = Int(rng.next() % 81)
            var bytes = (0..<length).map { _ -> UInt8 in
                let b = rng.next() % 2 == 0 ? nearNewline[Int(rng.next() % UInt64(nearNewline.count))]
                                            : UInt8(truncatingIfNeeded: rng.next())
                return b == ASCII.newline ? 0x0B : b
            }
            if rng.next() % 4 != 0 { bytes.append(ASCII.newline) }
            bytes += (0..<Int(rng.next() % 12)).map { _ in rng.next() % 3 == 0 ? ASCII.newline : UInt8(truncatingIfNeeded: rng.next() | 1) }
            bytes.withUnsafeBufferPointer { b in
                for start in 0...min(3, b.count) {
                    for end in start...b.count {
                        let expected = (start..<end).first { b[$0] == ASCII.newline } ?? end
                        let found = TextChunks.nextNewline(b.baseAddress!, start, end)
                        if found != expected {
                            Issue.record("\(bytes) from \(start) to \(end): \(found), expected \(expected)")
                            return
                        }
                    }
                }
            }
        }
    }
}
