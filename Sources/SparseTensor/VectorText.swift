// SparseTensor/VectorText: a dense vector as plain text, one number per line (`numpy.savetxt` of a 1-D array).
import Foundation

enum VectorText {
    /// One number per line; blank lines and lines starting with `#` or `%` are skipped.
    static func read(_ raw: UnsafeRawBufferPointer, name: String, options: ReadOptions) throws(SparseError) -> [Double] {
        guard let base = raw.baseAddress, raw.count > 0 else { return [] }
        let b = base.assumingMemoryBound(to: UInt8.self)
        return try CoordinateText.readValues(b, start: 0, end: raw.count, firstLine: 1, expected: nil, comment: .either,
                                             name: name, what: "values", headerLine: 0, options: options)
    }

    static func write(_ x: [Double], to url: URL) throws(SparseError) {
        try writeAtomically(to: url) { (w) throws(SparseError) in
            try TextFormatting.writeInPieces(to: w, count: x.count) { range, out in
                for i in range {
                    TextFormatting.appendDouble(x[i], to: &out)
                    out.append(ASCII.newline)
                }
            }
        }
    }
}
