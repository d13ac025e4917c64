// SparseTensor/MatrixMarket+Read: Matrix Market `coordinate` and `array` files → CSR matrices and dense vectors.
//
// Coordinate: real, integer or pattern (values 1); general, symmetric (mirror a_ij to a_ji) or skew-symmetric
// (mirror −a_ij); duplicates summed. Array: column-major values, zeros dropped when read as a matrix.
// Indices are 1-based as the format requires; `ReadOptions.zeroBased` reads the 0-based files SuiteSparse
// tools write (SPQR/Matrix/a4.mtx), which are otherwise rejected at the first index 0.

enum MatrixMarketReader {
    static func readMatrix(_ raw: UnsafeRawBufferPointer, name: String, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        guard let base = raw.baseAddress, raw.count > 0 else {
            throw .malformedFile(file: name, line: 1, reason: "empty file: expected the Matrix Market banner '%%MatrixMarket matrix coordinate real general'")
        }
        let b = base.assumingMemoryBound(to: UInt8.self)
        let header = try MatrixMarketHeader.parse(b, count: raw.count, name: name, budget: options.budget)
        switch header.layout {
        case .coordinate:
            return try readCoordinate(b, count: raw.count, header: header, name: name, options: options)
        case .array:
            return try readArray(b, count: raw.count, header: header, name: name, options: options)
        }
    }

    private static func readCoordinate(_ b: UnsafePointer<UInt8>, count: Int, header: MatrixMarketHeader, name: String,
                                       options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let expanded = CoordinateAssembly.expandedBound(stored: header.entries, symmetry: header.symmetry)
        let what = "reading \(name) (\(header.rows) × \(header.columns), \(header.entries) entries declared at line \(header.dataFirstLine - 1))"
        try options.checkEntries(header.entries, file: name)
        // The CSR result and the per-worker row counts: all the direct path allocates.
        try options.budget.check(CoordinateAssembly.workingBytes(rowCount: header.rows, expanded: expanded), for: what)
        if let a = try DirectCSRParsing.read(b, count: count, header: header, name: name, options: options) {
            return a
        }
        // The entry lines do not number what the header declares: the triplet path finds the line at fault
        // (an earlier malformed line, the first extra entry, or the end of a truncated file).
        try options.budget.check(StorageBytes.coordinate(nnz: Double(header.entries))
                                     + CoordinateAssembly.workingBytes(rowCount: header.rows, expanded: expanded), for: what)
        let layout = CoordinateLayout(shape: (header.rows, header.columns), declaredEntries: header.entries,
                                      base: options.zeroBased ? 0 : 1, hasValues: header.hasValues,
                                      skew: header.symmetry == .skewSymmetric, comment: .percent,
                                      kind: "Matrix Market", headerLine: header.dataFirstLine - 1)
        let t = try CoordinateText.read(b, start: header.dataStart, end: count, firstLine: header.dataFirstLine,
                                        layout: layout, name: name, options: options, budgetPerEntry: 0)
        return try assemble(t, rows: header.rows, columns: header.columns, symmetry: header.symmetry, options: options)
    }

    static func assemble(_ t: Triplets, rows m: Int, columns n: Int, symmetry: StoredSymmetry,
                         options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let result: Result<CSRMatrix, SparseError> = t.rows.withUnsafeBufferPointer { rp in
            t.columns.withUnsafeBufferPointer { cp in
                func run(_ vp: UnsafeBufferPointer<Double>?) -> Result<CSRMatrix, SparseError> {
                    do throws(SparseError) {
                        return .success(try CoordinateAssembly.assemble(
                            rowCount: m, columnCount: n, rows: rp, columns: cp, values: vp,
                            symmetry: symmetry, parallel: options.tuning.parallel))
                    } catch {
                        return .failure(error)
                    }
                }
                if let values = t.values { return values.withUnsafeBufferPointer { run($0) } }
                return run(nil)
            }
        }
        return try result.get()
    }

