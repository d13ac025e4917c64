// LeastSquares/KrylovOperator: the operator Ā = [W^½·A·C; δ·C] and its transpose, as LSQR and LSMR apply it.
import SparseTensor

/// The linear operator a Krylov least-squares solver iterates on:
///
/// ```
/// Ā = ⎡ W^½ · A · C ⎤   (m × n)        Āᵀ·[u; u′] = C·(Aᵀ·(W^½·u) + δ·u′)
///     ⎣    δ · C    ⎦   (n × n, only when `augmentedDamping` δ > 0)
/// ```
/// - `W^½ = diag(√wᵢ)` folds per-row sample weights into the loss (`rowScale`, nil for unit weights);
/// - `C = D⁻¹ = diag(1/dⱼ)` is the Jacobi column scaling (`columnScale`, nil for none): the solver
///   iterates on z = D·x and x = C·z is recovered at the end;
/// - the `δ·C` block carries ridge damping explicitly when it cannot be LSQR/LSMR's scalar `damp`
///   (with column scaling the damping term ‖x‖ = ‖C·z‖ is not a multiple of ‖z‖, and with a warm start
///   the damped right-hand side is not zero).
///
/// A·v is a gather over the rows of the CSR storage. Aᵀ·u is either a scatter over the same rows
/// (per-thread buffers, no extra memory beyond them) or, when a CSC copy was made, a gather over
/// its columns. The gather splits the output across cores without any reduction pass, so it is the
/// faster choice when nnz is large compared with n; the copy costs 12 bytes per nonzero and is made
/// only when it fits the memory budget (see `KrylovOperator.init`).
struct KrylovOperator {
    /// A's rows (m × n, CSR storage: `outerCount == m`).
    let rows: CompressedStorage
    /// A's columns (CSC storage of the same matrix), when made: Aᵀ·u becomes a gather.
    let columns: CompressedStorage?
    /// √wᵢ per row (length m), or nil.
    let rowScale: [Double]?
    /// 1/dⱼ per column (length n), or nil.
    let columnScale: [Double]?
    /// δ ≥ 0; when positive the operator has the extra `δ·C` block of n rows.
    let augmentedDamping: Double

    /// m, the rows of A.
    var matrixRowCount: Int { rows.outerCount }
    /// Rows of Ā: m, or m + n with the damping block.
    var rowCount: Int { rows.outerCount + (augmentedDamping > 0 ? rows.innerCount : 0) }
    /// Columns of Ā: n.
    var columnCount: Int { rows.innerCount }

    /// Builds the operator; makes a CSC copy of A for Aᵀ·u when `transposeCopy` says so and it fits `budget`.
    init(matrix: CSRMatrix, rowScale: [Double]?, columnScale: [Double]?, augmentedDamping: Double,
         transposeCopy: TransposeCopy, budget: MemoryBudget) {
        rows = matrix.storage
        self.rowScale = rowScale
        self.columnScale = columnScale
        self.augmentedDamping = augmentedDamping
        let bytes = StorageBytes.compressed(outer: matrix.columnCount, nnz: Double(matrix.nnz))
        let fits = (try? budget.check(bytes, for: "CSC copy of A")) != nil
        switch transposeCopy {
        case .never: columns = nil
        case .always: columns = fits ? matrix.storage.transposed() : nil
        case .whenFaster:
            columns = fits && KrylovOperator.gatherPays(matrix) ? matrix.storage.transposed() : nil
        }
    }

    /// Whether to keep a CSC copy for Aᵀ·u.
    enum TransposeCopy { case never, always, whenFaster }

    /// The CSC copy pays when Aᵀ·u would run on several workers: then the scatter needs one
    /// n-vector per worker plus a reduction pass, while the gather writes disjoint slices of the result.
    /// On one worker (small nnz, or nnz < 4n where `scatter` stays serial) both are one pass and the
    /// copy is not worth its memory. Measured on RandomSparse 200 000 × 100 000, density 2e-4 (4·10⁶ nnz),
    /// release build, 2 cores: see the benchmark note in LSQR.swift.
    static func gatherPays(_ matrix: CSRMatrix) -> Bool {
        Parallelism.workers(forWork: matrix.nnz) > 1 && matrix.nnz >= 4 * matrix.columnCount
    }

    /// Ā·v (length `rowCount`).
    func apply(_ v: [Double]) -> [Double] {
        // t = C·v
        var t = v
        if let c = columnScale { for j in 0..<t.count { t[j] *= c[j] } }
        // y = A·t, a gather over the rows
        var y = rows.gather(t)
        if let s = rowScale { for i in 0..<y.count { y[i] *= s[i] } }
        // bottom block δ·C·v
        if augmentedDamping > 0 {
            let δ = augmentedDamping
            y.reserveCapacity(rowCount)
            for j in 0..<t.count { y.append(δ * t[j]) }
        }
        return y
    }

    /// Āᵀ·u (length n), `u` of length `rowCount`.
    func applyTranspose(_ u: [Double]) -> [Double] {
        let m = matrixRowCount
        var top = rowCount == m ? u : Array(u[0..<m])
        if let s = rowScale { for i in 0..<m { top[i] *= s[i] } }
        // g = Aᵀ·(W^½·u)
        var g = columns.map { $0.gather(top) } ?? rows.scatter(top)
        if augmentedDamping > 0 {
            let δ = augmentedDamping
            for j in 0..<g.count { g[j] += δ * u[m + j] }
        }
        if let c = columnScale { for j in 0..<g.count { g[j] *= c[j] } }
        return g
    }

    /// W^½·(A·x) for an x in the original coordinates (no column scaling, no damping block).
    func weightedProduct(_ x: [Double]) -> [Double] {
        var y = rows.gather(x)
        if let s = rowScale { for i in 0..<y.count { y[i] *= s[i] } }
        return y
    }
}

/// The stable plane rotation of Paige & Saunders' `sym_ortho` (Choi's thesis, Table 2.9):
/// returns (c, s, r) with
/// ```
/// ⎡ c  s ⎤ ⎡ a ⎤   ⎡ r ⎤
/// ⎣ s −c ⎦ ⎣ b ⎦ = ⎣ 0 ⎦,   r = √(a² + b²),
/// ```
/// computed without overflow by dividing by the larger of |a|, |b|. Signs follow a and b so that
/// LSQR's and LSMR's recurrences see the same rotation as in the papers.
@inline(__always)
func symOrtho(_ a: Double, _ b: Double) -> (c: Double, s: Double, r: Double) {
    if b == 0 { return (a == 0 ? 0 : (a > 0 ? 1 : -1), 0, abs(a)) }
    if a == 0 { return (0, b > 0 ? 1 : -1, abs(b)) }
    if abs(b) > abs(a) {
        let tau = a / b
        let s = (b > 0 ? 1.0 : -1.0) / (1 + tau * tau).squareRoot()
        let c = s * tau
        return (c, s, b / s)
    } else {
        let tau = b / a
        let c = (a > 0 ? 1.0 : -1.0) / (1 + tau * tau).squareRoot()
        let s = c * tau
        return (c, s, a / c)
    }
}
