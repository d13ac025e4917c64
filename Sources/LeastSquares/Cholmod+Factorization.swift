// LeastSquares/Cholmod+Factorization: L·Lᵀ = P(F·Fᵀ + β·I)Pᵀ by CHOLMOD (analyze, factorize_p, solve), and the dense and sparse operands it needs.
import CSuiteSparse
import Foundation
import SparseTensor

/// A dense n × 1 `cholmod_dense` owned by Swift, freed on deinit with the context that made it.
/// Not `Sendable` (it belongs to one `CholmodContext`).
final class CholmodDense {
    let pointer: UnsafeMutablePointer<cholmod_dense>
    let context: CholmodContext

    init(taking pointer: UnsafeMutablePointer<cholmod_dense>, context: CholmodContext) {
        self.pointer = pointer
        self.context = context
    }

    /// A copy of `values` as an n × 1 column.
    convenience init(copying values: [Double], context: CholmodContext) throws(SparseError) {
        guard let d = cholmod_l_allocate_dense(values.count, 1, values.count, CHOLMOD_REAL, context.common) else {
            throw SuiteSparseStatus.error(routine: "cholmod_l_allocate_dense", status: context.status)
        }
        let x = d.pointee.x.assumingMemoryBound(to: Double.self)
        values.withUnsafeBufferPointer { src in if let base = src.baseAddress { x.update(from: base, count: src.count) } }
        self.init(taking: d, context: context)
    }

    deinit {
        var p: UnsafeMutablePointer<cholmod_dense>? = pointer
        cholmod_l_free_dense(&p, context.common)
    }

    /// The first column, copied out.
    var values: [Double] {
        let n = Int(pointer.pointee.nrow)
        let x = pointer.pointee.x.assumingMemoryBound(to: Double.self)
        return Array(UnsafeBufferPointer(start: x, count: n))
    }
}

extension CholmodSparse {
    /// `copying(rows.transposed(), …)`: the CSC of the matrix whose CSR is `rows`, through a Swift copy of its
    /// columns that lives while CHOLMOD's is filled — both copies are checked against `budget` before either is made.
    static func copyingColumns(ofRows rows: CompressedStorage, innerScale: [Double]? = nil, appendingDiagonal δ: Double = 0,
                               budget: MemoryBudget, what: String, context: CholmodContext) throws(SparseError) -> CholmodSparse {
        let transposeBytes = StorageBytes.compressed(outer: rows.innerCount, nnz: Double(rows.nnz))
        let cholmodBytes = StorageBytes.cholmod(outer: rows.innerCount, nnz: Double(rows.nnz + (δ > 0 ? rows.innerCount : 0)))
        try budget.check(transposeBytes + cholmodBytes, for: what,
                         detail: "A's columns (\(ByteCount.format(transposeBytes)), while they are copied) and CHOLMOD's 64-bit copy of them")
        return try copying(rows.transposed(), innerScale: innerScale, appendingDiagonal: δ, budget: budget, what: what, context: context)
    }

    /// `storage` read as CSC (`innerCount` rows × `outerCount` columns) with every entry of inner index i
    /// multiplied by `innerScale[i]` and, when `diagonal` δ > 0, a block δ·I appended below
    /// (row `innerCount + j` of column j): the CSC of [S·M; δI] in one copy.
    ///
    /// Used for W^½·A (storage = CSC of A, scale by rows), Aᵀ·W^½ (storage = CSR of A, whose lines
    /// are columns of Aᵀ: scale with `outerScale`), and the ridge matrix [W^½·A; √λ₂·I].
    /// The bytes (8-byte offsets and indices, 8-byte values) are checked against `budget` first.
    static func copying(_ storage: CompressedStorage, innerScale: [Double]? = nil, outerScale: [Double]? = nil,
                        appendingDiagonal δ: Double = 0, budget: MemoryBudget, what: String,
                        context: CholmodContext) throws(SparseError) -> CholmodSparse {
        let rows = storage.innerCount + (δ > 0 ? storage.outerCount : 0)
        let cols = storage.outerCount
        let nnz = storage.nnz + (δ > 0 ? cols : 0)
        try budget.check(StorageBytes.cholmod(outer: cols, nnz: Double(nnz)), for: what,
                         detail: "\(rows) × \(cols) with \(nnz) nonzeros in CHOLMOD's 64-bit compressed-column form")
        guard let a = cholmod_l_allocate_sparse(rows, cols, max(nnz, 1), 1, 1, 0, CHOLMOD_REAL, context.common) else {
            throw SuiteSparseStatus.error(routine: "cholmod_l_allocate_sparse", status: context.status)
        }
        let p = a.pointee.p.assumingMemoryBound(to: Int.self)
        let ii = a.pointee.i.assumingMemoryBound(to: Int.self)
        let xx = a.pointee.x.assumingMemoryBound(to: Double.self)
        var q = 0
        storage.offsets.withUnsafeBufferPointer { off in
            storage.indices.withUnsafeBufferPointer { idx in
                storage.values.withUnsafeBufferPointer { val in
                    for j in 0..<cols {
                        p[j] = q
                        let columnScale = outerScale?[j] ?? 1
                        for k in off[j]..<off[j + 1] {
                            let i = Int(idx[k])
                            ii[q] = i
                            xx[q] = val[k] * columnScale * (innerScale?[i] ?? 1)
                            q += 1
                        }
                        if δ > 0 {
                            ii[q] = storage.innerCount + j
                            xx[q] = δ
                            q += 1
                        }
                    }
                }
            }
        }
        p[cols] = q
        return CholmodSparse(taking: a, context: context)
    }
}

