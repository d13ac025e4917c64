// SparseTensor/MatrixMarket+Write: CSR matrices and dense vectors → Matrix Market text that scipy.io.mmread reads back exactly.
import Foundation

enum MatrixMarketWriter {
    /// `coordinate real general`, 1-based, row by row, values in shortest round-trip form.
    static func write(_ a: CSRMatrix, to url: URL) throws(SparseError) {
        try writeAtomically(to: url) { (w) throws(SparseError) in
            try w.write("%%MatrixMarket matrix coordinate real general\n% written by lsq\n")
            try w.write("\(a.rowCount) \(a.columnCount) \(a.nnz)\n")
            let offsets = a.rowOffsets, indices = a.columnIndices, values = a.values
            try TextFormatting.writeInPieces(to: w, count: a.rowCount, offsets: offsets) { rows, out in
                out.reserveCapacity((offsets[rows.upperBound] - offsets[rows.lowerBound]) * 32)
                for r in rows {
                    for p in offsets[r]..<offsets[r + 1] {
                        TextFormatting.appendInt(r + 1, to: &out)
                        out.append(ASCII.space)
                        TextFormatting.appendInt(Int(indices[p]) + 1, to: &out)
                        out.append(ASCII.space)
                        TextFormatting.appendDouble(values[p], to: &out)
                        out.append(ASCII.newline)
                    }
                }
            }
        }
    }

    /// An m × 1 vector: `coordinate` listing the nonzeros when `sparse`, else `array` with every value.
    static func writeVector(_ x: [Double], to url: URL, sparse: Bool) throws(SparseError) {
        try writeAtomically(to: url) { (w) throws(SparseError) in
            if sparse {
                let nonzeros = x.indices.filter { x[$0] != 0 }
                try w.write("%%MatrixMarket matrix coordinate real general\n% written by lsq\n")
                try w.write("\(x.count) 1 \(nonzeros.count)\n")
                try TextFormatting.writeInPieces(to: w, count: nonzeros.count) { range, out in
                    for k in range {
                        TextFormatting.appendInt(nonzeros[k] + 1, to: &out)
                        out.append(contentsOf: [ASCII.space, ASCII.zero + 1, ASCII.space])
                        TextFormatting.appendDouble(x[nonzeros[k]], to: &out)
                        out.append(ASCII.newline)
                    }
                }
            } else {
                try w.write("%%MatrixMarket matrix array real general\n% written by lsq\n")
                try w.write("\(x.count) 1\n")
                try TextFormatting.writeInPieces(to: w, count: x.count) { range, out in
                    for i in range {
                        TextFormatting.appendDouble(x[i], to: &out)
                        out.append(ASCII.newline)
                    }
                }
            }
        }
    }
}
