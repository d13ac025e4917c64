// SparseTensor/Cholmod+Common: the CHOLMOD workspace and the one-copy bridge between our arrays and cholmod_sparse.
import CSuiteSparse

/// One started `cholmod_common` (CHOLMOD's workspace and status), finished on deinit.
///
/// Not `Sendable`: CHOLMOD's workspace may not be shared between threads. Make one per task.
/// CHOLMOD's status convention (`cholmod.h`): 0 is ok, negative is a fatal error, positive is a warning.
/// `check(_:)` throws on negative statuses and collects positive ones into `warnings`.
package final class CholmodContext {
    package let common: UnsafeMutablePointer<cholmod_common>
    package private(set) var warnings: [String] = []

    package init() {
        common = .allocate(capacity: 1)
        cholmod_l_start(common)
        common.pointee.print = 0  // errors come back to us as statuses; CHOLMOD prints nothing
    }

    deinit {
        cholmod_l_finish(common)
        common.deallocate()
    }

    package var status: Int { Int(common.pointee.status) }

    /// Throws `SparseError.suiteSparse` when the last call left a negative status; records warnings.
    package func check(_ routine: String) throws(SparseError) {
        let s = status
        if s < 0 { throw SuiteSparseStatus.error(routine: routine, status: s) }
        if s > 0 { warnings.append("\(routine): \(SuiteSparseStatus.describe(s))") }
    }
}

/// Names for CHOLMOD status codes.
package enum SuiteSparseStatus {
    package static func describe(_ status: Int) -> String {
        switch Int32(status) {
        case CHOLMOD_OK: return "ok"
        case CHOLMOD_NOT_INSTALLED: return "method not installed"
        case CHOLMOD_OUT_OF_MEMORY: return "out of memory"
        case CHOLMOD_TOO_LARGE: return "integer overflow: problem too large"
        case CHOLMOD_INVALID: return "invalid input"
        case CHOLMOD_GPU_PROBLEM: return "GPU problem"
        case CHOLMOD_NOT_POSDEF: return "matrix not positive definite"
        case CHOLMOD_DSMALL: return "diagonal entry very small (ill-conditioned)"
        default: return "status \(status)"
        }
    }

    package static func error(routine: String, status: Int) -> SparseError {
        .suiteSparse(routine: routine, status: status, reason: describe(status))
    }
}

/// A `cholmod_sparse` owned by Swift, freed on deinit with the context that made it.
package final class CholmodSparse {
    package let pointer: UnsafeMutablePointer<cholmod_sparse>
    package let context: CholmodContext

    package init(taking pointer: UnsafeMutablePointer<cholmod_sparse>, context: CholmodContext) {
        self.pointer = pointer
        self.context = context
    }

    deinit {
        var p: UnsafeMutablePointer<cholmod_sparse>? = pointer
        cholmod_l_free_sparse(&p, context.common)
    }

    package var rowCount: Int { Int(pointer.pointee.nrow) }
    package var columnCount: Int { Int(pointer.pointee.ncol) }
    package var nnz: Int { Int(cholmod_l_nnz(pointer, context.common)) }

    /// Copies `storage` as a CSC matrix (`innerCount` rows × `outerCount` columns): one copy, widening
    /// indices to 64 bits. A CSR storage of A therefore becomes Aᵀ. `stype` as CHOLMOD defines it
    /// (0 unsymmetric, > 0 upper triangle used, < 0 lower).
    package static func copying(_ storage: CompressedStorage, stype: Int32 = 0, context: CholmodContext) throws(SparseError) -> CholmodSparse {
        let nnz = storage.nnz
        guard let a = cholmod_l_allocate_sparse(storage.innerCount, storage.outerCount, max(nnz, 1),
                                                1, 1, stype, CHOLMOD_REAL, context.common) else {
            throw SuiteSparseStatus.error(routine: "cholmod_l_allocate_sparse", status: context.status)
        }
        let p = a.pointee.p.assumingMemoryBound(to: Int.self)
        let i = a.pointee.i.assumingMemoryBound(to: Int.self)
        let x = a.pointee.x.assumingMemoryBound(to: Double.self)
        storage.offsets.withUnsafeBufferPointer { src in p.update(from: src.baseAddress!, count: src.count) }
        storage.indices.withUnsafeBufferPointer { src in for k in 0..<nnz { i[k] = Int(src[k]) } }
        storage.values.withUnsafeBufferPointer { src in if nnz > 0 { x.update(from: src.baseAddress!, count: nnz) } }
        return CholmodSparse(taking: a, context: context)
    }

    /// The CSC arrays as our storage (columns become lines), narrowing indices to 32 bits: one copy.
    /// Handles packed and unpacked matrices; lines keep CHOLMOD's order (sorted only if `sorted` was set).
    package func storage() -> CompressedStorage {
        let a = pointer.pointee
        let ncol = Int(a.ncol)
        let p = a.p.assumingMemoryBound(to: Int.self)
        let i = a.i.assumingMemoryBound(to: Int.self)
        let x = a.x?.assumingMemoryBound(to: Double.self)
        let nz = a.packed != 0 ? nil : a.nz?.assumingMemoryBound(to: Int.self)
        var offsets = [Int](repeating: 0, count: ncol + 1)
        for j in 0..<ncol { offsets[j + 1] = offsets[j] + (nz.map { $0[j] } ?? (p[j + 1] - p[j])) }
        let total = offsets[ncol]
        var indices = [Int32](repeating: 0, count: total)
        var values = [Double](repeating: 1, count: total)
        indices.withUnsafeMutableBufferPointer { ind in
            values.withUnsafeMutableBufferPointer { val in
                for j in 0..<ncol {
                    var q = offsets[j]
                    let start = p[j], count = offsets[j + 1] - offsets[j]
                    for k in start..<(start + count) {
                        ind[q] = Int32(truncatingIfNeeded: i[k])
                        if let x { val[q] = x[k] }
                        q += 1
                    }
                }
            }
        }
        return CompressedStorage(unchecked: ncol, Int(a.nrow), offsets, indices, values)
    }
}
