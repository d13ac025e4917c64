// SparseTensor/ProductRowWorkspace: one worker's dense workspace for the numeric pass of a Gustavson product.

/// What a worker of `ProductKernel` or `SymmetricProductKernel` needs to form rows of C over `columns` columns:
/// the marker (which row last touched column j) and the dense accumulator (Gustavson 1978), and the scratch of the
/// rows' radix sort (`IndexSort`). Allocated once per part, not zeroed beyond what the pass reads first.
final class ProductRowWorkspace {
    /// Marker and accumulator, indexed by column of C.
    let mark: UnsafeMutablePointer<Int32>
    let acc: UnsafeMutablePointer<Double>
    private let scratch: UnsafeMutablePointer<Int32>
    private let counts: UnsafeMutablePointer<Int>
    private let columns: Int

    /// Bytes a column of C costs each running worker: marker, accumulator, sort scratch.
    static let bytesPerColumn = 4 + 8 + 4

    /// The workspace of the workers that run at once, for `parts` parts (checked with C against the budget).
    static func bytes(parts: Int, columns: Int) -> Double {
        Double(min(parts, Parallelism.workerCount)) * Double(columns) * Double(bytesPerColumn)
    }

    init(columns: Int) {
        self.columns = columns
        mark = .allocate(capacity: columns)
        mark.initialize(repeating: -1, count: columns)
        acc = .allocate(capacity: columns)   // written at a column's first touch in a row, before it is read
        scratch = .allocate(capacity: columns)
        counts = .allocate(capacity: 256)
    }

    deinit {
        mark.deallocate()
        acc.deallocate()
        scratch.deallocate()
        counts.deallocate()
    }

    /// Adds a·B[k, entries] into the row `row` being formed (Gustavson's scatter): a column the row meets for the
    /// first time is marked, its accumulator set, and it is appended to the row's columns `ci[base + length]`.
    @inline(__always)
    func accumulate(_ a: Double, indices ri: UnsafeBufferPointer<Int32>, values rv: UnsafeBufferPointer<Double>,
                    entries: Range<Int>, row: Int32, into ci: UnsafeMutableBufferPointer<Int32>, base: Int, length: inout Int) {
        for s in entries {
            let j = Int(ri[s])
            if mark[j] != row {
                mark[j] = row
                acc[j] = a * rv[s]
                ci[base + length] = ri[s]
                length += 1
            } else {
                acc[j] += a * rv[s]
            }
        }
    }

    /// Sorts the columns of the row just formed at `ci[base ..< base + length]`, then writes its values there from
    /// the accumulator.
    @inline(__always)
    func finishRow(_ ci: UnsafeMutableBufferPointer<Int32>, _ cv: UnsafeMutableBufferPointer<Double>, base: Int, length: Int) {
        IndexSort.sort(UnsafeMutableBufferPointer(rebasing: ci[base..<(base + length)]), scratch: scratch, counts: counts,
                       bound: columns)
        for t in base..<(base + length) { cv[t] = acc[Int(ci[t])] }
    }
}
