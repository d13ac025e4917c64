// SolverService/Jobs/ProblemReader: turns a stored request body into a validated problem, checking size limits before building it.
import Foundation
import LeastSquares
import SparseTensor

/// A solve job's validated input.
struct SolveInput: Sendable {
    var problem: LeastSquaresProblem
    var options: JobOptions
    var summary: ProblemSummary
}

/// A product job's validated input.
struct ProductInput: Sendable {
    var a: CSRMatrix
    var b: CSRMatrix?
    var spec: ProductSpec
}

/// An input parsed at submission, handed to the job's runner so it is not parsed twice
/// (after a restart the runner reads the durable copy instead).
enum PreparedInput: Sendable {
    case solve(SolveInput)
    case product(ProductInput)

    var nnz: Int {
        switch self {
        case let .solve(s): return s.problem.matrix.nnz
        case let .product(p): return p.a.nnz + (p.b?.nnz ?? 0)
        }
    }
}

/// Reads job inputs. Called twice per job: when it is submitted (to answer `400`/`422` at once and
/// to record its size) and when it runs (from the durable copy), so a restart needs nothing else.
enum ProblemReader {
    /// Refuses a problem over the per-job nnz limit or memory budget, before anything of its size is built.
    ///
    /// The memory figure is a floor: A in CSR plus one compressed copy (most solvers convert once,
    /// to CSC or Aᵀ), plus the dense vectors of a Krylov solve (y, r, u: 3m; x, v, w, Aᵀr, scaling: 5n).
    static func checkSize(rows m: Int, columns n: Int, nnz: Int, name: String, limits: JobLimits) throws(ServiceError) {
        guard nnz <= limits.maxNNZ else { throw ServiceError.nnzLimit(name, nnz: nnz, limit: limits.maxNNZ) }
        let matrixBytes = 2 * StorageBytes.compressed(outer: max(m, n), nnz: Double(nnz))
        let vectorBytes = 8 * (3 * Double(m) + 5 * Double(n))
        do {
            try limits.memoryBudget.check(matrixBytes + vectorBytes, for: "Solving the \(m) × \(n) problem with \(nnz) nonzeros",
                                          detail: "\(ByteCount.format(matrixBytes)) for A and one converted copy, \(ByteCount.format(vectorBytes)) for the solver's vectors")
        } catch {
            throw ServiceError.from(error, context: name)
        }
    }

    static func solve(body: Data, input: JobInput, limits: JobLimits) throws(ServiceError) -> SolveInput {
        switch input.format {
        case "json":
            let doc = try decodeDocument(SolveDocument.self, from: body)
            let options = try doc.options.resolve(memoryBudget: limits.memoryBudget)
            try checkSize(rows: doc.A.rowCount, columns: doc.A.columnCount, nnz: doc.A.nnz, name: "A", limits: limits)
            let a = try doc.A.matrix(name: "A")
            if case let .dense(v) = doc.y, v.count != a.rowCount {
                throw ServiceError(.unprocessableContent, "invalid_problem",
                                   "y has length \(v.count) but A has \(a.rowCount) rows (A is \(a.rowCount) × \(a.columnCount))")
            }
            let y = try doc.y.dense(length: a.rowCount, name: "y")
            return try makeProblem(a, y, options)
        default:
            return try UploadReader.solve(body: body, input: input, limits: limits)
        }
    }

    static func makeProblem(_ a: CSRMatrix, _ y: [Double], _ options: JobOptions) throws(ServiceError) -> SolveInput {
        do {
            let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: options.regularization)
            return SolveInput(problem: problem, options: options,
                              summary: ProblemSummary(rows: a.rowCount, columns: a.columnCount, nnz: a.nnz))
        } catch {
            throw ServiceError.from(error)
        }
    }

    static func product(body: Data, limits: JobLimits) throws(ServiceError) -> ProductInput {
        let doc = try decodeDocument(ProductDocument.self, from: body)
        try checkSize(rows: doc.A.rowCount, columns: doc.A.columnCount, nnz: doc.A.nnz, name: "A", limits: limits)
        if let b = doc.B { try checkSize(rows: b.rowCount, columns: b.columnCount, nnz: b.nnz, name: "B", limits: limits) }
        let a = try doc.A.matrix(name: "A")
        let b = try doc.B?.matrix(name: "B")
        var spec = ProductSpec(kind: doc.kind, upperTriangleOnly: doc.upperTriangleOnly, dropTolerance: doc.dropTolerance, engine: doc.engine)
        var options = ProductOptions(budget: limits.memoryBudget, upperTriangleOnly: doc.upperTriangleOnly,
                                     dropTolerance: doc.dropTolerance, engine: doc.engine)
        options.seed = 0x5EED
        do {
            // The same refusal as the CLI: the estimate's bytes against the budget, with its figures.
            let estimate = try a.estimateProduct(doc.kind, with: b, options: options)
            spec.estimate = estimate
            try a.checkProductBudget(estimate, doc.kind, with: b, options: options)
        } catch {
            var e = ServiceError.from(error, context: "product")
            if case .exceedsMemoryBudget = error, let est = spec.estimate {
                e.details["estimatedNNZ"] = est.nnz
                e.details["estimatedFlops"] = est.flops
            }
            throw e
        }
        return ProductInput(a: a, b: b, spec: spec)
    }

    static func productOptions(_ spec: ProductSpec, limits: JobLimits) -> ProductOptions {
        ProductOptions(budget: limits.memoryBudget, upperTriangleOnly: spec.upperTriangleOnly,
                       dropTolerance: spec.dropTolerance, engine: spec.engine)
    }
}
