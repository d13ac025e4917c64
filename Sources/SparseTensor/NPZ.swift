// SparseTensor/NPZ: scipy's sparse `.npz` archives (`scipy.sparse.save_npz` / `load_npz`): a zip of `.npy` arrays.
//
// csr/csc: `indptr` (outer + 1), `indices` (nnz), `data` (nnz); coo: `row`, `col` (or `coords`, 2 × nnz), `data`;
// all with `format` (b'csr', …) and `shape` (m, n). Indices int32 or int64, data float32/float64 (or integers/bool),
// deflated (`compressed=True`, the default) or stored. scipy allows unsorted indices and duplicates; they are
// sorted and summed here.
import Foundation
import ZIPFoundation

enum NPZ {
    // MARK: - Reading

    static func read(url: URL, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw .io(path: path, reason: "no such file") }
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw .malformedFile(file: path, line: 0, reason: "not a readable .npz (zip) archive: \(error)")
        }
        let a = try read(archive, name: path, options: options)
        if let progress = options.progress, let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int {
            progress(size, size)
        }
        return a
    }

    static func read(data: Data, name: String, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw .malformedFile(file: name, line: 0, reason: "not a readable .npz (zip) archive: \(error)")
        }
        return try read(archive, name: name, options: options)
    }

    /// The bytes of `key`.npy, or nil when the archive has no such entry. The `.npy` header is parsed as soon as
    /// it arrives so that the data's size is checked against the budget before it is accumulated.
    /// `maxElements`: refuse (`tooManyEntries`) an array declaring more elements, as soon as its header is read.
    private static func load(_ archive: Archive, _ key: String, name: String, budget: MemoryBudget,
                             maxElements: Int = .max) throws(SparseError) -> (bytes: [UInt8], header: NPYHeader)? {
        guard let entry = archive["\(key).npy"] ?? archive[key] else { return nil }
        let what = "array '\(key)'"
        var bytes: [UInt8] = []
        var header: NPYHeader?
        var expected = Int.max
        func surplus(_ expected: Int) -> SparseError {
            .malformedFile(file: name, line: 0, reason: "\(what): the entry holds more than the \(expected) bytes its .npy header declares")
        }
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                // More data than the header declares: refused at once, not inflated to the end (a few hundred MB of
                // deflated zeros would otherwise keep a core busy for minutes).
                if chunk.count > expected - bytes.count { throw surplus(expected) }
                bytes.append(contentsOf: chunk)
                if header == nil, bytes.count >= 12 {
                    let headerEnd: Int
                    if bytes[6] == 1 { headerEnd = 10 + (Int(bytes[8]) | Int(bytes[9]) << 8) } else {
                        headerEnd = 12 + (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24)
                    }
                    if bytes.count >= headerEnd || bytes.count >= 1 << 24 {
                        let h = try bytes.withUnsafeBytes { raw in try NPY.parseHeader(raw, file: name, what: what) }
                        guard let count = h.elementCount else {
                            throw SparseError.exceedsMemoryBudget(what: "reading \(name) (\(what) of shape \(h.shape))", bytes: .infinity,
                                                                  budget: budget.bytes, detail: "the element count overflows a 64-bit integer")
                        }
                        if count > maxElements { throw SparseError.tooManyEntries(file: name, entries: count, limit: maxElements) }
                        let total = Double(h.dataOffset) + Double(count) * Double(h.itemSize)
                        try budget.check(total, for: "reading \(name) (\(what) of shape \(h.shape))")
                        header = h
                        expected = Int(total)
                        if bytes.count > expected { throw surplus(expected) }
                        bytes.reserveCapacity(expected)
                    }
                }
            }
        } catch let error as SparseError {
            throw error
        } catch {
            throw .malformedFile(file: name, line: 0, reason: "\(what): cannot extract it from the archive: \(error)")
        }
        if header == nil {
            header = try bytes.typedBytes { (raw) throws(SparseError) -> NPYHeader in try NPY.parseHeader(raw, file: name, what: what) }
        }
        guard let header else { return nil }
        return (bytes, header)
    }

    private static func require(_ archive: Archive, _ key: String, name: String, format: String, budget: MemoryBudget,
                                maxElements: Int = .max) throws(SparseError) -> (bytes: [UInt8], header: NPYHeader) {
        guard let a = try load(archive, key, name: name, budget: budget, maxElements: maxElements) else {
            throw .malformedFile(file: name, line: 0,
                                 reason: "missing array '\(key)': a \(format) matrix saved by scipy.sparse.save_npz has \(requiredKeys(format).map { "'\($0)'" }.joined(separator: ", "))")
        }
        return a
    }

    private static func requiredKeys(_ format: String) -> [String] {
        format == "coo" ? ["row", "col", "data", "shape", "format"] : ["indptr", "indices", "data", "shape", "format"]
    }

    private static func read(_ archive: Archive, name: String, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let budget = options.budget
        guard let formatArray = try load(archive, "format", name: name, budget: budget) else {
            let present = archive.map { $0.path }.sorted().joined(separator: ", ")
            throw .malformedFile(file: name, line: 0,
                                 reason: "missing array 'format' (expected a scipy.sparse.save_npz archive with 'format', 'shape', 'data', …; found \(present.isEmpty ? "no arrays" : present))")
        }
        let format = try formatArray.bytes.typedBytes { (raw) throws(SparseError) -> String in
            try NPY.string(raw, formatArray.header, file: name, what: "array 'format'")
        }
        guard ["csr", "csc", "coo"].contains(format) else {
            throw .unsupportedFormat(file: name, reason: "sparse format '\(format)' (supported: csr, csc, coo; convert with .tocsr() before save_npz)")
        }
        let shapeArray = try require(archive, "shape", name: name, format: format, budget: budget)
        let shape = try shapeArray.bytes.typedBytes { (raw) throws(SparseError) -> [Int] in
            try NPY.integers(raw, shapeArray.header, file: name, what: "array 'shape'", budget: budget)
        }
        guard shape.count == 2 else {
            throw .malformedFile(file: name, line: 0, reason: "array 'shape': expected 2 dimensions (rows, columns), found \(shape)")
        }
        let m = shape[0], n = shape[1]
        for (v, what) in [(m, "rows"), (n, "columns")] where v < 0 || v > Int(Int32.max) {
            throw .malformedFile(file: name, line: 0, reason: "array 'shape': \(v) \(what) is outside 0...\(Int32.max)")
        }
        // The entry limit is checked on the header of 'data', before its values are extracted.
        let dataArray = try require(archive, "data", name: name, format: format, budget: budget, maxElements: options.maxEntries)
        let nnz = dataArray.header.elementCount ?? 0
        try budget.check(StorageBytes.compressed(outer: max(m, n), nnz: Double(nnz)) * 2,
                         for: "reading \(name) (\(m) × \(n), \(nnz) entries)")
        let data = try dataArray.bytes.typedBytes { (raw) throws(SparseError) -> [Double] in
            try NPY.doubles(raw, dataArray.header, file: name, what: "array 'data'", budget: budget)
        }
        guard dataArray.header.shape.count == 1 else {
            throw .malformedFile(file: name, line: 0, reason: "array 'data': expected 1 dimension, found shape \(dataArray.header.shape)")
        }

        if format == "coo" {
            var rows: [Int32], columns: [Int32]
            if let r = try load(archive, "row", name: name, budget: budget) {
                let c = try require(archive, "col", name: name, format: format, budget: budget)
                rows = try r.bytes.typedBytes { (raw) throws(SparseError) -> [Int32] in
                    try NPY.indices(raw, r.header, file: name, what: "array 'row'", limit: m, limitName: "\(m) rows", budget: budget)
                }
                columns = try c.bytes.typedBytes { (raw) throws(SparseError) -> [Int32] in
                    try NPY.indices(raw, c.header, file: name, what: "array 'col'", limit: n, limitName: "\(n) columns", budget: budget)
                }
            } else if let coords = try load(archive, "coords", name: name, budget: budget) {
                guard coords.header.shape == [2, nnz], !coords.header.fortranOrder else {
                    throw .malformedFile(file: name, line: 0, reason: "array 'coords': expected shape (2, \(nnz)) in C order, found \(coords.header.shape)")
                }
                let all = try coords.bytes.typedBytes { (raw) throws(SparseError) -> [Int32] in
                    try NPY.indices(raw, coords.header, file: name, what: "array 'coords'", limit: max(m, n),
                                    limitName: "the larger dimension \(max(m, n))", budget: budget)
                }
                rows = Array(all[0..<nnz])
                columns = Array(all[nnz...])
                if let k = rows.firstIndex(where: { Int($0) >= m }) {
                    throw .malformedFile(file: name, line: 0, reason: "array 'coords': row index \(rows[k]) at entry \(k) is outside 0..<\(m)")
                }
                if let k = columns.firstIndex(where: { Int($0) >= n }) {
                    throw .malformedFile(file: name, line: 0, reason: "array 'coords': column index \(columns[k]) at entry \(k) is outside 0..<\(n)")
                }
            } else {
                throw .malformedFile(file: name, line: 0,
                                     reason: "missing array 'row' (and 'col'): a coo matrix saved by scipy.sparse.save_npz has 'row', 'col', 'data', 'shape', 'format'")
            }
            guard rows.count == nnz, columns.count == nnz else {
                throw .malformedFile(file: name, line: 0,
                                     reason: "inconsistent lengths: 'row' has \(rows.count), 'col' \(columns.count) and 'data' \(nnz) elements; all must be equal")
            }
            let t = Triplets(rows: rows, columns: columns, values: data, maxRow: m - 1, maxColumn: n - 1)
            return try MatrixMarketReader.assemble(t, rows: m, columns: n, symmetry: .general, options: options)
        }

        // csr / csc
        let rowMajor = format == "csr"
        let outer = rowMajor ? m : n, inner = rowMajor ? n : m
        let outerName = rowMajor ? "rows" : "columns", innerName = rowMajor ? "columns" : "rows"
        let pointerArray = try require(archive, "indptr", name: name, format: format, budget: budget)
        let indptr = try pointerArray.bytes.typedBytes { (raw) throws(SparseError) -> [Int] in
            try NPY.integers(raw, pointerArray.header, file: name, what: "array 'indptr'", budget: budget)
        }
        guard indptr.count == outer + 1 else {
            throw .malformedFile(file: name, line: 0,
                                 reason: "array 'indptr' has \(indptr.count) elements; a \(m) × \(n) \(format) matrix needs \(outer + 1) (\(outerName) + 1)")
        }
        guard indptr[0] == 0 else {
            throw .malformedFile(file: name, line: 0, reason: "array 'indptr' starts at \(indptr[0]); it must start at 0")
        }
        for k in 0..<outer where indptr[k + 1] < indptr[k] {
            throw .malformedFile(file: name, line: 0,
                                 reason: "array 'indptr' decreases at position \(k + 1) (\(indptr[k]) then \(indptr[k + 1])); it must be nondecreasing")
        }
        guard indptr[outer] == nnz else {
            throw .malformedFile(file: name, line: 0,
                                 reason: "inconsistent lengths: 'indptr' ends at \(indptr[outer]) but 'data' has \(nnz) elements")
        }
        let indexArray = try require(archive, "indices", name: name, format: format, budget: budget)
        let indices = try indexArray.bytes.typedBytes { (raw) throws(SparseError) -> [Int32] in
            try NPY.indices(raw, indexArray.header, file: name, what: "array 'indices'", limit: inner,
                            limitName: "\(inner) \(innerName)", budget: budget)
        }
        guard indices.count == nnz else {
            throw .malformedFile(file: name, line: 0,
                                 reason: "inconsistent lengths: 'indices' has \(indices.count) elements but 'data' has \(nnz)")
        }
        var storage = CompressedStorage(unchecked: outer, inner, indptr, indices, data)
        try CoordinateAssembly.canonicalizeLines(&storage, rowMajor: rowMajor, parallel: options.tuning.parallel)
        return rowMajor ? CSRMatrix(storage: storage) : CSRMatrix(storage: storage.transposed())
    }

    // MARK: - Writing

    /// Adds one `.npy` entry (header + raw little-endian data) to an archive being written.
    typealias AddArray = (_ key: String, _ descr: String, _ shape: [Int], _ raw: UnsafeRawBufferPointer) throws(SparseError) -> Void

    /// Creates a zip archive beside `url`, lets `body` add arrays, and renames it into place on success.
    static func writeArchive(to url: URL, compressed: Bool, _ body: (AddArray) throws(SparseError) -> Void) throws(SparseError) {
        try withTemporaryPath(beside: url) { (temporary) throws(SparseError) in
            let archive: Archive
            do {
                archive = try Archive(url: temporary, accessMode: .create)
            } catch {
                throw .io(path: url.path, reason: "cannot create the archive: \(error)")
            }
            let method: CompressionMethod = compressed ? .deflate : .none
            func add(_ key: String, _ descr: String, _ shape: [Int], _ raw: UnsafeRawBufferPointer) throws(SparseError) {
                let header = NPY.header(descr: descr, shape: shape)
                let total = header.count + raw.count
                do {
                    try archive.addEntry(with: "\(key).npy", type: .file, uncompressedSize: Int64(total),
                                         compressionMethod: method, bufferSize: 1 << 20) { position, size in
                        let start = Int(position), end = min(total, start + size)
                        var chunk = Data(capacity: end - start)
                        if start < header.count { chunk.append(contentsOf: header[start..<min(end, header.count)]) }
                        if end > header.count {
                            let from = max(start, header.count) - header.count, to = end - header.count
                            chunk.append(UnsafeRawBufferPointer(rebasing: raw[from..<to]).bindMemory(to: UInt8.self))
                        }
                        return chunk
                    }
                } catch {
                    throw .io(path: url.path, reason: "cannot add '\(key).npy' to the archive: \(error)")
                }
            }
            try body(add)
        }
    }

    /// csr with int32 indices/indptr when nnz fits (else int64), float64 data, `format` b'csr', `shape` int64.
    static func write(_ a: CSRMatrix, to url: URL, compressed: Bool) throws(SparseError) {
        let wide = a.nnz > Int(Int32.max)
        try writeArchive(to: url, compressed: compressed) { (add) throws(SparseError) in
            func addArray<T>(_ key: String, _ descr: String, _ values: [T]) throws(SparseError) {
                try values.typedBytes { (raw) throws(SparseError) in try add(key, descr, [values.count], raw) }
            }
            if wide {
                try addArray("indices", "<i8", a.columnIndices.map { Int64($0) })
                try addArray("indptr", "<i8", a.rowOffsets.map { Int64($0) })
            } else {
                try addArray("indices", "<i4", a.columnIndices)
                try addArray("indptr", "<i4", a.rowOffsets.map { Int32(truncatingIfNeeded: $0) })
            }
            try Array("csr".utf8).typedBytes { (raw) throws(SparseError) in try add("format", "|S3", [], raw) }
            try addArray("shape", "<i8", [Int64(a.rowCount), Int64(a.columnCount)])
            try addArray("data", "<f8", a.values)
        }
    }
}
