// LeastSquares/SGDKernel: one SGD step on a mini-batch of CSR rows at O(nnz(rows)) cost — lazy L2 scale, cumulative L1 penalty, AdaGrad, lazy averaging.
import CMemoryHints
import SparseTensor

/// The state of one SGD run over the rows of A (CSR).
///
/// Raw pointers into storage owned by `StochasticGradientDescent.solve`, which outlives the kernel.
/// Nothing in a step costs more than the nonzeros of its rows: no dense pass, no allocation.
///
/// - Global schedules (constant, invscaling): x = s·v. The L2 prox x ← x/(1 + ηλ₂/m) is a change
///   of the scalar s; v is renormalised (an O(n) pass) only when s < 10⁻⁹. The L1 term uses the
///   cumulative penalty of Tsuruoka, Tsujii & Ananiadou (ACL 2009): u = Σ_t η_t·λ₁/m is the
///   penalty every weight could have received so far, q_j what x_j actually received; when x_j is
///   touched it is clipped towards 0 by u ± q_j, never past 0.
/// - AdaGrad (s ≡ 1): per-coordinate steps η_j = η₀/√(δ + Σ g_j²) (Duchi, Hazan & Singer 2011),
///   and the regulariser split over the rows that hold each column, R = Σᵢ Σ_{j∈rowᵢ} (λ₁|x_j| +
///   ½λ₂x_j²)/c_j with c_j = nnz(column j), so that a row's step applies the prox of its own share
///   to its own coordinates (the reweighting of Leblond, Pedregosa & Lacoste-Julien 2017, JMLR 19).
///   This keeps the stochastic gradient unbiased and the step O(nnz(row)) with coordinate steps
///   that change at every touch, where a global scale factor cannot apply.
/// - Averaging (Polyak & Juditsky 1992): Σ_t x_t,j is kept lazily. P = Σ_t s_t, and for each j the
///   sum acc_j and the value of P when it was last brought up to date: before v_j changes,
///   acc_j += v_j·(P − mark_j). A full flush happens once per epoch.
struct SGDKernel {
    let m: Int
    let n: Int
    /// The rows the steps read (A itself, or the current chunk of shuffled rows, see `SGDRows`):
    /// CSR arrays, y and the sample weights (empty for none), indexed by the row numbers a step gets.
    var off: UnsafeBufferPointer<Int>
    var idx: UnsafeBufferPointer<Int32>
    var val: UnsafeBufferPointer<Double>
    var y: UnsafeBufferPointer<Double>
    var w: UnsafeBufferPointer<Double>
    let l1: Double
    let l2: Double
    let adagrad: Bool
    let inverseScaling: Bool
    let eta0: Double
    /// AdaGrad in units of √δ (see `AdaGradSlot`): 1/√δ and η̃ = η₀/√δ.
    let inverseRootDelta: Double
    let scaledEta0: Double
    /// State of the xorshift generator (Marsaglia 2003, J. Stat. Softw. 8(14)) that draws AdaGrad's stochastic
    /// rounding of ρ_j, one step per SGD step (`nextRoundingBase`): seeded from the options' seed, so the same
    /// seed gives the same x. Never 0.
    var rounding: UInt64
    /// 1/m, λ₂/m and λ₁/m: per-step constants, so that a step divides only where it must.
    let inverseRows: Double
    let l2PerRow: Double
    let l1PerRow: Double

    /// Per-coordinate state, interleaved so that a step touches one cache line per coordinate:
    /// `state[j·stride]` = v_j (x = s·v), and `state[j·stride + 1]` = q_j (cumulative L1 penalty,
    /// global schedules) or AdaGrad's ρ_j = √(G_j/δ) and share 1/c_j packed in one slot (`AdaGradSlot`).
    let state: UnsafeMutableBufferPointer<Double>
    let stride: Int
    var s = 1.0
    /// Cumulative L1 penalty u (global schedules).
    var u = 0.0
    /// Averaging: acc_j, mark_j, P; `averaging` is on after the burn-in.
    let acc: UnsafeMutableBufferPointer<Double>
    let mark: UnsafeMutableBufferPointer<Double>
    var sumScale = 0.0
    var averaging = false
    var averagedSteps = 0
    /// Mini-batch scratch: weighted residuals of the batch rows; AdaGrad's batch gradient,
    /// regulariser share and touched-coordinate list.
    let batchResidual: UnsafeMutableBufferPointer<Double>
    let batchGradient: UnsafeMutableBufferPointer<Double>
    let batchShare: UnsafeMutableBufferPointer<Double>
    let touchedFlag: UnsafeMutableBufferPointer<UInt8>
    let touched: UnsafeMutableBufferPointer<Int32>

