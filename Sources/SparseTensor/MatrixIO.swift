// SparseTensor/MatrixIO: the entry points for reading and writing matrices and vectors in every supported format.
import Foundation

/// The matrix file formats lsq reads and writes, named by their usual extension.
public enum MatrixFileFormat: String, Sendable, CaseIterable {
    /// NIST Matrix Market (`.mtx`, `.mm`): `coordinate` real/integer/pattern, general/symmetric/skew-symmetric; `array`.
    case matrixMarket = "mtx"
    /// SVMlight / libsvm (`label idx:val …`, 1-based): the matrix and its labels y.
    case svmlight = "svm"
    /// `scipy.sparse.save_npz` archives (csr, csc or coo).
    case npz
    /// lsq's binary CSR dump: header, then the raw offsets, indices and values (fast reload).
    case binary = "lsqb"
    /// CSparse triplets: `i j x` per line, 0-based, no header, shape inferred from the largest indices.
    case triplet = "tri"

    /// The format a path's extension names (case-insensitive), or nil: `.mtx`/`.mm`, `.svm`/`.svmlight`/`.libsvm`,
    /// `.npz`, `.lsqb`, `.tri`. Compressed files (`.gz`) and ambiguous extensions such as `.txt` give nil.
    public static func infer(fromPath path: String) -> MatrixFileFormat? {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "mtx", "mm": return .matrixMarket
        case "svm", "svmlight", "libsvm": return .svmlight
        case "npz": return .npz
        case "lsqb": return .binary
        case "tri": return .triplet
        default: return nil
        }
    }

    /// Whether `raw` opens with the Matrix Market banner, in any letter case (as the header parser accepts it).
    package static func hasMatrixMarketBanner(_ raw: UnsafeRawBufferPointer) -> Bool {
        raw.count >= 14 && String(decoding: raw.prefix(14), as: UTF8.self).lowercased() == "%%matrixmarket"
    }

    /// The format recognisable from a file's first bytes, or nil (SVMlight when the first data line has `idx:val`).
    /// Lines are split on LF bytes with a CR trimmed, and the first data line is judged even when the 4 KB head
    /// cuts it (real libsvm files have lines of 50 KB).
    static func sniff(_ raw: UnsafeRawBufferPointer) -> MatrixFileFormat? {
        let head = Array(raw.prefix(4096))
        if hasMatrixMarketBanner(raw) { return .matrixMarket }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .npz }
        if head.starts(with: BinaryMatrixFormat.magic) { return .binary }
        // First line that is neither blank nor a comment: `label idx:val …` is SVMlight.
        var start = 0
        while start < head.count {
            let end = head[start...].firstIndex(of: 0x0A) ?? head.count
            let line = String(decoding: head[start..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            start = end + 1
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("%") { continue }
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return tokens.dropFirst().contains(where: { $0.contains(":") }) ? .svmlight : nil
        }
        return nil
    }
}

/// How to read a file.
public struct ReadOptions: Sendable {
    /// Bytes the reader may allocate for what the file declares; checked before allocating.
    public var budget: MemoryBudget = .default
    /// Read Matrix Market / SVMlight indices as 0-based (files written by tools that do not follow the format).
    /// Off by default: Matrix Market and SVMlight are 1-based, and an index 0 is reported with a hint.
    public var zeroBased: Bool = false
    /// Called with (bytes read so far, total bytes) as parsing advances, from the reading threads, in nondecreasing order.
    public var progress: (@Sendable (_ bytesRead: Int, _ totalBytes: Int) -> Void)? = nil
    /// The most stored entries a matrix may have (a server's per-job limit): checked against what the file
    /// declares (Matrix Market's header, `.npz` and `.lsqb` lengths) or, for SVMlight and triplet text, against
    /// the entries counted before parsing — before anything of the matrix's size is allocated or parsed.
    public var maxEntries: Int = .max
    /// Chunking of the parallel text readers (tests force tiny chunks or one thread).
    var tuning = ChunkTuning()

