// SparseTensor/TripletFormat: CSparse's triplet text (`cs_load`): `i j x` per line, 0-based, no header.
//
// The shape is not stored: a reader infers (1 + largest row) × (1 + largest column), so trailing empty rows
// or columns of the original matrix are lost (SuiteSparse's mbeacxc.csparse.tri is 496 × 496 but reads as 492 × 490).
// Duplicates are summed, as `cs_compress` + `cs_dupl` do.
import Foundation

enum TripletFormat {
    static func read(_ raw: UnsafeRawBufferPointer, name: String, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        guard let base = raw.baseAddress, raw.count > 0 else { return try CSRMatrix.zeros(rowCount: 0, columnCount: 0) }
        let b = base.assumingMemoryBound(to: UInt8.self)
        let layout = CoordinateLayout(shape: nil, declaredEntries: nil, base: 0, hasValues: true, skew: false,
                                      comment: .either, kind: "triplet", headerLine: 0)
        // Per entry: the triplet (16 B) and its CSR copy (12 B); offsets are checked once the shape is known.
        let t = try CoordinateText.read(b, start: 0, end: raw.count, firstLine: 1, layout: layout, name: name,
                                        options: options, budgetPerEntry: 28)
        let m = t.maxRow + 1, n = t.maxColumn + 1
        try options.budget.check(StorageBytes.coordinate(nnz: Double(t.count)) + CoordinateAssembly.workingBytes(rowCount: m, expanded: Double(t.count)),
                                 for: "reading \(name) (\(m) × \(n) inferred, \(t.count) entries)")
        return try MatrixMarketReader.assemble(t, rows: m, columns: n, symmetry: .general, options: options)
    }

    /// `i j x` per stored entry, 0-based, row by row.
    static func write(_ a: CSRMatrix, to url: URL) throws(SparseError) {
        try writeAtomically(to: url) { (w) throws(SparseError) in
            let offsets = a.rowOffsets, indices = a.columnIndices, values = a.values
            try TextFormatting.writeInPieces(to: w, count: a.rowCount, offsets: offsets) { rows, out in
                for r in rows {
                    for p in offsets[r]..<offsets[r + 1] {
                        TextFormatting.appendInt(r, to: &out)
                        out.append(ASCII.space)
                        TextFormatting.appendInt(Int(indices[p]), to: &out)
                        out.append(ASCII.space)
                        TextFormatting.appendDouble(values[p], to: &out)
                        out.append(ASCII.newline)
                    }
                }
            }
        }
    }
}
