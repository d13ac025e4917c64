// SolverService/API/JSONDocuments: the JSON bodies of POST /v1/jobs and /v1/products, decoded strictly with field paths in errors.
import Foundation
import LeastSquares
import SparseTensor

/// A coding key for any field, used to reject unknown fields by name.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
    init(_ s: String) { self.stringValue = s }
}

/// An error in a JSON document, at a field path such as `A.rows[3]`.
struct FieldError: Error {
    var path: String
    var message: String
}

extension KeyedDecodingContainer where K == AnyKey {
    func rejectUnknown(_ allowed: [String], in object: String) throws {
        for key in allKeys where !allowed.contains(key.stringValue) {
            throw FieldError(path: object.isEmpty ? key.stringValue : "\(object).\(key.stringValue)",
                             message: "unknown field (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }
}

/// `{"format": "coo", "shape": [m, n], "rows": […], "cols": […], "values": […]}` or
/// `{"format": "csr", "shape": [m, n], "indptr": […], "indices": […], "values": […]}`, 0-based.
struct MatrixDocument: Decodable {
    enum Format: String { case coo, csr }
    var format: Format
    var rowCount: Int
    var columnCount: Int
    var rows: [Int] = []
    var cols: [Int] = []
    var indptr: [Int] = []
    var indices: [Int] = []
    var values: [Double]

    var nnz: Int { values.count }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let here = Self.path(decoder.codingPath)
        let formatText = try c.decode(String.self, forKey: AnyKey("format"))
        guard let f = Format(rawValue: formatText) else {
            throw FieldError(path: here + ".format", message: "must be \"coo\" or \"csr\", got \"\(formatText.prefix(32))\"")
        }
        format = f
        let shape = try c.decode([Int].self, forKey: AnyKey("shape"))
        guard shape.count == 2 else { throw FieldError(path: here + ".shape", message: "must be [rows, columns], got \(shape.count) numbers") }
        for (k, d) in shape.enumerated() where d < 0 || d > Int(Int32.max) {
            throw FieldError(path: here + ".shape[\(k)]", message: "must be in 0...\(Int32.max), got \(d)")
        }
        rowCount = shape[0]
        columnCount = shape[1]
        values = try c.decode([Double].self, forKey: AnyKey("values"))
        switch f {
        case .coo:
            try c.rejectUnknown(["format", "shape", "rows", "cols", "values"], in: here)
            rows = try c.decode([Int].self, forKey: AnyKey("rows"))
            cols = try c.decode([Int].self, forKey: AnyKey("cols"))
            guard rows.count == values.count, cols.count == values.count else {
                throw FieldError(path: here, message: "rows, cols and values must have the same length, got \(rows.count), \(cols.count) and \(values.count)")
            }
        case .csr:
            try c.rejectUnknown(["format", "shape", "indptr", "indices", "values"], in: here)
            indptr = try c.decode([Int].self, forKey: AnyKey("indptr"))
            indices = try c.decode([Int].self, forKey: AnyKey("indices"))
            guard indptr.count == rowCount + 1 else {
                throw FieldError(path: here + ".indptr", message: "must have rows + 1 = \(rowCount + 1) entries, got \(indptr.count)")
            }
            guard indices.count == values.count else {
                throw FieldError(path: here, message: "indices and values must have the same length, got \(indices.count) and \(values.count)")
            }
        }
    }

    /// Bytes the matrix takes once compressed (CSR), for the budget check before it is built.
    var compressedBytes: Double { StorageBytes.compressed(outer: rowCount, nnz: Double(nnz)) }

    /// Builds the validated CSR matrix; `name` prefixes errors ("A").
    func matrix(name: String) throws(ServiceError) -> CSRMatrix {
        do {
            switch format {
            case .coo:
                for k in 0..<rows.count where rows[k] < 0 || rows[k] >= rowCount || cols[k] < 0 || cols[k] >= columnCount {
                    throw ServiceError(.unprocessableContent, "invalid_matrix",
                                       "\(name): entry \(k) at (row \(rows[k]), column \(cols[k])) is outside the \(rowCount) × \(columnCount) shape (0-based)")
                }
                let coo = try COOMatrix(rowCount: rowCount, columnCount: columnCount, rows: rows, columns: cols, values: values)
                return try CSRMatrix(coo)
            case .csr:
                for (k, j) in indices.enumerated() where j < 0 || j >= columnCount {
                    throw ServiceError(.unprocessableContent, "invalid_matrix",
                                       "\(name).indices[\(k)] = \(j) is outside 0..<\(columnCount) (the column count)")
                }
                return try CSRMatrix(rowCount: rowCount, columnCount: columnCount, rowOffsets: indptr,
                                     columnIndices: indices.map { Int32($0) }, values: values)
            }
        } catch let e as ServiceError {
            throw e
        } catch let e as SparseError {
            throw ServiceError.from(e, context: name)
        } catch {
            throw ServiceError(.unprocessableContent, "invalid_matrix", "\(name): \(error)")
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return out
    }
}

/// y: a dense array, or `{"indices": […], "values": […]}` (length = rows of A).
enum VectorDocument: Decodable {
    case dense([Double])
    case sparse(indices: [Int], values: [Double])

    init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: AnyKey.self) {
            let here = MatrixDocument.path(decoder.codingPath)
            try c.rejectUnknown(["indices", "values"], in: here)
            let i = try c.decode([Int].self, forKey: AnyKey("indices"))
            let v = try c.decode([Double].self, forKey: AnyKey("values"))
            guard i.count == v.count else {
                throw FieldError(path: here, message: "indices and values must have the same length, got \(i.count) and \(v.count)")
            }
            self = .sparse(indices: i, values: v)
        } else {
            self = .dense(try decoder.singleValueContainer().decode([Double].self))
        }
    }

    var count: Int {
        switch self {
        case let .dense(v): return v.count
        case let .sparse(i, _): return i.count
        }
    }

    /// The dense vector of `length` entries; `name` prefixes errors ("y").
    func dense(length: Int, name: String) throws(ServiceError) -> [Double] {
        switch self {
        case let .dense(v):
            if let k = v.firstIndex(where: { !$0.isFinite }) {
                throw ServiceError(.unprocessableContent, "invalid_problem", "\(name)[\(k)] = \(v[k]) is not finite")
            }
            return v
        case let .sparse(indices, values):
            do {
                return try SparseVector(length: length, indices: indices, values: values).dense()
            } catch {
                switch error {
                case let .indexOutOfRange(entry, row, _, _, _):
                    throw ServiceError(.unprocessableContent, "invalid_problem",
                                       "\(name).indices[\(entry)] = \(row) is outside 0..<\(length) (the rows of A)")
                case let .unsortedOrDuplicate(_, index, position):
                    throw ServiceError(.unprocessableContent, "invalid_problem",
                                       "\(name).indices must be strictly increasing; \(index) at position \(position) is not")
                case let .nonFiniteValue(entry, _, _, value):
                    throw ServiceError(.unprocessableContent, "invalid_problem", "\(name).values[\(entry)] = \(value) is not finite")
                default:
                    throw ServiceError.from(error, context: name)
                }
            }
        }
    }
}

/// `"options"`: the solver knobs, named as the CLI names them.
struct OptionsDocument: Decodable, Sendable {
    static let fields = ["solver", "tol", "l1", "l2", "epochs", "maxIter", "seed", "timeLimit", "conditionLimit",
                         "columnScaling", "order", "learningRate", "eta0", "batchSize", "averaging"]
    var solver: SolverKind?
    var tol: Double?
    var l1: Double?
    var l2: Double?
    var epochs: Int?
    var maxIter: Int?
    var seed: UInt64?
    var timeLimit: Double?
    var conditionLimit: Double?
    var columnScaling: Bool?
    var order: CoordinateOrder?
    var learningRate: LearningRateSchedule?
    var eta0: Double?
    var batchSize: Int?
    var averaging: Bool?

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let here = MatrixDocument.path(decoder.codingPath)
        try c.rejectUnknown(Self.fields, in: here)
        func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws -> E? where E.RawValue == String {
            guard let text = try c.decodeIfPresent(String.self, forKey: AnyKey(key)) else { return nil }
            guard let v = E(rawValue: text) else {
                throw FieldError(path: "\(here).\(key)", message: "must be one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(text.prefix(32))\"")
            }
            return v
        }
        solver = try enumValue("solver", SolverKind.self)
        tol = try c.decodeIfPresent(Double.self, forKey: AnyKey("tol"))
        l1 = try c.decodeIfPresent(Double.self, forKey: AnyKey("l1"))
        l2 = try c.decodeIfPresent(Double.self, forKey: AnyKey("l2"))
        epochs = try c.decodeIfPresent(Int.self, forKey: AnyKey("epochs"))
        maxIter = try c.decodeIfPresent(Int.self, forKey: AnyKey("maxIter"))
        seed = try c.decodeIfPresent(UInt64.self, forKey: AnyKey("seed"))
        timeLimit = try c.decodeIfPresent(Double.self, forKey: AnyKey("timeLimit"))
        conditionLimit = try c.decodeIfPresent(Double.self, forKey: AnyKey("conditionLimit"))
        columnScaling = try c.decodeIfPresent(Bool.self, forKey: AnyKey("columnScaling"))
        order = try enumValue("order", CoordinateOrder.self)
        learningRate = try enumValue("learningRate", LearningRateSchedule.self)
        eta0 = try c.decodeIfPresent(Double.self, forKey: AnyKey("eta0"))
        batchSize = try c.decodeIfPresent(Int.self, forKey: AnyKey("batchSize"))
        averaging = try c.decodeIfPresent(Bool.self, forKey: AnyKey("averaging"))
    }

