// SolverService/Jobs/UploadReader: file uploads — Matrix Market, SVMlight, .npz as the body or as multipart parts.
import Foundation
import LeastSquares
import SparseTensor

/// Reads solve problems sent as files, through `MatrixIO` (the same readers as the CLI), with the
/// per-job memory budget as the readers' budget.
///
/// - Raw body, by Content-Type: `text/x-matrix-market` (A), `application/x-svmlight` (A and its labels
///   as y), `application/x-npz` (A). Options come from the query string. Matrix Market and .npz carry
///   no y, so they need the multipart form.
/// - `multipart/form-data`: part `A` (a file; its format from the part's Content-Type, else from the
///   file name's extension, else from its first bytes), part `y` (a JSON array, Matrix Market, .npy or
///   one number per line), part `options` (a JSON object as in the JSON body). Options may also come
///   from the query string when there is no options part.
enum UploadReader {
    static func solve(body: Data, input: JobInput, limits: JobLimits) throws(ServiceError) -> SolveInput {
        let readOptions = ReadOptions(budget: limits.memoryBudget)
        let query = input.query.compactMap { $0.count == 2 ? (name: $0[0], value: $0[1]) : nil }
        switch input.format {
        case "multipart":
            guard let boundary = MediaType(input.contentType)?.parameters["boundary"] else {
                throw ServiceError(.badRequest, "invalid_multipart", "multipart/form-data needs a boundary parameter")
            }
            var a: Data?, aPart: MultipartPart?, y: Data?, options: Data?
            for part in try Multipart.parse(body, boundary: boundary) {
                switch part.name {
                case "A":
                    guard a == nil else { throw ServiceError(.badRequest, "invalid_multipart", "part 'A' appears twice") }
                    a = part.body
                    aPart = part
                case "y":
                    guard y == nil else { throw ServiceError(.badRequest, "invalid_multipart", "part 'y' appears twice") }
                    y = part.body
                case "options":
                    guard options == nil else { throw ServiceError(.badRequest, "invalid_multipart", "part 'options' appears twice") }
                    options = part.body
                default:
                    throw ServiceError(.badRequest, "invalid_multipart", "unknown part '\(part.name.prefix(40))' (expected A, y, options)")
                }
            }
            guard let a, let aPart else { throw ServiceError(.badRequest, "invalid_multipart", "part 'A' (the matrix file) is missing") }
            let format = try format(of: aPart)
            var resolved: JobOptions
            if let options {
                guard query.isEmpty else {
                    throw ServiceError(.badRequest, "invalid_request", "options are given both as a part and as query parameters; use one")
                }
                resolved = try decodeOptionsPart(options).resolve(memoryBudget: limits.memoryBudget)
            } else {
                resolved = try OptionsDocument(query: query).resolve(memoryBudget: limits.memoryBudget)
            }
            let loaded = try readMatrix(a, format: format, options: readOptions, limits: limits)
            var rhs = loaded.labels
            if let y {
                guard rhs == nil else {
                    throw ServiceError(.badRequest, "invalid_request", "y is given twice: as the SVMlight labels of A and as part 'y'; send one")
                }
                rhs = try readVector(y, options: readOptions)
            }
            guard let rhs else {
                throw ServiceError(.unprocessableContent, "invalid_problem", "y is missing: add a part 'y' (a \(format == .npz ? ".npz" : "Matrix Market") matrix carries no right-hand side)")
            }
            return try ProblemReader.makeProblem(loaded.matrix, rhs, resolved)
        default:
            let format: MatrixFileFormat
            switch input.format {
            case "matrix-market": format = .matrixMarket
            case "svmlight": format = .svmlight
            case "npz": format = .npz
            default:
                throw ServiceError(.unsupportedMediaType, "unsupported_media_type", "unsupported upload format '\(input.format)'")
            }
            let options = try OptionsDocument(query: query).resolve(memoryBudget: limits.memoryBudget)
            let loaded = try readMatrix(body, format: format, options: readOptions, limits: limits)
            guard let y = loaded.labels else {
                throw ServiceError(.unprocessableContent, "invalid_problem",
                                   "y is missing: a \(format == .npz ? ".npz" : "Matrix Market") upload carries no right-hand side; send multipart/form-data with parts 'A' and 'y', or SVMlight (its labels are y)")
            }
            return try ProblemReader.makeProblem(loaded.matrix, y, options)
        }
    }

    /// A from an upload: the per-job nnz limit is checked against what the file declares (or, for SVMlight and
    /// triplets, the entries counted) before parsing, the memory figure once the shape is known.
    private static func readMatrix(_ data: Data, format: MatrixFileFormat, options: ReadOptions, limits: JobLimits) throws(ServiceError) -> LoadedMatrix {
        let loaded: LoadedMatrix
        var options = options
        options.maxEntries = limits.maxNNZ
        do {
            loaded = try MatrixIO.readMatrix(data: data, format: format, name: "A", options: options)
        } catch {
            throw ServiceError.from(error, context: "A (\(format.label))")
        }
        let a = loaded.matrix
        try ProblemReader.checkSize(rows: a.rowCount, columns: a.columnCount, nnz: a.nnz, name: "A", limits: limits)
        return loaded
    }

    private static func readVector(_ data: Data, options: ReadOptions) throws(ServiceError) -> [Double] {
        let first = data.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if first == UInt8(ascii: "[") {
            do {
                return try APIJSON.decoder().decode([Double].self, from: data)
            } catch {
                throw ServiceError(.badRequest, "invalid_request", "part 'y' looks like JSON but is not an array of numbers: \(error)")
            }
        }
        do {
            return try MatrixIO.readVector(data: data, name: "y", options: options)
        } catch {
            throw ServiceError.from(error, context: "y")
        }
    }

    private struct OptionsWrapper: Decodable {
        var options: OptionsDocument
    }

    private static func decodeOptionsPart(_ data: Data) throws(ServiceError) -> OptionsDocument {
        var wrapped = Data(#"{"options":"#.utf8)
        wrapped.append(data)
        wrapped.append(contentsOf: Array("}".utf8))
        return try decodeDocument(OptionsWrapper.self, from: wrapped).options
    }

    /// The format of part A: its Content-Type, else its file name's extension (a string only), else its first bytes.
    private static func format(of part: MultipartPart) throws(ServiceError) -> MatrixFileFormat {
        switch part.contentType?.essence {
        case "text/x-matrix-market", "application/x-matrix-market": return .matrixMarket
        case "text/x-svmlight", "application/x-svmlight": return .svmlight
        case "application/x-npz", "application/zip": return .npz
        default: break
        }
        if let name = part.filename, let f = MatrixFileFormat.infer(fromPath: name) { return f }
        if part.body.withUnsafeBytes({ MatrixFileFormat.hasMatrixMarketBanner($0) }) { return .matrixMarket }
        if part.body.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .npz }
        throw ServiceError(.unsupportedMediaType, "unsupported_media_type",
                           "cannot tell the format of part 'A': send it with Content-Type text/x-matrix-market, application/x-svmlight or application/x-npz, or a file name ending in .mtx, .svm or .npz")
    }
}

extension MatrixFileFormat {
    var label: String {
        switch self {
        case .matrixMarket: return "Matrix Market"
        case .svmlight: return "SVMlight"
        case .npz: return ".npz"
        case .binary: return ".lsqb"
        case .triplet: return "triplets"
        }
    }
}