    /// Rows processed so far (t of the invscaling schedule).
    var rowsSeen = 0

    /// Makes the steps read `rows`.
    mutating func read(_ rows: SGDRows) {
        off = rows.off
        idx = rows.idx
        val = rows.val
        y = rows.y
        w = rows.w
    }

    /// The global step size η_t: η₀ (constant) or η₀/√(1 + t/m) (invscaling, t = rows seen).
    @inline(__always) var globalStep: Double {
        inverseScaling ? eta0 / (1 + Double(rowsSeen) * inverseRows).squareRoot() : eta0
    }


    /// Asks for the state of row i's coordinates (and their running sums when averaging) ahead of its step.
    ///
    /// A step's loads of x at its row's columns are random reads of an n-vector, which for a large n miss the
    /// core's caches; the next row's cannot start before this step's updates retire, so without a hint every step
    /// waits for its own misses in turn. Prefetching the rows two batches ahead (`steps`) overlaps them with this
    /// step's work.
    @inline(__always) func prefetch(row i: Int) {
        guard let base = UnsafeRawPointer(state.baseAddress) else { return }
        let sums = UnsafeRawPointer(acc.baseAddress), marks = UnsafeRawPointer(mark.baseAddress)
        for p in off[i]..<off[i + 1] {
            let j = Int(idx[p])
            lsq_prefetch_write(base + (j &* stride) &* MemoryLayout<Double>.stride)
            if averaging, let sums, let marks {
                lsq_prefetch_write(sums + j &* MemoryLayout<Double>.stride)
                lsq_prefetch_write(marks + j &* MemoryLayout<Double>.stride)
            }
        }
    }

    /// acc_j += v_j·(P − mark_j): brings coordinate j's running sum up to date before v_j changes.
    @inline(__always) func sync(_ j: Int) {
        acc[j] += state[j &* stride] * (sumScale - mark[j])
        mark[j] = sumScale
    }

    /// wᵢ·(yᵢ − aᵢᵀx) for the rows of the batch, into `batchResidual`; false if one is not finite
    /// or beyond 10¹⁵⁰ (the iteration is diverging).
    @inline(__always) func residuals(_ rows: UnsafeBufferPointer<Int32>) -> Bool {
        for k in 0..<rows.count {
            let i = Int(rows[k])
            var d0 = 0.0, d1 = 0.0
            var p = off[i]
            let end = off[i + 1]
            while p + 1 < end {
                d0 += val[p] * state[Int(idx[p]) &* stride]
                d1 += val[p + 1] * state[Int(idx[p + 1]) &* stride]
                p += 2
            }
            if p < end { d0 += val[p] * state[Int(idx[p]) &* stride] }
            var res = y[i] - s * (d0 + d1)
            if !w.isEmpty { res *= w[i] }
            if !(abs(res) < 1e150) { return false }
            batchResidual[k] = res
        }
        return true
    }

    // MARK: - Constant and invscaling schedules

    /// One step x ← prox_{ηR/m}(x + η·(1/B)Σᵢ wᵢrᵢaᵢ) on the batch `rows`, with the global step η.
    mutating func globalStep(_ rows: UnsafeBufferPointer<Int32>) -> Bool {
        guard residuals(rows) else { return false }
        let eta = globalStep
        let sOld = s
        // L2 prox: x ← x/(1 + ηλ₂/m), i.e. s ← s/(1 + ηλ₂/m).
        s = sOld / (1 + eta * l2PerRow)
        // L1: every weight could have lost ηλ₁/m more.
        if l1 > 0 { u += eta * l1PerRow }
        // x + η/B·Σ wᵢrᵢaᵢ in v-units: v_j += η/(B·s_old)·wᵢrᵢ·a_ij (then scaled by the new s).
        let coef = eta / (Double(rows.count) * sOld)
        // s below 10⁻⁹ (or underflowed by a huge λ₂): fold it into v before the penalty divides by it.
        let renormalizeNow = s < 1e-9
        // One row: its coordinates are distinct, so each can be penalised right after its update.
        let fused = l1 > 0 && rows.count == 1 && !renormalizeNow
        for k in 0..<rows.count {
            let i = Int(rows[k])
            let c = coef * batchResidual[k]
            if c == 0 && !fused { continue }
            for p in off[i]..<off[i + 1] {
                let j = Int(idx[p])
                if averaging { sync(j) }
                state[j &* stride] += c * val[p]
                if fused { cumulativePenalty(j) }
            }
        }
        if renormalizeNow { renormalize() }
        // Several rows: the whole batch gradient first, then the penalty once per coordinate.
        if l1 > 0 && !fused {
            for k in 0..<rows.count {
                let i = Int(rows[k])
                for p in off[i]..<off[i + 1] {
                    let j = Int(idx[p])
                    if averaging { sync(j) }
                    cumulativePenalty(j)
                }
            }
        }
        rowsSeen += rows.count
        if averaging {
            sumScale += s
            averagedSteps += 1
        }
        return true
    }