    /// Options given as query parameters (`?solver=lsqr&tol=1e-10`) for raw file uploads.
    init(query: [(name: String, value: String)]) throws(ServiceError) {
        func bad(_ name: String, _ expected: String, _ value: String) -> ServiceError {
            ServiceError(.badRequest, "invalid_option", "query parameter \(name)=\(value.prefix(32)): expected \(expected)")
        }
        for (name, value) in query {
            switch name {
            case "solver": guard let v = SolverKind(rawValue: value) else { throw bad(name, SolverKind.allCases.map(\.rawValue).joined(separator: "|"), value) }; solver = v
            case "order": guard let v = CoordinateOrder(rawValue: value) else { throw bad(name, "cyclic|random", value) }; order = v
            case "learningRate": guard let v = LearningRateSchedule(rawValue: value) else { throw bad(name, LearningRateSchedule.allCases.map(\.rawValue).joined(separator: "|"), value) }; learningRate = v
            case "tol", "l1", "l2", "timeLimit", "conditionLimit", "eta0":
                guard let v = Double(value) else { throw bad(name, "a number", value) }
                switch name {
                case "tol": tol = v
                case "l1": l1 = v
                case "l2": l2 = v
                case "timeLimit": timeLimit = v
                case "conditionLimit": conditionLimit = v
                default: eta0 = v
                }
            case "epochs", "maxIter", "batchSize":
                guard let v = Int(value) else { throw bad(name, "an integer", value) }
                switch name {
                case "epochs": epochs = v
                case "maxIter": maxIter = v
                default: batchSize = v
                }
            case "seed": guard let v = UInt64(value) else { throw bad(name, "an integer ≥ 0", value) }; seed = v
            case "columnScaling", "averaging":
                guard let v = Bool(value) else { throw bad(name, "true or false", value) }
                if name == "columnScaling" { columnScaling = v } else { averaging = v }
            default:
                throw ServiceError(.badRequest, "invalid_option", "unknown query parameter '\(name.prefix(32))' (expected one of: \(Self.fields.joined(separator: ", ")))")
            }
        }
    }

