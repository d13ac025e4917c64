// SolverService/Jobs/JobRecord: a job's persisted state — what was asked, where it is in its life cycle, what came out.
import Foundation
import LeastSquares
import SparseTensor

/// The life cycle of a job.
///
/// ```
/// queued → running → succeeded | failed | cancelled
/// queued → cancelled                       (DELETE before it ran)
/// running → queued                         (shutdown or restart with the requeue policy)
/// running → interrupted                    (restart with the markInterrupted policy)
/// ```
public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled, interrupted

    public var isFinished: Bool {
        switch self {
        case .queued, .running: return false
        case .succeeded, .failed, .cancelled, .interrupted: return true
        }
    }
}

public enum JobKind: String, Codable, Sendable {
    /// A least-squares solve (POST /v1/jobs).
    case solve
    /// A sparse product A·Aᵀ, AᵀA or A·B (POST /v1/products).
    case product
}

/// How the problem was sent; the raw body is kept as the job's `problem` file and re-read to run it.
struct JobInput: Codable, Sendable {
    /// The request's media type, lower-cased, without parameters except a multipart boundary.
    var contentType: String
    /// "json", "matrix-market", "svmlight", "npz" or "multipart".
    var format: String
    var bytes: Int
    /// Options from the query string (raw uploads).
    var query: [[String]]
}

/// Shape and size of A (and the product's forecast), for listings.
struct ProblemSummary: Codable, Sendable {
    var rows: Int
    var columns: Int
    var nnz: Int
}

/// The persisted product request and, once done, the product's shape.
struct ProductSpec: Codable, Sendable {
    var kind: ProductKind
    var upperTriangleOnly: Bool
    var dropTolerance: Double
    var engine: ProductEngine
    var estimate: ProductEstimate?
    var resultRows: Int?
    var resultColumns: Int?
    var resultNNZ: Int?
}

struct ErrorRecord: Codable, Sendable {
    var code: String
    var message: String
}

/// Everything the store keeps about a job (its `job.json`).
struct JobRecord: Codable, Sendable {
    var id: UUID
    /// Submission order, for listings and for re-queueing after a restart in the original order.
    var sequence: Int
    var kind: JobKind
    var state: JobState
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    /// Times the job was started (more than 1 after a re-queue).
    var attempts: Int = 0
    var input: JobInput
    var problem: ProblemSummary?
    var options: JobOptions?
    var product: ProductSpec?
    var report: SolveReport?
    var error: ErrorRecord?
    /// Why a running job was re-queued or interrupted.
    var note: String?
    /// Set when DELETE arrived; kept so a restart does not run a job that was cancelled.
    var cancelRequested: Bool = false
    /// The solution (or product) file exists.
    var hasResult: Bool = false
}