    /// Tsuruoka et al.'s clipping of x_j = s·v_j by the penalty it has yet to receive. Idempotent
    /// until u or x_j changes, so a coordinate shared by several batch rows is penalised once.
    @inline(__always) func cumulativePenalty(_ j: Int) {
        let slot = j &* stride
        let z = s * state[slot]
        var clipped = z
        if z > 0 {
            clipped = max(0, z - (u + state[slot &+ 1]))
        } else if z < 0 {
            clipped = min(0, z + (u - state[slot &+ 1]))
        }
        state[slot &+ 1] += clipped - z
        state[slot] = clipped / s
    }

    /// v ← s·v, s ← 1 (after bringing every running sum up to date): O(n), only when s < 10⁻⁹.
    /// Coordinates already changed in the current step were synced before their change, so the
    /// flush credits each earlier step with the value it really had.
    mutating func renormalize() {
        if averaging {
            for j in 0..<n {
                acc[j] += state[j &* stride] * (sumScale - mark[j])
                mark[j] = 0
            }
            sumScale = 0
        }
        for j in 0..<n { state[j &* stride] *= s }
        s = 1
    }

    // MARK: - AdaGrad

    /// The AdaGrad proximal step on one coordinate, with η_j = η₀/√G (G = δ + Σ g²) and the regulariser
    /// share c, written with ρ = √(G/δ) and η̃ = η₀/√δ (`rho` is ρ after this gradient):
    ///
    /// ```
    /// x ← S(x − η_j·g, η_j·c·λ₁) / (1 + η_j·c·λ₂)  =  S(x·ρ − η̃g, η̃cλ₁) / (ρ + η̃cλ₂)
    /// ```
    /// The right-hand form needs one division (and the caller one square root for ρ).
    @inline(__always) func adagradUpdate(_ x: Double, _ g: Double, _ rho: Double, _ share: Double) -> Double {
        let c = scaledEta0 * share
        return softThreshold(x * rho - scaledEta0 * g, c * l1) / (rho + c * l2)
    }

    /// ρ_j after gradient g: ρ' = √(ρ² + g²/δ), stored back by stochastic rounding (`AdaGradSlot`) with
    /// `draw`.
    @inline(__always) func adagradGrow(_ slot: Int, by g: Double, draw: UInt64) -> (rho: Double, packed: Double) {
        let packed = state[slot]
        let rho = AdaGradSlot.rho(packed)
        let scaled = g * inverseRootDelta
        let grown = (rho * rho + scaled * scaled).squareRoot()
        state[slot] = AdaGradSlot.replacingRho(packed, with: grown, draw: draw)
        return (grown, packed)
    }

    /// The random base of one step's rounding draws: the next xorshift state. The k-th coordinate of the step
    /// rounds with base + k·φ (`AdaGradSlot.drawStride`): a coordinate appears once per step, so the draws it
    /// gets over its updates come from independent bases and are independent and uniform, which is what the
    /// rounding's unbiasedness needs. One generator step per row instead of one per coordinate leaves an
    /// addition as the only dependency carried from one coordinate to the next (no measurable difference in
    /// interleaved runs; the rounding as a whole costs ~15 % of an AdaGrad step when the state stays in cache).
    @inline(__always) mutating func nextRoundingBase() -> UInt64 {
        rounding ^= rounding &<< 13
        rounding ^= rounding &>> 7
        rounding ^= rounding &<< 17
        return rounding
    }

