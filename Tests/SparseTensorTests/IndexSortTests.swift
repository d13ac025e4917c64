// SparseTensorTests/IndexSortTests: the products' row sort against the standard library's sort.
import Testing
@testable import SparseTensor

@Suite("Row index sort")
struct IndexSortTests {
    @Test("distinct indices of every length and range come out as Array.sorted() gives them",
          arguments: [1, 2, 47, 48, 49, 300, 5000], [2, 255, 256, 70_000, 20_000_000, Int(Int32.max)])
    func matchesSorted(length: Int, bound: Int) {
        var rng = SplitMix64(seed: UInt64(length * 31 + bound % 1000))
        var seen = Set<Int32>()
        var row: [Int32] = []
        while row.count < min(length, bound) {
            let v = Int32(truncatingIfNeeded: Int(rng.next() % UInt64(bound)))
            if seen.insert(v).inserted { row.append(v) }
        }
        let expected = row.sorted()
        var scratch = [Int32](repeating: 0, count: row.count)
        var counts = [Int](repeating: 0, count: 256)
        row.withUnsafeMutableBufferPointer { r in
            scratch.withUnsafeMutableBufferPointer { s in
                counts.withUnsafeMutableBufferPointer { c in
                    IndexSort.sort(r, scratch: s.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, counts: c.baseAddress!, bound: bound)
                }
            }
        }
        #expect(row == expected)
    }
}