    /// Dense column-major values: all m·n (general), or the lower triangle by columns (symmetric: j ≤ i;
    /// skew-symmetric: j < i). Read as a sparse matrix, exact zeros are dropped.
    private static func readArray(_ b: UnsafePointer<UInt8>, count: Int, header: MatrixMarketHeader, name: String,
                                  options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let m = header.rows, n = header.columns
        let listed = Double(m) * Double(n)
        try options.checkEntries(listed < Double(Int.max) ? Int(listed) : .max, file: name)
        try options.budget.check(listed * 8 + StorageBytes.coordinate(nnz: listed) + CoordinateAssembly.workingBytes(rowCount: m, expanded: listed),
                                 for: "reading \(name) (a dense \(m) × \(n) array)")
        let values = try CoordinateText.readValues(b, start: header.dataStart, end: count, firstLine: header.dataFirstLine,
                                                   expected: header.entries, comment: .percent, name: name,
                                                   what: "values", headerLine: header.dataFirstLine - 1, options: options)
        var rows: [Int32] = [], columns: [Int32] = [], kept: [Double] = []
        var k = 0
        for j in 0..<n {
            let first = header.symmetry == .general ? 0 : (header.symmetry == .symmetric ? j : j + 1)
            for i in first..<max(first, m) {
                let v = values[k]
                k += 1
                if v != 0 {
                    rows.append(Int32(i))
                    columns.append(Int32(j))
                    kept.append(v)
                }
            }
        }
        let t = Triplets(rows: rows, columns: columns, values: kept, maxRow: m - 1, maxColumn: n - 1)
        return try assemble(t, rows: m, columns: n, symmetry: header.symmetry, options: options)
    }

    /// A dense vector from an m × 1 or 1 × m file: `array` lists the values; `coordinate` gives the nonzeros
    /// (positions not listed are 0; duplicates are summed).
    static func readVector(_ raw: UnsafeRawBufferPointer, name: String, options: ReadOptions) throws(SparseError) -> [Double] {
        guard let base = raw.baseAddress, raw.count > 0 else {
            throw .malformedFile(file: name, line: 1, reason: "empty file: expected the Matrix Market banner '%%MatrixMarket matrix array real general'")
        }
        let b = base.assumingMemoryBound(to: UInt8.self)
        let header = try MatrixMarketHeader.parse(b, count: raw.count, name: name, budget: options.budget)
        let sizeLine = header.dataFirstLine - 1
        guard header.rows == 1 || header.columns == 1 else {
            throw .malformedFile(file: name, line: sizeLine,
                                 reason: "expected a vector (m × 1 or 1 × m), but the size line says \(header.rows) × \(header.columns)")
        }
        let length = header.rows == 1 ? header.columns : header.rows
        if header.symmetry != .general && length > 1 {
            throw .malformedFile(file: name, line: 1, reason: "a vector cannot be stored as symmetric; use 'general'")
        }
        try options.budget.check(Double(length) * 8, for: "reading \(name) (a vector of length \(length))")
        switch header.layout {
        case .array:
            return try CoordinateText.readValues(b, start: header.dataStart, end: raw.count, firstLine: header.dataFirstLine,
                                                 expected: length, comment: .percent, name: name, what: "values",
                                                 headerLine: sizeLine, options: options)
        case .coordinate:
            try options.budget.check(Double(length) * 8 + StorageBytes.coordinate(nnz: Double(header.entries)),
                                     for: "reading \(name) (a vector of length \(length), \(header.entries) entries)")
            let layout = CoordinateLayout(shape: (header.rows, header.columns), declaredEntries: header.entries,
                                          base: options.zeroBased ? 0 : 1, hasValues: header.hasValues, skew: false,
                                          comment: .percent, kind: "Matrix Market", headerLine: sizeLine)
            let t = try CoordinateText.read(b, start: header.dataStart, end: raw.count, firstLine: header.dataFirstLine,
                                            layout: layout, name: name, options: options, budgetPerEntry: 0)
            var x = [Double](repeating: 0, count: length)
            let positions = header.rows == 1 ? t.columns : t.rows
            for k in 0..<t.count { x[Int(positions[k])] += t.values?[k] ?? 1 }
            if let bad = x.firstIndex(where: { !$0.isFinite }) {
                throw .malformedFile(file: name, line: 0, reason: "duplicate entries at position \(bad + 1) sum to \(x[bad]); values must be finite")
            }
            return x
        }
    }
}