    /// One AdaGrad step on a single row (`rows.count == 1`; the common case, no scatter buffer).
    mutating func adagradStep(_ rows: UnsafeBufferPointer<Int32>) -> Bool {
        guard residuals(rows) else { return false }
        let i = rows[0]
        let res = batchResidual[0]
        let hasReg = l1 > 0 || l2 > 0
        let r = Int(i)
        var draw = nextRoundingBase()
        var p = off[r]
        let end = off[r + 1]
        // Two coordinates at a time (a row's columns are distinct, so their updates are independent): their
        // square roots and divisions go through the divider as pairs (sqrtpd, divpd), which the scalar loop
        // waited on. The arithmetic of each lane is the scalar one's, so x is the same to the bit.
        while p &+ 1 < end {
            let j0 = Int(idx[p]), j1 = Int(idx[p &+ 1])
            let g0 = -res * val[p], g1 = -res * val[p &+ 1]
            let slot0 = j0 &* stride, slot1 = j1 &* stride
            let packed0 = state[slot0 &+ 1], packed1 = state[slot1 &+ 1]
            let rho0 = AdaGradSlot.rho(packed0), rho1 = AdaGradSlot.rho(packed1)
            let q0 = g0 * inverseRootDelta, q1 = g1 * inverseRootDelta
            let grown = SIMD2(rho0 * rho0 + q0 * q0, rho1 * rho1 + q1 * q1).squareRoot()
            state[slot0 &+ 1] = AdaGradSlot.replacingRho(packed0, with: grown[0], draw: draw)
            draw &+= AdaGradSlot.drawStride
            state[slot1 &+ 1] = AdaGradSlot.replacingRho(packed1, with: grown[1], draw: draw)
            draw &+= AdaGradSlot.drawStride
            if averaging {
                sync(j0)
                sync(j1)
            }
            let c0 = scaledEta0 * (hasReg ? AdaGradSlot.share(packed0) : 0)
            let c1 = scaledEta0 * (hasReg ? AdaGradSlot.share(packed1) : 0)
            let numerator = SIMD2(softThreshold(state[slot0] * grown[0] - scaledEta0 * g0, c0 * l1),
                                  softThreshold(state[slot1] * grown[1] - scaledEta0 * g1, c1 * l1))
            let x = numerator / SIMD2(grown[0] + c0 * l2, grown[1] + c1 * l2)
            state[slot0] = x[0]
            state[slot1] = x[1]
            p &+= 2
        }
        if p < end {
            let j = Int(idx[p])
            let g = -res * val[p]
            let slot = j &* stride
            let (rho, packed) = adagradGrow(slot &+ 1, by: g, draw: draw)
            if averaging { sync(j) }
            state[slot] = adagradUpdate(state[slot], g, rho, hasReg ? AdaGradSlot.share(packed) : 0)
        }
        rowsSeen += 1
        if averaging {
            sumScale += 1
            averagedSteps += 1
        }
        return true
    }

    /// One AdaGrad step on a batch: the batch gradient and regulariser share are gathered per
    /// touched coordinate first (O(nnz(rows)) with a scatter buffer), then applied once.
    mutating func adagradBatchStep(_ rows: UnsafeBufferPointer<Int32>) -> Bool {
        guard residuals(rows) else { return false }
        let inverseBatch = 1 / Double(rows.count)
        let hasReg = l1 > 0 || l2 > 0
        var count = 0
        for k in 0..<rows.count {
            let i = Int(rows[k])
            let coef = -batchResidual[k] * inverseBatch
            for p in off[i]..<off[i + 1] {
                let j = Int(idx[p])
                if touchedFlag[j] == 0 {
                    touchedFlag[j] = 1
                    touched[count] = Int32(truncatingIfNeeded: j)
                    count += 1
                }
                batchGradient[j] += coef * val[p]
                if hasReg { batchShare[j] += AdaGradSlot.share(state[j &* stride &+ 1]) * inverseBatch }
            }
        }
        var draw = nextRoundingBase()
        for t in 0..<count {
            let j = Int(touched[t])
            let g = batchGradient[j]
            let slot = j &* stride
            let (rho, _) = adagradGrow(slot &+ 1, by: g, draw: draw)
            draw &+= AdaGradSlot.drawStride
            if averaging { sync(j) }
            state[slot] = adagradUpdate(state[slot], g, rho, batchShare[j])
            batchGradient[j] = 0
            batchShare[j] = 0
            touchedFlag[j] = 0
        }
        rowsSeen += rows.count
        if averaging {
            sumScale += 1
            averagedSteps += 1
        }
        return true
    }