    /// Validated solver options and regularization.
    func resolve(memoryBudget: MemoryBudget) throws(ServiceError) -> JobOptions {
        func bad(_ field: String, _ expected: String, _ got: String) -> ServiceError {
            ServiceError(.unprocessableContent, "invalid_option", "options.\(field) must be \(expected), got \(got)")
        }
        var o = SolverOptions()
        if let solver { o.solver = solver }
        if let tol { guard tol.isFinite, tol >= 0 else { throw bad("tol", "a finite number ≥ 0", "\(tol)") }; o.tolerance = tol }
        if let l1 { guard l1.isFinite, l1 >= 0 else { throw bad("l1", "a finite number ≥ 0", "\(l1)") } }
        if let l2 { guard l2.isFinite, l2 >= 0 else { throw bad("l2", "a finite number ≥ 0", "\(l2)") } }
        if let epochs { guard epochs >= 1 else { throw bad("epochs", "≥ 1", "\(epochs)") }; o.epochs = epochs }
        if let maxIter { guard maxIter >= 1 else { throw bad("maxIter", "≥ 1", "\(maxIter)") }; o.maxIterations = maxIter }
        if let seed { o.seed = seed }
        if let timeLimit { guard timeLimit.isFinite, timeLimit > 0 else { throw bad("timeLimit", "a number of seconds > 0", "\(timeLimit)") } }
        if let conditionLimit { guard conditionLimit.isFinite, conditionLimit > 0 else { throw bad("conditionLimit", "> 0", "\(conditionLimit)") }; o.conditionLimit = conditionLimit }
        if let columnScaling { o.columnScaling = columnScaling }
        if let order { o.coordinateOrder = order }
        if let learningRate { o.learningRate = learningRate }
        if let eta0 { guard eta0.isFinite, eta0 > 0 else { throw bad("eta0", "> 0", "\(eta0)") }; o.initialLearningRate = eta0 }
        if let batchSize { guard batchSize >= 1 else { throw bad("batchSize", "≥ 1", "\(batchSize)") }; o.batchSize = batchSize }
        if let averaging { o.averaging = averaging }
        o.memoryBudgetBytes = memoryBudget.bytes
        return JobOptions(solver: o, regularization: Regularization(l1: l1 ?? 0, l2: l2 ?? 0), timeLimit: timeLimit)
    }
}

