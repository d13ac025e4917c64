// LeastSquares/CDKernel: the coordinate update x_j ← S(‖ã_j‖²x_j + ã_jᵀr, λ₁)/(‖ã_j‖² + λ₂) with r kept current, and the duality gap.
import SparseTensor

/// Per-column flags of coordinate descent (one byte per column).
enum CDColumn {
    /// ã_j = 0: x_j is fixed at 0 and the column is never visited.
    static let excluded: UInt8 = 1
    /// Removed by the gap-safe rule: x*_j = 0 is proved, x_j is fixed at 0.
    static let screened: UInt8 = 2
    /// In the current working set.
    static let inWorkingSet: UInt8 = 4
    /// Was in some working set during the solve (statistics).
    static let everInWorkingSet: UInt8 = 8
    /// Columns still in play: neither excluded nor screened.
    static let inactive: UInt8 = excluded | screened
}

/// A certificate of (sub)optimality for the current x.
struct CDCertificate {
    /// The duality gap P(x) − D(θ) of the feasible dual point θ (lasso / elastic net / ridge), or,
    /// for plain least squares, the surrogate ½Σ_j (ã_jᵀr)²/‖ã_j‖² (see `CoordinateDescent`).
    var gap: Double
    /// The rescaling s ∈ (0, 1] of the residual that makes θ = s·r̂ dual feasible (1 without L1).
    var scale: Double
    /// max_j |ã_jᵀr − λ₂x_j| over the columns looked at.
    var dualNorm: Double
    /// ‖Ãᵀr − λ₂x‖₂ over the columns looked at.
    var gradientNorm: Double
}

/// The state of one coordinate-descent solve on Ã = W^{1/2}·A and ỹ = W^{1/2}·y.
///
/// Holds raw pointers into storage owned by the caller (`CoordinateDescent.solve`), which keeps
/// it alive for the kernel's whole life. Columns are read from the pool (`CDColumnPool`), which holds
/// every column that was ever in a working set, hence every column with x_j ≠ 0; full passes read
/// A's rows (`CDRows`). Tracks, besides x and r = ỹ − Ãx, the scalars the gap
/// needs (‖r‖², ‖x‖₁, ‖x‖²) with O(1) work per coordinate update; they are recomputed
/// exactly at every outer iteration, so rounding drift cannot build up.
struct CDKernel {
    let m: Int
    let n: Int
    /// A's rows, for the full passes.
    let a: CDRows
    /// The copied columns: column j is `idx[start[j] ..< start[j] + count[j]]`, `val[…]` (refreshed by `refreshPoolPointers`).
    let pool: CDColumnPool
    let start: UnsafeMutableBufferPointer<Int>
    let count: UnsafeMutableBufferPointer<Int32>
    var idx: UnsafeMutableBufferPointer<Int32>
    var val: UnsafeMutableBufferPointer<Double>
    let l1: Double
    let l2: Double
    /// ỹ (length m).
    let y: UnsafeBufferPointer<Double>
    /// x (length n), r = ỹ − Ãx (length m).
    let x: UnsafeMutableBufferPointer<Double>
    let r: UnsafeMutableBufferPointer<Double>
    /// ‖ã_j‖² (diag of ÃᵀÃ), ã_jᵀỹ, and the gradient ĝ_j = ã_jᵀr − λ₂x_j (refreshed by `fullGradient`).
    let colSq: UnsafeMutableBufferPointer<Double>
    let cy: UnsafeMutableBufferPointer<Double>
    let grad: UnsafeMutableBufferPointer<Double>
    /// Working-set selection keys, by position: `score[k]` belongs to the candidate column `ws[k]`.
    let score: UnsafeMutableBufferPointer<Double>
    /// `CDColumn` flags.
    let status: UnsafeMutableBufferPointer<UInt8>
    /// The working set: `ws[0..<wsCount]` (capacity n; the tail is scratch for selection).
    let ws: UnsafeMutableBufferPointer<Int32>
    var wsCount = 0
    /// The candidates the last refresh ranked right after the working set's, in no order
    /// (`extendSaturatedWorkingSet`); copied into the pool with the working set.
    var runnerUps: [Int32] = []
    /// Whether refreshes pick runner-ups (tests compare with and without).
    var takesRunnerUps = true

    init(a: CDRows, pool: CDColumnPool, l1: Double, l2: Double, y: UnsafeBufferPointer<Double>,
         x: UnsafeMutableBufferPointer<Double>, r: UnsafeMutableBufferPointer<Double>,
         colSq: UnsafeMutableBufferPointer<Double>, cy: UnsafeMutableBufferPointer<Double>,
         grad: UnsafeMutableBufferPointer<Double>, score: UnsafeMutableBufferPointer<Double>,
         status: UnsafeMutableBufferPointer<UInt8>, ws: UnsafeMutableBufferPointer<Int32>) {
        m = a.m
        n = a.n
        self.a = a
        self.pool = pool
        start = pool.start.pointer
        count = pool.count.pointer
        idx = pool.rows.pointer
        val = pool.values.pointer
        self.l1 = l1
        self.l2 = l2
        self.y = y
        self.x = x
        self.r = r
        self.colSq = colSq
        self.cy = cy
        self.grad = grad
        self.score = score
        self.status = status
        self.ws = ws
    }