    // MARK: - Epoch boundaries

    /// The iterate x = s·v into `out` (O(n)).
    func current(into out: inout [Double]) {
        for j in 0..<n { out[j] = s * state[j &* stride] }
    }

    /// The running average (1/T)·Σ_t x_t into `out`, bringing every sum up to date (O(n)).
    mutating func average(into out: inout [Double]) {
        let scale = averagedSteps > 0 ? 1 / Double(averagedSteps) : 0
        for j in 0..<n {
            acc[j] += state[j &* stride] * (sumScale - mark[j])
            mark[j] = 0
            out[j] = acc[j] * scale
        }
        sumScale = 0
    }

    /// Starts averaging now (after the burn-in): empty sums.
    mutating func startAveraging() {
        for j in 0..<n {
            acc[j] = 0
            mark[j] = 0
        }
        sumScale = 0
        averagedSteps = 0
        averaging = true
    }
}

/// AdaGrad's second per-coordinate slot: ρ_j = √(G_j/δ) (G_j = δ + Σ g_j², so ρ_j ≥ 1) and the regulariser
/// share 1/c_j as two `Float`s in the bits of one `Double`, so that a coordinate's whole state (x_j and this slot)
/// is 16 bytes.
///
/// Why: with x_j, G_j and 1/c_j as three doubles (24 bytes, some straddling two cache lines) the state of the
/// 1M × 500k benchmark problem was 12 MB, and the steps waited on it: an AdaGrad step cost three times an
/// invscaling one (4 MB of state). With this slot its AdaGrad epochs took 0.35–0.41 s instead of 0.49–0.54 s
/// (interleaved runs of `LsqBench solve`).
///
/// Precision: a `Float` holds ρ to 2⁻²⁴ relative. Rounding to nearest would lose every increment below half
/// an ulp — a column touched 10⁷ times or more (an intercept column, say) would see ρ stop growing and its
/// step stop shrinking. So ρ is stored by **stochastic rounding**: to the `Float` below or above, with the
/// probabilities that make the stored value equal ρ in expectation (Forsythe 1959; Connolly, Higham & Mary
/// 2021, SIAM J. Sci. Comput. 43(1)). Accumulated over T updates the error is a zero-mean walk of about
/// √T·2⁻²⁴ relative instead of a drift, and the draws come from a generator seeded by the solve's seed, so the
/// same seed gives the same x. The share is rounded once (relative 6·10⁻⁸ of that column's λ).
/// Range: ρ up to 3.4·10³⁸, i.e. accumulated gradients 10³⁸ times the typical one δ was set from; beyond
/// that the iteration has diverged and the next residual (non-finite) reports it.
enum AdaGradSlot {
    /// φ = 2⁶⁴/golden ratio (odd): the offset between the rounding draws of one step's coordinates.
    static let drawStride: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The slot for ρ = `rho` (exactly representable: the start, ρ = 1) and share `share`.
    @inline(__always) static func make(rho: Double, share: Double) -> Double {
        Double(bitPattern: UInt64(Float(rho).bitPattern) | UInt64(Float(share).bitPattern) &<< 32)
    }

    /// ρ_j.
    @inline(__always) static func rho(_ slot: Double) -> Double {
        Double(Float(bitPattern: UInt32(truncatingIfNeeded: slot.bitPattern)))
    }

    /// The share 1/c_j.
    @inline(__always) static func share(_ slot: Double) -> Double {
        Double(Float(bitPattern: UInt32(truncatingIfNeeded: slot.bitPattern &>> 32)))
    }

    /// The slot with ρ replaced by `rho` (≥ 1) stochastically rounded to a `Float` with the random `draw`:
    /// up with probability (ρ − below)/(above − below). The share is kept.
    ///
    /// On the bits: a `Double` in the `Float` range becomes a `Float` by rebasing its exponent and dropping the
    /// 29 low bits of its significand. Adding 29 random bits before dropping them rounds up exactly when they
    /// carry, i.e. with probability (dropped bits)/2²⁹; a carry out of the significand moves to the next binade,
    /// as it should. ρ beyond the `Float` range (a diverged iteration), NaN included, is stored as `Float(ρ)`.
    @inline(__always) static func replacingRho(_ slot: Double, with rho: Double, draw: UInt64) -> Double {
        let bits: UInt32
        if rho < 0x1p127 {  // ρ ≥ 1 by construction; NaN fails the test too
            let rebased = rho.bitPattern &- (UInt64(1023 - 127) &<< 52)
            bits = UInt32(truncatingIfNeeded: (rebased &+ (draw & 0x1FFF_FFFF)) &>> 29)
        } else {
            bits = Float(rho).bitPattern
        }
        return Double(bitPattern: slot.bitPattern & 0xFFFF_FFFF_0000_0000 | UInt64(bits))
    }
}