/// What a solve job runs with: solver options, λ, and its own time limit.
struct JobOptions: Codable, Sendable, Equatable {
    var solver: SolverOptions
    var regularization: Regularization
    var timeLimit: Double?
}

/// The JSON body of POST /v1/jobs.
struct SolveDocument: Decodable {
    var A: MatrixDocument
    var y: VectorDocument
    var options: OptionsDocument

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.rejectUnknown(["A", "y", "options"], in: "")
        A = try c.decode(MatrixDocument.self, forKey: AnyKey("A"))
        y = try c.decode(VectorDocument.self, forKey: AnyKey("y"))
        options = try c.decodeIfPresent(OptionsDocument.self, forKey: AnyKey("options")) ?? OptionsDocument()
    }
}

/// The JSON body of POST /v1/products.
struct ProductDocument: Decodable {
    var kind: ProductKind
    var A: MatrixDocument
    var B: MatrixDocument?
    var upperTriangleOnly: Bool
    var dropTolerance: Double
    var engine: ProductEngine

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.rejectUnknown(["kind", "A", "B", "options"], in: "")
        let kindText = try c.decode(String.self, forKey: AnyKey("kind"))
        guard let k = ProductKind(rawValue: kindText) else {
            throw FieldError(path: "kind", message: "must be \"aat\" (A·Aᵀ), \"ata\" (AᵀA) or \"ab\" (A·B), got \"\(kindText.prefix(32))\"")
        }
        kind = k
        A = try c.decode(MatrixDocument.self, forKey: AnyKey("A"))
        B = try c.decodeIfPresent(MatrixDocument.self, forKey: AnyKey("B"))
        if k == .ab, B == nil { throw FieldError(path: "B", message: "is required for kind \"ab\"") }
        if k != .ab, B != nil { throw FieldError(path: "B", message: "is only used with kind \"ab\"") }
        upperTriangleOnly = false
        dropTolerance = 0
        engine = .native
        if c.contains(AnyKey("options")) {
            let o = try c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("options"))
            try o.rejectUnknown(["upperTriangleOnly", "dropTolerance", "engine"], in: "options")
            upperTriangleOnly = try o.decodeIfPresent(Bool.self, forKey: AnyKey("upperTriangleOnly")) ?? false
            dropTolerance = try o.decodeIfPresent(Double.self, forKey: AnyKey("dropTolerance")) ?? 0
            guard dropTolerance.isFinite, dropTolerance >= 0 else {
                throw FieldError(path: "options.dropTolerance", message: "must be a finite number ≥ 0")
            }
            if let e = try o.decodeIfPresent(String.self, forKey: AnyKey("engine")) {
                guard let engine = ProductEngine(rawValue: e) else {
                    throw FieldError(path: "options.engine", message: "must be \"native\" or \"cholmod\", got \"\(e.prefix(32))\"")
                }
                self.engine = engine
            }
        }
        if upperTriangleOnly, k == .ab { throw FieldError(path: "options.upperTriangleOnly", message: "applies only to \"aat\" and \"ata\"") }
    }
}

