// LeastSquares/OrderingBudget: the memory SuiteSparse's fill-reducing orderings take before any factor exists, checked first.
import CSuiteSparse
import SparseTensor

/// A fill-reducing ordering of the QR of M or the Cholesky factor of M·Mᵀ (AMD, in CHOLMOD and SPQR) works on the
/// pattern of M·Mᵀ, which SuiteSparse forms itself: for the seed problem's A·Aᵀ that is 1.3e10 entries, far more than
/// A. These checks estimate that pattern (`estimateProduct`: exact flops, sampled rows) and refuse with figures
/// before SuiteSparse allocates it.
enum OrderingBudget {
    /// AMD's bytes for an order-k pattern with nnz entries: 8-byte indices with AMD's elbow room (≈ 1.2×) on top
    /// of the pattern SuiteSparse builds it from (`cholmod_l_aat`), and a few 8-byte arrays of length k.
    static func amdBytes(nnz: Double, order: Int) -> Double { 2.2 * 8 * nnz + 64 * Double(order) }

    /// CHOLMOD's default analysis tries METIS after AMD when AMD's ordering is poor (Davis, CHOLMOD user guide,
    /// `Common->nmethods = 0`). METIS works on its own 64-bit copy of the graph plus its coarsened graphs; it
    /// is allowed only when the budget holds this many times AMD's bytes — a margin, not a measurement.
    static let metisMargin = 5.0

    /// Refuses when AMD's pattern of `kind` (A·Aᵀ or AᵀA) does not fit `budget`; returns its bytes.
    @discardableResult
    static func checkAMD(_ kind: ProductKind, of a: CSRMatrix, budget: MemoryBudget, for what: String) throws(SparseError) -> Double {
        let estimate = try a.estimateProduct(kind, options: ProductOptions(budget: budget))
        let bytes = amdBytes(nnz: estimate.nnz, order: estimate.rowCount)
        try budget.check(bytes, for: "The AMD ordering pattern of \(kind.label) for \(what)", detail: estimate.summary)
        return bytes
    }

    /// Limits CHOLMOD's analysis to AMD (no METIS fallback) when METIS would not fit the budget with the margin
    /// above; returns a diagnostic saying so, or nil when the default strategy stays.
    static func restrictToAMDIfNeeded(_ context: CholmodContext, amdBytes: Double, budget: MemoryBudget) -> String? {
        guard budget.available < metisMargin * amdBytes else { return nil }
        let cc = context.common
        cc.pointee.nmethods = 1
        cc.pointee.method.0.ordering = Int32(CHOLMOD_AMD)
        cc.pointee.postorder = 1
        return "CHOLMOD: ordering by AMD only (METIS, tried by default when AMD's fill is poor, might not fit the memory budget: lsq allows it with a 5× margin over AMD's bytes)"
    }
}