    /// Throws `tooManyEntries` when `entries` is over `maxEntries`.
    func checkEntries(_ entries: Int, file: String) throws(SparseError) {
        if entries > maxEntries { throw .tooManyEntries(file: file, entries: entries, limit: maxEntries) }
    }

    public init(budget: MemoryBudget = .default, zeroBased: Bool = false,
                progress: (@Sendable (_ bytesRead: Int, _ totalBytes: Int) -> Void)? = nil) {
        self.budget = budget
        self.zeroBased = zeroBased
        self.progress = progress
    }
}

/// A matrix read from a file, with the labels y when the format carries them (SVMlight).
public struct LoadedMatrix: Sendable {
    public var matrix: CSRMatrix
    /// y from SVMlight (one per row); nil for formats without labels.
    public var labels: [Double]?

    public init(matrix: CSRMatrix, labels: [Double]? = nil) {
        self.matrix = matrix
        self.labels = labels
    }
}

/// Reading and writing matrices and vectors. Every failure is a `SparseError` naming the file, the line
/// (text formats, 1-based) or the array (`.npz`), and what was expected.
public enum MatrixIO {
    // MARK: - Matrices

    /// Reads a matrix; `format` nil means by extension, then by the file's first bytes.
    public static func readMatrix(at url: URL, format: MatrixFileFormat? = nil,
                                  options: ReadOptions = ReadOptions()) throws(SparseError) -> LoadedMatrix {
        let path = url.path
        if format == .npz || (format == nil && MatrixFileFormat.infer(fromPath: path) == .npz) {
            return LoadedMatrix(matrix: try NPZ.read(url: url, options: options))
        }
        if format == .binary || (format == nil && MatrixFileFormat.infer(fromPath: path) == .binary) {
            return LoadedMatrix(matrix: try BinaryMatrixFormat.read(path: path, options: options))
        }
        let file = try MappedFile(path: path)
        return try file.withBytes { (raw) throws(SparseError) -> LoadedMatrix in
            guard let f = format ?? MatrixFileFormat.infer(fromPath: path) ?? MatrixFileFormat.sniff(raw) else {
                throw unknownFormat(path)
            }
            return try read(raw, format: f, name: path, options: options)
        }
    }

    /// Reads a matrix from memory (uploads); `name` is used in messages.
    public static func readMatrix(data: Data, format: MatrixFileFormat, name: String,
                                  options: ReadOptions = ReadOptions()) throws(SparseError) -> LoadedMatrix {
        if format == .npz { return LoadedMatrix(matrix: try NPZ.read(data: data, name: name, options: options)) }
        return try data.withBytes { (raw) throws(SparseError) -> LoadedMatrix in
            try read(raw, format: format, name: name, options: options)
        }
    }

    private static func read(_ raw: UnsafeRawBufferPointer, format: MatrixFileFormat, name: String,
                             options: ReadOptions) throws(SparseError) -> LoadedMatrix {
        switch format {
        case .matrixMarket:
            return LoadedMatrix(matrix: try MatrixMarketReader.readMatrix(raw, name: name, options: options))
        case .svmlight:
            let (a, y) = try SVMLight.read(raw, name: name, options: options)
            return LoadedMatrix(matrix: a, labels: y)
        case .triplet:
            return LoadedMatrix(matrix: try TripletFormat.read(raw, name: name, options: options))
        case .binary:
            return LoadedMatrix(matrix: try BinaryMatrixFormat.read(raw, name: name, options: options))
        case .npz:
            return LoadedMatrix(matrix: try NPZ.read(data: Data(raw), name: name, options: options))
        }
    }

