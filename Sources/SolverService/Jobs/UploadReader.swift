// SolverService/Jobs/UploadReader: file uploads (Matrix Market, SVMlight, .npz, multipart) — until the readers land on main.
import Foundation
import LeastSquares
import SparseTensor

enum UploadReader {
    static func solve(body: Data, input: JobInput, limits: JobLimits) throws(ServiceError) -> SolveInput {
        throw ServiceError(.unsupportedMediaType, "unsupported_media_type", "file uploads (\(input.format)) are not available yet; send application/json")
    }
}
