// LeastSquares/SPQR+Solve: A·E = Q·R by SuiteSparseQR (C API), x = E·R⁻¹·Qᵀb and x = Q·R⁻ᵀ·Eᵀb.
import CSuiteSparse
import SparseTensor

/// A multifrontal sparse QR factorization by SuiteSparseQR (Davis, ACM TOMS 38(1), 2011),
/// ```
/// M·E = Q·R       (M is r × c; E a fill-reducing column permutation; Q kept as Householder vectors)
/// ```
/// with SPQR's default ordering and default rank-detection tolerance
/// (`tol = 20·(r + c)·eps·max‖M(:,j)‖`, columns whose remaining norm falls below it are treated as
/// dead: Heath's method). `rank` is SPQR's estimate.
///
/// Made in two phases so the memory can be checked before the numeric work: `SuiteSparseQR_C_symbolic`
/// (ordering and analysis: upper bounds on nnz(R) and nnz(H) in `common->SPQR_istat[0…1]`), then
/// `SuiteSparseQR_C_factorize`. Not `Sendable`; frees the factorization on deinit.
final class QRFactorization {
    private var factors: UnsafeMutablePointer<SuiteSparseQR_C_factorization>?
    let context: CholmodContext
    let rowCount: Int
    let columnCount: Int
    /// SPQR's rank estimate.
    private(set) var rank = 0
    /// The column-norm tolerance SPQR used for rank detection.
    private(set) var tolerance = 0.0
    /// Upper bounds on nnz(R) and nnz(H) from the symbolic analysis.
    let boundR: Int
    let boundH: Int
    /// The bytes checked against the budget: values and indices of R and H, 8 bytes each.
    let factorBytes: Double

    init(_ m: CholmodSparse, budget: MemoryBudget, what: String) throws(SparseError) {
        let context = m.context
        let cc = context.common
        self.context = context
        rowCount = m.rowCount
        columnCount = m.columnCount
        guard let qr = SuiteSparseQR_C_symbolic(SPQR_ORDERING_DEFAULT, 1, m.pointer, cc) else {
            throw SuiteSparseStatus.error(routine: "SuiteSparseQR_C_symbolic", status: context.status < 0 ? context.status : Int(CHOLMOD_INVALID))
        }
        factors = qr
        // From here on deinit frees `factors` on every error path (all stored properties are set first).
        boundR = Int(cc.pointee.SPQR_istat.0)
        boundH = Int(cc.pointee.SPQR_istat.1)
        // Values and row indices of R and H, 8 bytes each: the factorization allocates these up front.
        factorBytes = 16 * (Double(boundR) + Double(boundH))
        try context.check("SuiteSparseQR_C_symbolic")
        try budget.check(factorBytes, for: "The sparse QR factorization of \(what)",
                         detail: "\(rowCount) × \(columnCount); SPQR's analysis bounds nnz(R) ≤ \(boundR) and nnz(H) ≤ \(boundH)")
        // The numeric factorization: SuiteSparseQR_C_factorize (ordering again, then singletons and the
        // multifrontal QR) rather than SuiteSparseQR_C_numeric on the symbolic object, because only the
        // former exploits singleton rows and columns (SuiteSparseQR_expert.cpp), which LP-like least-squares
        // matrices have in numbers; the bounds above (no singletons) stay upper bounds for it.
        SuiteSparseQR_C_free(&factors, cc)
        factors = SuiteSparseQR_C_factorize(SPQR_ORDERING_DEFAULT, Double(SPQR_DEFAULT_TOL), m.pointer, cc)
        guard factors != nil else {
            throw SuiteSparseStatus.error(routine: "SuiteSparseQR_C_factorize", status: context.status < 0 ? context.status : Int(CHOLMOD_INVALID))
        }
        try context.check("SuiteSparseQR_C_factorize")
        rank = Int(cc.pointee.SPQR_istat.4)
        tolerance = cc.pointee.SPQR_tol_used
    }

    deinit {
        if factors != nil { SuiteSparseQR_C_free(&factors, context.common) }
    }

    /// x = E·R⁻¹·Qᵀ·b (length c), the least-squares solution min ‖b − M·x‖ when M has full column rank,
    /// a basic solution (zeros at the dead columns) when it does not.
    func solveLeastSquares(_ b: [Double]) throws(SparseError) -> [Double] {
        // y = Qᵀ·b
        let y = try apply(SPQR_QTX, to: b, routine: "SuiteSparseQR_C_qmult(Qᵀ·b)")
        // x = E·(R \ y)
        return try solve(SPQR_RETX_EQUALS_B, y, routine: "SuiteSparseQR_C_solve(E·R⁻¹)")
    }

    /// For M = Bᵀ (this is the QR of Bᵀ, B = r′ × c′ with c′ = r): x = Q·(R⁻ᵀ·Eᵀ·b), the minimum-norm
    /// solution of the consistent system B·x = b (length r, from b of length c).
    ///
    /// Why: Bᵀ·E = Q·R gives B = E·Rᵀ·Qᵀ, so B·x = b ⇔ Rᵀ·(Qᵀx) = Eᵀb; x = Q·z with z = R⁻ᵀ·Eᵀ·b lies in
    /// range(Q₁) = range(Bᵀ), the row space of B, and the solution in the row space is the one of least norm.
    /// With rank deficiency SPQR solves with the live rows of R and sets the rest of z to 0, which is
    /// still in the row space and exact when b is consistent.
    func minimumNormSolution(_ b: [Double]) throws(SparseError) -> [Double] {
        // z = R' \ (E'·b)
        let z = try solve(SPQR_RTX_EQUALS_ETB, b, routine: "SuiteSparseQR_C_solve(R⁻ᵀ·Eᵀ)")
        // x = Q·z
        return try apply(SPQR_QX, to: z, routine: "SuiteSparseQR_C_qmult(Q·z)")
    }

    private func solve(_ system: Int32, _ b: [Double], routine: String) throws(SparseError) -> [Double] {
        try dense(b, routine: routine) { SuiteSparseQR_C_solve(system, factors, $0, context.common) }
    }

    private func apply(_ method: Int32, to b: [Double], routine: String) throws(SparseError) -> [Double] {
        try dense(b, routine: routine) { SuiteSparseQR_C_qmult(method, factors, $0, context.common) }
    }

    /// Copies b into a `cholmod_dense`, runs the SuiteSparseQR `call` on it and takes ownership of the dense
    /// result (a NULL result or a CHOLMOD error status is thrown, naming `routine`).
    private func dense(_ b: [Double], routine: String,
                       _ call: (UnsafeMutablePointer<cholmod_dense>) -> UnsafeMutablePointer<cholmod_dense>?) throws(SparseError) -> [Double] {
        let rhs = try CholmodDense(copying: b, context: context)
        guard let result = call(rhs.pointer) else {
            throw SuiteSparseStatus.error(routine: routine, status: context.status < 0 ? context.status : Int(CHOLMOD_INVALID))
        }
        let out = CholmodDense(taking: result, context: context)
        try context.check(routine)
        return out.values
    }
}
