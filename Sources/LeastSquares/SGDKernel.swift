// LeastSquares/SGDKernel: one SGD step on a mini-batch of CSR rows at O(nnz(rows)) cost — lazy L2 scale, cumulative L1 penalty, AdaGrad, lazy averaging.
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
    /// A in CSR.
    let off: UnsafeBufferPointer<Int>
    let idx: UnsafeBufferPointer<Int32>
    let val: UnsafeBufferPointer<Double>
    let y: UnsafeBufferPointer<Double>
    /// Sample weights, or an empty buffer for none.
    let w: UnsafeBufferPointer<Double>
    let l1: Double
    let l2: Double
    let adagrad: Bool
    let inverseScaling: Bool
    let eta0: Double

    /// x = s·v.
    let v: UnsafeMutableBufferPointer<Double>
    var s = 1.0
    /// Cumulative L1 penalty (global schedules): u and q_j.
    let q: UnsafeMutableBufferPointer<Double>
    var u = 0.0
    /// AdaGrad accumulators δ + Σ g_j², and 1/c_j for the split regulariser.
    let accumulator: UnsafeMutableBufferPointer<Double>
    let regShare: UnsafeMutableBufferPointer<Double>
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

    /// The global step size η_t: η₀ (constant) or η₀/√(1 + t/m) (invscaling, t = rows seen).
    @inline(__always) var globalStep: Double {
        inverseScaling ? eta0 / (1 + Double(rowsSeen) / Double(max(m, 1))).squareRoot() : eta0
    }

    /// acc_j += v_j·(P − mark_j): brings coordinate j's running sum up to date before v_j changes.
    @inline(__always) func sync(_ j: Int) {
        acc[j] += v[j] * (sumScale - mark[j])
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
                d0 += val[p] * v[Int(idx[p])]
                d1 += val[p + 1] * v[Int(idx[p + 1])]
                p += 2
            }
            if p < end { d0 += val[p] * v[Int(idx[p])] }
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
        s = sOld / (1 + eta * l2 / Double(m))
        // L1: every weight could have lost ηλ₁/m more.
        if l1 > 0 { u += eta * l1 / Double(m) }
        // x + η/B·Σ wᵢrᵢaᵢ in v-units: v_j += η/(B·s_old)·wᵢrᵢ·a_ij (then scaled by the new s).
        let coef = eta / (Double(rows.count) * sOld)
        // One row: its coordinates are distinct, so each can be penalised right after its update.
        let fused = l1 > 0 && rows.count == 1
        for k in 0..<rows.count {
            let i = Int(rows[k])
            let c = coef * batchResidual[k]
            if c == 0 && !fused { continue }
            for p in off[i]..<off[i + 1] {
                let j = Int(idx[p])
                if averaging { sync(j) }
                v[j] += c * val[p]
                if fused { cumulativePenalty(j) }
            }
        }
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
        if s < 1e-9 { renormalize() }
        return true
    }

    /// Tsuruoka et al.'s clipping of x_j = s·v_j by the penalty it has yet to receive. Idempotent
    /// until u or x_j changes, so a coordinate shared by several batch rows is penalised once.
    @inline(__always) func cumulativePenalty(_ j: Int) {
        let z = s * v[j]
        var clipped = z
        if z > 0 {
            clipped = max(0, z - (u + q[j]))
        } else if z < 0 {
            clipped = min(0, z + (u - q[j]))
        }
        q[j] += clipped - z
        v[j] = clipped / s
    }

    /// v ← s·v, s ← 1 (after bringing every running sum up to date): O(n), only when s < 10⁻⁹.
    mutating func renormalize() {
        if averaging {
            for j in 0..<n {
                acc[j] += v[j] * (sumScale - mark[j])
                mark[j] = 0
            }
            sumScale = 0
        }
        for j in 0..<n { v[j] *= s }
        s = 1
    }

    // MARK: - AdaGrad

    /// One AdaGrad step on a single row (`rows.count == 1`; the common case, no scatter buffer).
    mutating func adagradStep(_ rows: UnsafeBufferPointer<Int32>) -> Bool {
        guard residuals(rows) else { return false }
        let i = rows[0]
        let res = batchResidual[0]
        let hasReg = l1 > 0 || l2 > 0
        let r = Int(i)
        for p in off[r]..<off[r + 1] {
            let j = Int(idx[p])
            let g = -res * val[p]
            let sum = accumulator[j] + g * g
            accumulator[j] = sum
            let step = eta0 / sum.squareRoot()
            if averaging { sync(j) }
            var z = v[j] - step * g
            if hasReg {
                let share = step * regShare[j]
                z = softThreshold(z, share * l1) / (1 + share * l2)
            }
            v[j] = z
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
                batchShare[j] += regShare.isEmpty ? 0 : regShare[j] * inverseBatch
            }
        }
        let hasReg = l1 > 0 || l2 > 0
        for t in 0..<count {
            let j = Int(touched[t])
            let g = batchGradient[j]
            let sum = accumulator[j] + g * g
            accumulator[j] = sum
            let step = eta0 / sum.squareRoot()
            if averaging { sync(j) }
            var z = v[j] - step * g
            if hasReg {
                let share = step * batchShare[j]
                z = softThreshold(z, share * l1) / (1 + share * l2)
            }
            v[j] = z
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
        for j in 0..<n { out[j] = s * v[j] }
    }

    /// The running average (1/T)·Σ_t x_t into `out`, bringing every sum up to date (O(n)).
    mutating func average(into out: inout [Double]) {
        let scale = averagedSteps > 0 ? 1 / Double(averagedSteps) : 0
        for j in 0..<n {
            acc[j] += v[j] * (sumScale - mark[j])
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