    /// Copies the given columns (not yet in the pool) into it and refreshes the pool pointers.
    mutating func copyColumns(_ columns: [Int32]) throws(SolverError) {
        defer { refreshPoolPointers() }
        try pool.copy(columns, from: a)
    }

    /// Drops the pooled columns that never entered a working set and have x_j = 0 (runner-ups not
    /// taken in), shrinking the pool; returns the number dropped.
    mutating func dropUnusedPoolColumns() -> Int {
        defer { refreshPoolPointers() }
        let status = status, x = x
        return pool.compact { j in status[j] & CDColumn.everInWorkingSet == 0 && x[j] == 0 }
    }

    /// Takes the pool's buffers again (a copy or a compaction may have replaced them).
    mutating func refreshPoolPointers() {
        idx = pool.rows.pointer
        val = pool.values.pointer
    }

    /// Nonzeros in the working set's columns (the work of one pass).
    var workingSetEntries: Int {
        var entries = 0
        for t in 0..<wsCount { entries += Int(count[Int(ws[t])]) }
        return entries
    }

    /// Column j's entries in the pool.
    @inline(__always) func entries(_ j: Int) -> Range<Int> {
        let s = start[j]
        return s..<(s &+ Int(count[j]))
    }

    /// Tracked ‖r‖², ‖x‖₁ and ‖x‖².
    var rSq = 0.0
    var xL1 = 0.0
    var xL2 = 0.0
    /// Coordinate visits (statistics).
    var visits = 0

    /// P(x) = ½‖r‖² + λ₁‖x‖₁ + ½λ₂‖x‖² from the tracked scalars.
    var primal: Double { 0.5 * rSq + l1 * xL1 + 0.5 * l2 * xL2 }

    // MARK: - The coordinate update

    /// Minimises f exactly along coordinate j and returns the decrease of f (≥ 0).
    ///
    /// ```
    /// z = ‖ã_j‖²·x_j + ã_jᵀr          (= ã_jᵀ(r + ã_j x_j))
    /// x_j⁺ = S(z, λ₁) / (‖ã_j‖² + λ₂)
    /// r ← r − (x_j⁺ − x_j)·ã_j         (O(nnz(ã_j)))
    /// ```
    @inline(__always) mutating func update(_ j: Int) -> Double {
        let h = colSq[j]
        let dot = self.dot(j)
        let old = x[j]
        let new = softThreshold(h * old + dot, l1) / (h + l2)
        visits += 1
        if new == old { return 0 }
        let delta = new - old
        // r ← r − δ·ã_j
        for q in entries(j) { r[Int(idx[q])] -= delta * val[q] }
        x[j] = new
        // f(x⁺) − f(x) = −δ·dot + ½δ²‖ã_j‖² + λ₁(|x⁺|−|x|) + ½λ₂(x⁺²−x²)
        let absChange = abs(new) - abs(old), sqChange = new * new - old * old
        let change = delta * (0.5 * delta * h - dot) + l1 * absChange + 0.5 * l2 * sqChange
        // ‖r − δã_j‖² = ‖r‖² − 2δ·dot + δ²‖ã_j‖²
        rSq += delta * (delta * h - 2 * dot)
        xL1 += absChange
        xL2 += sqChange
        return -change
    }

    /// One pass over `ws[0..<wsCount]` in its current order. Checks `clock` at least every 4096
    /// coordinates (and every ~10⁶ nonzeros); returns the decrease of f and the interruption, if any.
    mutating func pass(clock: SolveClock) -> (decrease: Double, interruption: StopReason?) {
        var decrease = 0.0
        var work = 0
        for k in 0..<wsCount {
            let j = Int(ws[k])
            decrease += update(j)
            work += Int(count[j]) + 256
            if work >= 1 << 20 {
                work = 0
                if let stop = clock.interruption() { return (decrease, stop) }
            }
        }
        return (decrease, nil)
    }

    // MARK: - Exact recomputation

    /// r = ỹ − Ãx from scratch (O(m + Σ nnz(ã_j) over x_j ≠ 0)) and the tracked scalars exactly (O(m + n)).
    mutating func recomputeResidual() {
        _ = r.update(fromContentsOf: y)
        var l1sum = 0.0, l2sum = 0.0
        for j in 0..<n {
            let xj = x[j]
            if xj == 0 { continue }
            l1sum += abs(xj)
            l2sum += xj * xj
            for p in entries(j) { r[Int(idx[p])] -= xj * val[p] }
        }
        rSq = sumOfSquares(UnsafeBufferPointer(r))
        xL1 = l1sum
        xL2 = l2sum
    }

    // MARK: - Gradients Ãᵀv