/// Rows for SGD steps: CSR arrays with their y and weights (w empty when unweighted).
///
/// Visiting A's rows in shuffled order reads each row from a random place in memory, and every step
/// waits for those misses. The epoch loop therefore gathers the next rows of the shuffled order into
/// a small contiguous chunk first (`SGDLayout`, `SGDChunk`): the copies are independent loads the
/// processor overlaps, and the steps then stream through the chunk. Same rows, same order, same arithmetic.
struct SGDRows {
    var off: UnsafeBufferPointer<Int>
    var idx: UnsafeBufferPointer<Int32>
    var val: UnsafeBufferPointer<Double>
    var y: UnsafeBufferPointer<Double>
    var w: UnsafeBufferPointer<Double>
}

/// Which rows of the shuffled order one chunk holds and where each goes: filled by `layout`, read by
/// `SGDChunk.copy` and (its offsets) by the steps.
final class SGDLayout {
    let rowCapacity: Int
    let nonzeroCapacity: Int
    /// Local row t is `idx[off[t] ..< off[t+1]]` in the chunk.
    let off: ScratchBuffer<Int>
    /// Row t's number in A and its start there. Recorded here, where A's offsets are read anyway: the
    /// copy then reads neither the order nor A's offsets (re-reading them there at random cost a third
    /// of the copy's time), so the order may be reshuffled while a chunk is still being copied.
    let sourceRow: ScratchBuffer<Int32>
    let sourceStart: ScratchBuffer<Int>
    /// Rows laid out, and the position in the order of the first one.
    private(set) var rows = 0
    private(set) var first = 0

    init(rowCapacity: Int, nonzeroCapacity: Int) {
        self.rowCapacity = rowCapacity
        self.nonzeroCapacity = nonzeroCapacity
        // Written by `layout` before anything reads them: no zero fill (it took ~5 ms of a 12 ms setup).
        off = ScratchBuffer(uninitializedCount: rowCapacity + 1)
        sourceRow = ScratchBuffer(uninitializedCount: rowCapacity)
        sourceStart = ScratchBuffer(uninitializedCount: rowCapacity)
    }

    /// Lays out whole batches of `order[first...]` while they fit; returns the number of rows (0 when
    /// even the first batch does not fit: step it in place).
    @discardableResult
    func layout(_ source: SGDRows, order: UnsafeMutableBufferPointer<Int32>, from first: Int, batch: Int) -> Int {
        let m = order.count
        let chunkOff = off.pointer, from = sourceStart.pointer, row = sourceRow.pointer
        var rows = 0, nonzeros = 0
        chunkOff[0] = 0
        var next = first
        while next < m {
            let last = min(next + batch, m)
            var size = 0
            for k in next..<last {
                // A's offsets are read at random: ask for those of the rows 16 places on.
                if k + 16 < m, let offsets = source.off.baseAddress { lsq_prefetch_read(offsets + Int(order[k + 16])) }
                let i = Int(order[k])
                size += source.off[i + 1] - source.off[i]
            }
            if rows + (last - next) > rowCapacity || nonzeros + size > nonzeroCapacity { break }
            for k in next..<last {
                let i = Int(order[k])
                row[rows] = Int32(truncatingIfNeeded: i)
                from[rows] = source.off[i]
                nonzeros += source.off[i + 1] - source.off[i]
                rows += 1
                chunkOff[rows] = nonzeros
            }
            next = last
        }
        self.rows = rows
        self.first = first
        return rows
    }

    /// Nonzeros in the first `rows` laid-out rows.
    func nonzeros(_ rows: Int) -> Int { off.pointer[rows] }