    /// Writes `a` atomically (nothing appears at `url` unless the whole file was written); `format` nil means by
    /// extension. Matrix Market: `coordinate real general`, 1-based, shortest round-trip values. `.npz`: csr with
    /// int32 indices when they fit (else int64), float64 data, readable by `scipy.sparse.load_npz`. `.lsqb`, `.tri`.
    /// SVMlight needs labels: use `writeSVMLight(_:labels:to:)`. `compressNPZ` deflates the `.npz` members, as
    /// `scipy.sparse.save_npz` does by default (smaller, slower to write and read); other formats ignore it.
    public static func writeMatrix(_ a: CSRMatrix, to url: URL, format: MatrixFileFormat? = nil,
                                   compressNPZ: Bool = false) throws(SparseError) {
        guard let f = format ?? MatrixFileFormat.infer(fromPath: url.path) else { throw unknownFormat(url.path) }
        switch f {
        case .matrixMarket: try MatrixMarketWriter.write(a, to: url)
        case .npz: try NPZ.write(a, to: url, compressed: compressNPZ)
        case .binary: try BinaryMatrixFormat.write(a, to: url)
        case .triplet: try TripletFormat.write(a, to: url)
        case .svmlight:
            throw .unsupportedFormat(file: url.path, reason: "SVMlight files carry a label per row; write them with MatrixIO.writeSVMLight(_:labels:to:)")
        }
    }

    /// Writes `a` with labels `y` (one per row) as SVMlight: `y_i j:a_ij …` with 1-based j, atomically.
    public static func writeSVMLight(_ a: CSRMatrix, labels y: [Double], to url: URL) throws(SparseError) {
        try SVMLight.write(a, labels: y, to: url)
    }

    // MARK: - Vectors

    /// Reads a dense vector by extension: `.mtx`/`.mm` (m × 1 or 1 × m, array or coordinate), `.npy` (1-D
    /// float64/float32/int), anything else plain text (one number per line; `#`/`%` comment lines and blank lines skipped).
    public static func readVector(at url: URL, options: ReadOptions = ReadOptions()) throws(SparseError) -> [Double] {
        let path = url.path
        let file = try MappedFile(path: path)
        let ext = (path as NSString).pathExtension.lowercased()
        return try file.withBytes { (raw) throws(SparseError) -> [Double] in
            switch ext {
            case "mtx", "mm": return try MatrixMarketReader.readVector(raw, name: path, options: options)
            case "npy": return try NPY.readVector(raw, name: path, options: options)
            default: return try VectorText.read(raw, name: path, options: options)
            }
        }
    }

    /// Reads a dense vector from memory, by content: `%%MatrixMarket`, `\x93NUMPY`, else plain text.
    public static func readVector(data: Data, name: String, options: ReadOptions = ReadOptions()) throws(SparseError) -> [Double] {
        try data.withBytes { (raw) throws(SparseError) -> [Double] in
            if MatrixFileFormat.hasMatrixMarketBanner(raw) {
                return try MatrixMarketReader.readVector(raw, name: name, options: options)
            }
            if raw.starts(with: NPY.magic) { return try NPY.readVector(raw, name: name, options: options) }
            return try VectorText.read(raw, name: name, options: options)
        }
    }

    /// Writes x atomically: `.npy` as float64; `.txt` one number per line; anything else Matrix Market
    /// (`coordinate` m × 1 listing the nonzeros when `sparse`, else `array` m × 1). Values round-trip exactly.
    public static func writeVector(_ x: [Double], to url: URL, sparse: Bool) throws(SparseError) {
        try checkFinite(x, name: url.path)
        switch (url.path as NSString).pathExtension.lowercased() {
        case "npy": try NPY.writeVector(x, to: url)
        case "txt": try VectorText.write(x, to: url)
        default: try MatrixMarketWriter.writeVector(x, to: url, sparse: sparse)
        }
    }

    // MARK: - Helpers

    static func unknownFormat(_ path: String) -> SparseError {
        let known = MatrixFileFormat.allCases.map { ".\($0.rawValue)" }.joined(separator: ", ")
        return .unsupportedFormat(file: path, reason: "cannot tell the matrix format from the name or the contents; use one of \(known) (or .mm, .svmlight, .libsvm), or pass the format explicitly")
    }

    static func checkFinite(_ x: [Double], name: String) throws(SparseError) {
        if let k = x.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteValue(entry: k, row: k, column: 0, value: x[k])
        }
    }
}