    /// ĝ_j = ã_jᵀr − λ₂x_j for every column, in a pass over A's rows on all cores.
    ///
    /// With L1 (x sparse) as Ãᵀỹ − Ãᵀ(Ãx) − λ₂x, which reads only the rows that meet a column with
    /// x_j ≠ 0 (`CDColumnPool.transposeProductByDifference`); then ĝ_j of those columns, whose
    /// x_j·ĝ_j terms the duality gap sums, directly as ã_jᵀr − λ₂x_j from the pool. Without L1
    /// (ridge, least squares: x dense, ĝ → 0, every row read anyway) directly as Ãᵀr − λ₂x.
    func fullGradient() {
        guard l1 > 0 else {
            pool.transposeProduct(a, r, into: grad, shift: l2, x: x)
            return
        }
        pool.transposeProductByDifference(a, y: y, r: r, dotY: cy, into: grad, shift: l2, x: x)
        for j in 0..<n where x[j] != 0 { grad[j] = dot(j) - l2 * x[j] }
    }

    /// ã_jᵀr for a column in the pool (`update` takes its z from it).
    @inline(__always) func dot(_ j: Int) -> Double {
        sparseDot(entries(j), UnsafeBufferPointer(idx), UnsafeBufferPointer(val), UnsafeBufferPointer(r))
    }

    /// ĝ_j = ã_jᵀr − λ₂x_j for the working-set columns only (sequential; the set is small).
    func workingSetGradient() {
        for k in 0..<wsCount {
            let j = Int(ws[k])
            grad[j] = dot(j) - l2 * x[j]
        }
    }

    // MARK: - Duality gap

    /// The certificate for the columns `columns` yields, with ĝ already in `grad` for them and x
    /// supported on them. With r̂ = [r; −√λ₂·x] the residual of the augmented problem
    /// min ½‖[ỹ; 0] − [Ã; √λ₂I]x‖² + λ₁‖x‖₁ (Âᵀr̂ = ĝ):
    ///
    /// ```
    /// λ₁ > 0:  s = min(1, λ₁/‖ĝ‖∞),  θ = s·r̂  (feasible: ‖Âᵀθ‖∞ ≤ λ₁)
    ///          gap = P(x) − D(θ) = ½(1−s)²(‖r‖² + λ₂‖x‖²) + Σ_j (λ₁|x_j| − s·x_j·ĝ_j)
    /// λ₁ = 0, λ₂ > 0 (ridge, θ = r):  gap = ‖ĝ‖² / (2λ₂)
    /// λ₁ = λ₂ = 0 (surrogate):        gap = ½ Σ_j ĝ_j² / ‖ã_j‖²
    /// ```
    /// D(θ) = ỹᵀθ̂ − ½‖θ̂‖² is the lasso dual (Fercoq, Gramfort & Salmon 2015, eq. 2, unscaled).
    /// Every term of the first sum is ≥ 0, so the gap is computed without cancellation; it equals
    /// P − D exactly when r = ỹ − Ãx (the caller recomputes r before a gap it reports).
    func certificate<C: Sequence<Int>>(columns: C, rSq: Double) -> CDCertificate {
        var dualNorm = 0.0, gradSq = 0.0, scaledSq = 0.0
        // Σ ĝ_j²/‖ã_j‖² only for the surrogate gap (λ₁ = λ₂ = 0): a division per column otherwise wasted every round.
        let surrogate = l1 == 0 && l2 == 0
        for j in columns {
            let g = grad[j]
            dualNorm = max(dualNorm, abs(g))
            gradSq += g * g
            if surrogate && colSq[j] > 0 { scaledSq += g * g / colSq[j] }
        }
        if l1 > 0 {
            let s = dualNorm > l1 ? l1 / dualNorm : 1
            var terms = 0.0, l2sum = 0.0
            for j in columns {
                let xj = x[j]
                if xj == 0 { continue }
                terms += l1 * abs(xj) - s * xj * grad[j]
                l2sum += xj * xj
            }
            let oneMinusS = 1 - s
            let gap = 0.5 * oneMinusS * oneMinusS * (rSq + l2 * l2sum) + max(terms, 0)
            return CDCertificate(gap: gap, scale: s, dualNorm: dualNorm, gradientNorm: gradSq.squareRoot())
        }
        let gap = l2 > 0 ? gradSq / (2 * l2) : 0.5 * scaledSq
        return CDCertificate(gap: gap, scale: 1, dualNorm: dualNorm, gradientNorm: gradSq.squareRoot())
    }

    /// The columns whose flags pass the filter (a lazy sequence over 0..<n).
    func columns(forbidden: UInt8, required: UInt8 = 0) -> some Sequence<Int> {
        let status = status
        return (0..<n).lazy.filter { j in
            let f = status[j]
            return f & forbidden == 0 && (required == 0 || f & required != 0)
        }
    }

    /// The working-set columns as a sequence.
    func workingSetColumns() -> some Sequence<Int> {
        let ws = ws
        return (0..<wsCount).lazy.map { Int(ws[$0]) }
    }

    /// Recomputes r exactly, ĝ on every column (screened ones included) and the
    /// certificate of the whole problem: the numbers a report may quote.
    mutating func evaluateAll() -> CDCertificate {
        recomputeResidual()
        fullGradient()
        return certificate(columns: columns(forbidden: CDColumn.excluded), rSq: rSq)
    }
}