/// A `cholmod_factor` owned by Swift, freed on deinit (so that every error path after
/// `cholmod_l_analyze` releases it).
final class CholmodFactor {
    let pointer: UnsafeMutablePointer<cholmod_factor>
    let context: CholmodContext

    init(taking pointer: UnsafeMutablePointer<cholmod_factor>, context: CholmodContext) {
        self.pointer = pointer
        self.context = context
    }

    deinit {
        var p: UnsafeMutablePointer<cholmod_factor>? = pointer
        cholmod_l_free_factor(&p, context.common)
    }
}

/// The sparse Cholesky factorization of the regularised Gram matrix of F,
/// ```
/// L·Lᵀ = P·(F·Fᵀ + β·I)·Pᵀ      (F is r × c, unsymmetric; CHOLMOD forms F·Fᵀ column by column)
/// ```
/// by `cholmod_l_analyze` (fill-reducing P, symbolic factor), `cholmod_l_factorize_p` (numeric, with
/// the shift β) and `cholmod_l_solve`. For the normal equations F = Aᵀ (primal, F·Fᵀ = AᵀA) or
/// F = A (dual, F·Fᵀ = A·Aᵀ), so the Gram matrix is never formed by us.
///
/// Memory: the analysis gives nnz(L) (`common->lnz`, and `L->xsize` for a supernodal factor)
/// before any numeric value is allocated; the factor's bytes are checked against the budget then.
/// Not `Sendable`.
final class CholeskyFactorization {
    let factor: CholmodFactor
    var context: CholmodContext { factor.context }
    /// n of the n × n Gram matrix.
    let order: Int
    /// False when CHOLMOD stopped at a non-positive pivot (`CHOLMOD_NOT_POSDEF`, `L->minor < n`).
    let isPositiveDefinite: Bool
    /// The first column where the factorization stopped (= order when positive definite).
    let minor: Int
    /// `cholmod_l_rcond`: (min/max of diag L)² for L·Lᵀ, min/max |D| for L·D·Lᵀ — a cheap estimate of
    /// 1/cond(F·Fᵀ + βI); 0 when not positive definite.
    let reciprocalCondition: Double
    /// nnz(L) from the analysis.
    let factorNonzeros: Double
    /// CHOLMOD's warnings (positive statuses) so far.
    var warnings: [String] { context.warnings }

    init(gramOf f: CholmodSparse, shift β: Double, budget: MemoryBudget, what: String) throws(SparseError) {
        let context = f.context
        let cc = context.common
        order = f.rowCount
        guard let l = cholmod_l_analyze(f.pointer, cc) else {
            throw SuiteSparseStatus.error(routine: "cholmod_l_analyze", status: context.status)
        }
        let handle = CholmodFactor(taking: l, context: context)
        try context.check("cholmod_l_analyze")
        // Budget: numerical entries (8 B each) plus their row indices (8 B each; supernodal keeps fewer).
        let lnz = cc.pointee.lnz
        let entries = l.pointee.is_super != 0 ? max(lnz, Double(l.pointee.xsize)) : lnz
        try budget.check(16 * entries + 32 * Double(order), for: "The Cholesky factor of \(what)",
                         detail: String(format: "%d × %d, nnz(L) ≈ %.4g from cholmod_l_analyze", order, order, lnz))
        var beta: (Double, Double) = (β, 0)
        let ok = withUnsafeMutablePointer(to: &beta) { b in
            b.withMemoryRebound(to: Double.self, capacity: 2) { cholmod_l_factorize_p(f.pointer, $0, nil, 0, l, cc) }
        }
        if ok == 0 || context.status < 0 {
            throw SuiteSparseStatus.error(routine: "cholmod_l_factorize_p",
                                          status: context.status < 0 ? context.status : Int(CHOLMOD_INVALID))
        }
        let notPositiveDefinite = context.status == Int(CHOLMOD_NOT_POSDEF) || l.pointee.minor < l.pointee.n
        try context.check("cholmod_l_factorize_p")
        factor = handle
        factorNonzeros = lnz
        minor = Int(l.pointee.minor)
        isPositiveDefinite = !notPositiveDefinite
        reciprocalCondition = notPositiveDefinite ? 0 : cholmod_l_rcond(l, cc)
    }

    /// x = (F·Fᵀ + β·I)⁻¹·b.
    func solve(_ b: [Double]) throws(SparseError) -> [Double] {
        let rhs = try CholmodDense(copying: b, context: context)
        guard let x = cholmod_l_solve(CHOLMOD_A, factor.pointer, rhs.pointer, context.common) else {
            throw SuiteSparseStatus.error(routine: "cholmod_l_solve", status: context.status)
        }
        let solution = CholmodDense(taking: x, context: context)
        try context.check("cholmod_l_solve")
        return solution.values
    }
}