    /// The first laid-out row that starts at or after nonzero `target`.
    func firstRow(atNonzero target: Int) -> Int {
        var lo = 0, hi = rows
        while lo < hi {
            let mid = (lo + hi) / 2
            if off.pointer[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// The gathered rows of one chunk (column indices, values, y, weights), allocated once per solve.
final class SGDChunk {
    let idx: ScratchBuffer<Int32>
    let val: ScratchBuffer<Double>
    let y: ScratchBuffer<Double>
    let w: ScratchBuffer<Double>

    init(rowCapacity: Int, nonzeroCapacity: Int, weighted: Bool) {
        // Written by `copy` before the steps read them.
        idx = ScratchBuffer(uninitializedCount: nonzeroCapacity)
        val = ScratchBuffer(uninitializedCount: nonzeroCapacity)
        y = ScratchBuffer(uninitializedCount: rowCapacity)
        w = ScratchBuffer(uninitializedCount: weighted ? rowCapacity : 0)
    }

    /// The chunk's rows as the steps read them (offsets from its layout).
    func rows(_ layout: SGDLayout) -> SGDRows {
        SGDRows(off: UnsafeBufferPointer(layout.off.pointer), idx: UnsafeBufferPointer(idx.pointer),
                val: UnsafeBufferPointer(val.pointer), y: UnsafeBufferPointer(y.pointer), w: UnsafeBufferPointer(w.pointer))
    }

    /// Copies the laid-out local rows `rows` (whole rows, with y and the weights) from `source`.
    /// Disjoint ranges may be copied concurrently.
    func copy(_ source: SGDRows, _ layout: SGDLayout, rows: Range<Int>) {
        let chunkOff = layout.off.pointer, from = layout.sourceStart.pointer, row = layout.sourceRow.pointer
        let chunkIdx = idx.pointer, chunkVal = val.pointer, chunkY = y.pointer, chunkW = w.pointer
        for t in rows {
            // The rows a few places on are random reads of A: asking for them now keeps several misses in flight.
            let ahead = t + SGDChunk.prefetchDistance
            if ahead < rows.upperBound {
                SGDChunk.prefetch(source, row: Int(row[ahead]), start: from[ahead], count: chunkOff[ahead + 1] - chunkOff[ahead])
            }
            let i = Int(row[t]), start = from[t]
            let base = chunkOff[t], count = chunkOff[t + 1] - base
            // Whole-row block copies: a few wide loads per row instead of two per entry, so the
            // processor has the misses of many rows in flight at once (per-entry copying took twice as long).
            if count > 0, let sourceIdx = source.idx.baseAddress, let sourceVal = source.val.baseAddress,
               let toIdx = chunkIdx.baseAddress, let toVal = chunkVal.baseAddress {
                (toIdx + base).update(from: sourceIdx + start, count: count)
                (toVal + base).update(from: sourceVal + start, count: count)
            }
            chunkY[t] = source.y[i]
            if !source.w.isEmpty { chunkW[t] = source.w[i] }
        }
    }

    /// How many rows ahead `copy` prefetches its source rows.
    static let prefetchDistance = 8

    /// Prefetches the first lines of source row `row` (its column indices and values from `start`, y and its weight).
    /// Longer rows need no more: the hardware prefetcher follows a sequential read once it has begun.
    @inline(__always) static func prefetch(_ source: SGDRows, row: Int, start: Int, count: Int) {
        guard count > 0, let idx = source.idx.baseAddress, let val = source.val.baseAddress else { return }
        let entries = min(count, 32)
        var q = 0
        while q < entries {
            lsq_prefetch_read(idx + start + q)
            q += 16
        }
        q = 0
        while q < entries {
            lsq_prefetch_read(val + start + q)
            q += 8
        }
        lsq_prefetch_read(idx + start + entries - 1)
        lsq_prefetch_read(val + start + entries - 1)
        if let y = source.y.baseAddress { lsq_prefetch_read(y + row) }
        if !source.w.isEmpty, let w = source.w.baseAddress { lsq_prefetch_read(w + row) }
    }

    /// `copy` of all laid-out rows, on all cores when the chunk is big (independent loads, so many
    /// cache misses are in flight at once).
    func copyAll(_ source: SGDRows, _ layout: SGDLayout) {
        let rows = layout.rows
        let workers = rows > 1 ? Parallelism.workers(forWork: layout.nonzeros(rows)) : 1
        Parallelism.run(workers) { part in
            copy(source, layout, rows: (rows * part / workers)..<(rows * (part + 1) / workers))
        }
    }
}