/// Decodes a JSON document, turning decoder errors into `400`s that name the field and what was expected.
func decodeDocument<T: Decodable>(_ type: T.Type, from data: Data) throws(ServiceError) -> T {
    do {
        if let fast = try FastJSON.decode(T.self, from: data) { return fast }
        return try APIJSON.decoder().decode(T.self, from: data)
    } catch let e as FieldError {
        throw ServiceError(.badRequest, "invalid_request", "\(e.path): \(e.message)")
    } catch let e as DecodingError {
        switch e {
        case let .typeMismatch(type, ctx):
            let found = ctx.debugDescription.range(of: "but found") != nil ? ctx.debugDescription : "wrong type"
            throw ServiceError(.badRequest, "invalid_request", "\(MatrixDocument.path(ctx.codingPath)): expected \(describe(type)) (\(found))")
        case let .valueNotFound(type, ctx):
            throw ServiceError(.badRequest, "invalid_request", "\(MatrixDocument.path(ctx.codingPath)): expected \(describe(type)), found null")
        case let .keyNotFound(key, ctx):
            let parent = MatrixDocument.path(ctx.codingPath)
            throw ServiceError(.badRequest, "invalid_request", "\(parent.isEmpty ? "" : parent + ".")\(key.stringValue): required field is missing")
        case let .dataCorrupted(ctx):
            if ctx.codingPath.isEmpty {
                var detail = ctx.debugDescription
                // JSONSerialization names the line and column of a syntax error.
                do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
                    let e = error as NSError
                    if let d = e.userInfo[NSDebugDescriptionErrorKey] as? String { detail = d }
                }
                throw ServiceError(.badRequest, "invalid_json", "the body is not valid JSON: \(detail)" +
                                   (containsNonFiniteLiteral(data) ? "; NaN and Infinity are not JSON numbers, and values must be finite" : ""))
            }
            throw ServiceError(.badRequest, "invalid_request", "\(MatrixDocument.path(ctx.codingPath)): \(ctx.debugDescription)")
        @unknown default:
            throw ServiceError(.badRequest, "invalid_request", "\(e)")
        }
    } catch {
        throw ServiceError(.badRequest, "invalid_json", "the body is not valid JSON: \(error)")
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is [Int].Type, is UInt64.Type: return "an integer"
    case is Double.Type, is [Double].Type: return "a number"
    case is String.Type: return "a string"
    case is Bool.Type: return "true or false"
    default:
        let name = "\(type)"
        if name.hasPrefix("Array") { return "an array" }
        if name.contains("Dictionary") || name.contains("KeyedDecodingContainer") { return "an object" }
        return name
    }
}

private func containsNonFiniteLiteral(_ data: Data) -> Bool {
    for word in ["NaN", "Infinity"] where data.range(of: Data(word.utf8)) != nil { return true }
    return false
}
