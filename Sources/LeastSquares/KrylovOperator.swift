// LeastSquares/KrylovOperator: the operator Ā = [W^½·A·C; δ·C] and its transpose, fused with LSQR/LSMR's bidiagonalization updates.
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
/// The Golub–Kahan steps `β·u = Ā·v − α·u` and `α·v = Āᵀ·u − β·v` are each one fused pass
/// (`applyUpdating`, `applyTransposeUpdating`): product, update and sum of squares together, split
/// across cores, into buffers allocated once. While the vectors stay cached, both are one pass over
/// A's rows (`step`), which reads A once a step instead of twice.
///
/// A·v is a gather over the rows of the CSR storage. Aᵀ·u is either a scatter over the same rows into
/// per-worker n-vectors that are then summed, or a gather over the columns of a CSC copy (12 bytes
/// per nonzero, made only when it fits the memory budget). Which is faster depends on which vector is
/// accessed at random: the scatter writes into n-vectors (one per worker), the gather reads the
/// m-vector u. Measured (release, 2 cores, RandomSparse, min of 40 interleaved runs; Aᵀ·u in ms):
///
/// | m × n, nnz                 | CSR scatter | CSC gather |
/// |----------------------------|-------------|------------|
/// | 1 000 000 × 20 000, 2·10⁷  | 12.2        | 18.5       |
/// | 200 000 × 100 000, 4·10⁶   | 3.2         | 3.4        |
/// | 200 000 × 200 000, 4·10⁶   | 6.8         | 6.8        |
/// | 100 000 × 200 000, 4·10⁶   | 6.5         | 6.0        |
/// | 100 000 × 1 000 000, 4·10⁶ | 7.0         | 5.3        |
/// | 50 000 × 1 000 000, 5·10⁶  | 15.7        | 7.4        |
///
/// So the copy is made for wide matrices (n > m) on several workers (`gatherPays`); tall ones keep
/// the scatter and no copy (including the 200 000 × 100 000 case of the issue).
final class KrylovOperator {
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

    /// Row ranges of balanced nnz for the gather over rows (and the scatter), one per worker.
    private let rowRanges: [Range<Int>]
    /// Workers of the scatter (1 when nnz < 4n: then the per-worker buffers do not pay).
    private let scatterWorkers: Int
    /// Column ranges of balanced nnz for the gather over the CSC copy.
    private let columnRanges: [Range<Int>]
    /// Column chunks of the reduction pass of the scatter.
    private let reductionRanges: [Range<Int>]
    /// Whether a Golub–Kahan step is one pass over A's rows (`step`) instead of two: when Aᵀ·u is the
    /// scatter over rows, each row range has its own buffer, and v with the buffers fits in a quarter of
    /// the last-level cache (see `step`).
    let fusesSteps: Bool
    /// Entries per block of rows in the fused pass, at most (12 KB of A, kept in L1 between its two uses;
    /// a longer row is a block of its own).
    static let fusedBlockEntries = 1024
    /// Workspace: C·v (n), W^½·u (m), per-worker scatter buffers (n each), per-range partial sums.
    private var scaledV: [Double]
    private var scaledU: [Double]
    private var partials: [[Double]]
    /// The fused step's new v, swapped in once every entry is known to be finite (n, only when `fusesSteps`).
    private var reduced: [Double]

    /// m, the rows of A.
    var matrixRowCount: Int { rows.outerCount }
    /// Rows of Ā: m, or m + n with the damping block.
    var rowCount: Int { rows.outerCount + (augmentedDamping > 0 ? rows.innerCount : 0) }
    /// Columns of Ā: n.
    var columnCount: Int { rows.innerCount }

    /// Whether to keep a CSC copy for Aᵀ·u.
    enum TransposeCopy { case never, always, whenFaster }

    /// Builds the operator; makes a CSC copy of A for Aᵀ·u when `transposeCopy` says so and it fits `budget`.
    /// `fuseSteps: false` keeps two passes a step in any case (tests compare the two forms).
    init(matrix: CSRMatrix, rowScale: [Double]?, columnScale: [Double]?, augmentedDamping: Double,
         transposeCopy: TransposeCopy, budget: MemoryBudget, fuseSteps: Bool = true) {
        let m = matrix.rowCount, n = matrix.columnCount
        rows = matrix.storage
        self.rowScale = rowScale
        self.columnScale = columnScale
        self.augmentedDamping = augmentedDamping
        let bytes = StorageBytes.compressed(outer: n, nnz: Double(matrix.nnz))
        let fits = (try? budget.check(bytes, for: "CSC copy of A")) != nil
        let copy: Bool
        switch transposeCopy {
        case .never: copy = false
        case .always: copy = fits
        case .whenFaster: copy = fits && KrylovOperator.gatherPays(matrix)
        }
        columns = copy ? matrix.storage.transposed() : nil
        let workers = Parallelism.workers(forWork: matrix.nnz)
        rowRanges = matrix.storage.offsets.withUnsafeBufferPointer {
            Parallelism.balancedRanges(offsets: $0, outerCount: m, parts: workers)
        }
        columnRanges = columns?.offsets.withUnsafeBufferPointer {
            Parallelism.balancedRanges(offsets: $0, outerCount: n, parts: workers)
        } ?? []
        scatterWorkers = columns == nil && matrix.nnz >= 4 * n ? workers : 1
        fusesSteps = fuseSteps && columns == nil && scatterWorkers == rowRanges.count
            && Double((1 + scatterWorkers) * 8) * Double(n) <= Double(CacheSize.lastLevelBytes) / 4
        let chunk = (n + workers - 1) / max(workers, 1)
        reductionRanges = (0..<workers).map { k in min(n, k * chunk)..<min(n, (k + 1) * chunk) }
        scaledV = columnScale == nil ? [] : [Double](repeating: 0, count: n)
        scaledU = rowScale == nil ? [] : [Double](repeating: 0, count: m)
        // Distinct buffers (not one shared copy-on-write array): each worker writes its own.
        partials = columns == nil ? (0..<scatterWorkers).map { _ in [Double](repeating: 0, count: n) } : []
        reduced = fusesSteps ? [Double](repeating: 0, count: n) : []
    }

    /// The CSC copy pays for wide matrices (n > m) when Aᵀ·u runs on several workers: the scatter's
    /// random writes then land in n-vectors larger than the m-vector the gather reads (table above).
    static func gatherPays(_ matrix: CSRMatrix) -> Bool {
        Parallelism.workers(forWork: matrix.nnz) > 1 && matrix.columnCount > matrix.rowCount
    }

    /// u ← Ā·v − α·u in one pass; returns ‖u‖². `u` has length `rowCount`, `v` length n.
    func applyUpdating(_ v: [Double], alpha: Double, into u: inout [Double]) -> Double {
        let t = columnScaled(v)
        let rs = rowScale
        let ranges = rowRanges
        let total = forEachRowRange(t, &u) { k, off, idx, val, tp, out in
            var ss = 0.0
            Self.updateRows(ranges[k], off, idx, val, tp, rowScale: rs, alpha: alpha, u: out, adding: &ss)
            return ss
        }
        return total + updateDampingBlock(t, alpha: alpha, u: &u)
    }

    /// `body(k, off, idx, val, t, u)` for each row range `rowRanges[k]` on its own worker, with A's rows, t and
    /// u as pointers; returns the sum of what the ranges returned, added in range order.
    private func forEachRowRange(_ t: [Double], _ u: inout [Double],
                                 _ body: (Int, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Double>,
                                          UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Double) -> Double {
        var sums = [Double](repeating: 0, count: rowRanges.count)
        rows.offsets.withUnsafeBufferPointer { off in
            rows.indices.withUnsafeBufferPointer { idx in
                rows.values.withUnsafeBufferPointer { val in
                    t.withUnsafeBufferPointer { tp in
                        u.withUnsafeMutableBufferPointer { up in
                            sums.withUnsafeMutableBufferPointer { sp in
                                let out = up, partial = sp, ranges = rowRanges
                                Parallelism.run(ranges.count) { k in partial[k] = body(k, off, idx, val, tp, out) }
                            }
                        }
                    }
                }
            }
        }
        return sums.reduce(0, +)
    }

    /// v ← Āᵀ·u − β·v in one pass (plus the scatter's reduction); returns ‖v‖². `u` has length `rowCount`.
    func applyTransposeUpdating(_ u: [Double], beta: Double, into v: inout [Double]) -> Double {
        let m = matrixRowCount
        // s = W^½·u (top block)
        if let rs = rowScale {
            for i in 0..<m { scaledU[i] = rs[i] * u[i] }
        }
        let s = rowScale == nil ? u : scaledU
        let δ = augmentedDamping
        let c = columnScale
        if let columns {
            // Gather over the CSC columns: vⱼ = cⱼ·(a_jᵀ·s + δ·u′ⱼ) − β·vⱼ.
            var sums = [Double](repeating: 0, count: columnRanges.count)
            columns.offsets.withUnsafeBufferPointer { off in
                columns.indices.withUnsafeBufferPointer { idx in
                    columns.values.withUnsafeBufferPointer { val in
                        s.withUnsafeBufferPointer { sp in
                            u.withUnsafeBufferPointer { up in
                                v.withUnsafeMutableBufferPointer { vp in
                                    sums.withUnsafeMutableBufferPointer { pp in
                                        let out = vp, partial = pp, ranges = columnRanges
                                        Parallelism.run(ranges.count) { k in
                                            var ss = 0.0
                                            Self.inBlocks(ranges[k], off, idx, val, sp) { j, dot in
                                                var g = dot
                                                if δ > 0 { g += δ * up[m + j] }
                                                if let c { g *= c[j] }
                                                let vj = g - beta * out[j]
                                                out[j] = vj
                                                ss += vj * vj
                                            }
                                            partial[k] = ss
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return sums.reduce(0, +)
        }
        // Scatter over the CSR rows into per-worker buffers, then reduce: vⱼ = cⱼ·(Σ_w bufʷⱼ + δ·u′ⱼ) − β·vⱼ.
        let workers = scatterWorkers
        let ranges = workers == 1 ? [0..<m] : rowRanges
        rows.offsets.withUnsafeBufferPointer { off in
            rows.indices.withUnsafeBufferPointer { idx in
                rows.values.withUnsafeBufferPointer { val in
                    s.withUnsafeBufferPointer { sp in
                        partials.withUnsafeMutableBufferPointer { buffers in
                            let slots = buffers
                            Parallelism.run(workers) { k in
                                slots[k].withUnsafeMutableBufferPointer { acc in
                                    acc.update(repeating: 0)
                                    guard let base = acc.baseAddress else { return }
                                    LineGather.scatter(ranges[k], off, idx, val, sp, into: base)
                                }
                            }
                        }
                    }
                }
            }
        }
        return v.withUnsafeMutableBufferPointer { vp in
            reduceScatter(scale: 1, beta: beta, u: u, from: UnsafeBufferPointer(vp), into: vp)
        }
    }

    /// outⱼ = (Āᵀ·[u; u′])ⱼ − β·vⱼ for every column, Āᵀ·u from the scatter's buffers (`transposeEntry` with
    /// `scale`), on the reduction's column chunks; `out` may be v itself. Returns Σ outⱼ², added chunk by chunk
    /// in order (not finite when an entry is not).
    private func reduceScatter(scale: Double, beta: Double, u: [Double], from v: UnsafeBufferPointer<Double>,
                               into out: UnsafeMutableBufferPointer<Double>) -> Double {
        let workers = scatterWorkers
        let chunks = workers == 1 ? [0..<columnCount] : reductionRanges
        var sums = [Double](repeating: 0, count: chunks.count)
        partials.withUnsafeBufferPointer { buffers in
            u.withUnsafeBufferPointer { up in
                sums.withUnsafeMutableBufferPointer { pp in
                    let partial = pp
                    Parallelism.run(chunks.count) { k in
                        var ss = 0.0
                        for j in chunks[k] {
                            let g = self.transposeEntry(j, buffers: buffers, workers: workers, scale: scale, u: up)
                            let vj = g - beta * v[j]
                            out[j] = vj
                            ss += vj * vj
                        }
                        partial[k] = ss
                    }
                }
            }
        }
        return sums.reduce(0, +)
    }


    /// One Golub–Kahan step, `β·u ← Ā·v − α·u` then `v ← Āᵀ·u − β·v` with the new, normalized u,
    /// reading A once instead of twice. Each range of rows is taken in blocks of at most
    /// `fusedBlockEntries` entries (or one longer row): the block's products with v give its uᵢ before
    /// normalisation, then the same rows, still in L1, are scattered with those uᵢ into the range's
    /// buffer. Since Āᵀ·(u/β) = (Āᵀ·u)/β, the reduction divides by β, known only when the pass is over.
    ///
    /// The buffers hold Āᵀ·u at β times the scale of Āᵀ·(u/β). When β is outside [1e-100, 1e100], or a
    /// reduced entry is not finite, Āᵀ·u is taken again from the normalized u by the two-pass form
    /// (`applyTransposeUpdating`); v is written only after that test.
    ///
    /// The pass touches v and a buffer at random at once, where the two-pass form touches one n-vector
    /// at a time, so it pays only while those vectors stay cached (`fusesSteps`). Measured (release,
    /// 2 cores, LSQR to 1e-6 on `SyntheticProblem`s with 20 entries a row, 32 MB last-level cache, three
    /// interleaved runs of three solves each): 200 000 × 100 000 (2.4 MB of vectors) 0.35–0.63 →
    /// 0.30–0.40 s; 500 000 × 250 000 (6 MB) 1.49–1.70 → 0.99–1.41 s; 1 000 000 × 500 000 (12 MB)
    /// 3.0–4.0 → 2.6–6.1 s, slower whenever the host was busy: not fused.
    ///
    /// Leaves u normalized when β > 0, and v untouched when β = 0.
    /// Returns β = ‖Ā·v − α·u‖ and ‖v‖² (0 when β = 0). Only when `fusesSteps`.
    func step(alpha: Double, u: inout [Double], v: inout [Double]) -> (beta: Double, vSumOfSquares: Double) {
        precondition(fusesSteps)
        var total = 0.0
        do {
            // t = C·v ends with this block, before v is written (it may share v's storage).
            let t = columnScaled(v)
            let rs = rowScale
            let products = partials.withUnsafeMutableBufferPointer { buffers in
                let slots = buffers, ranges = rowRanges
                return forEachRowRange(t, &u) { k, off, idx, val, tp, out in
                    let range = ranges[k]
                    // Range k's own buffer for Aᵀ·(W^½·u).
                    return slots[k].withUnsafeMutableBufferPointer { acc in
                        acc.update(repeating: 0)
                        var ss = 0.0
                        var lo = range.lowerBound
                        while lo < range.upperBound {
                            // Rows lo..<hi: at most `fusedBlockEntries` entries, or one row.
                            var hi = lo + 1
                            while hi < range.upperBound && off[hi + 1] - off[lo] <= Self.fusedBlockEntries { hi += 1 }
                            Self.updateRows(lo..<hi, off, idx, val, tp, rowScale: rs, alpha: alpha, u: out, adding: &ss)
                            // The block's rows again, for Aᵀ·(W^½·u): they are in cache now.
                            for i in lo..<hi {
                                let wi = rs.map { $0[i] * out[i] } ?? out[i]
                                if wi == 0 { continue }
                                for q in off[i]..<off[i + 1] { acc[Int(idx[q])] += val[q] * wi }
                            }
                            lo = hi
                        }
                        return ss
                    }
                }
            }
            total = products + updateDampingBlock(t, alpha: alpha, u: &u)
        }
        let beta = normFromSumOfSquares(total, u)
        guard beta > 0 else { return (beta, 0) }
        DenseVector.scale(1 / beta, &u)
        guard beta >= 1e-100 && beta <= 1e100 else {
            return (beta, applyTransposeUpdating(u, beta: beta, into: &v))
        }
        // vⱼ = cⱼ·(Σ_w bufʷⱼ/β + δ·u′ⱼ) − β·vⱼ into `reduced`, which becomes v if every entry is finite.
        let vSumOfSquares = v.withUnsafeBufferPointer { vp in
            reduced.withUnsafeMutableBufferPointer { rp in
                reduceScatter(scale: 1 / beta, beta: beta, u: u, from: vp, into: rp)
            }
        }
        guard vSumOfSquares.isFinite else {
            return (beta, applyTransposeUpdating(u, beta: beta, into: &v))
        }
        swap(&v, &reduced)
        return (beta, vSumOfSquares)
    }

    /// Lines of at most `gatherBlock` at a time through `LineGather` into a block on the stack, then
    /// `body(line, product)` for each line in order. (Consecutive blocks continue the kernel's prefetching:
    /// each call has asked for the entries just past its own.)
    @inline(__always)
    private static func inBlocks(_ lines: Range<Int>, _ off: UnsafeBufferPointer<Int>, _ idx: UnsafeBufferPointer<Int32>,
                                 _ val: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>,
                                 _ body: (Int, Double) -> Void) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: gatherBlock) { block in
            guard let products = block.baseAddress else { return }
            var lo = lines.lowerBound
            while lo < lines.upperBound {
                let hi = min(lines.upperBound, lo + gatherBlock)
                LineGather.lines(lo..<hi, off, idx, val, x, into: products)
                for line in lo..<hi { body(line, products[line - lo]) }
                lo = hi
            }
        }
    }

    /// Lines per `LineGather` call in `inBlocks` (2 KB of products on the stack).
    static let gatherBlock = 256

    /// uᵢ ← √wᵢ·(A·t)ᵢ − α·uᵢ for the rows `rows`, adding each uᵢ² to `ss` in row order.
    @inline(__always)
    private static func updateRows(_ rows: Range<Int>, _ off: UnsafeBufferPointer<Int>, _ idx: UnsafeBufferPointer<Int32>,
                                   _ val: UnsafeBufferPointer<Double>, _ t: UnsafeBufferPointer<Double>,
                                   rowScale rs: [Double]?, alpha: Double, u out: UnsafeMutableBufferPointer<Double>,
                                   adding ss: inout Double) {
        inBlocks(rows, off, idx, val, t) { i, product in
            var s = product
            if let rs { s *= rs[i] }
            let ui = s - alpha * out[i]
            out[i] = ui
            ss += ui * ui
        }
    }

    /// (Āᵀ·[u; u′])ⱼ from the scatter's buffers: cⱼ·(scale·Σ_w bufʷⱼ + δ·u′ⱼ) (`scale` = 1/β when the
    /// buffers hold the products with the unnormalized u).
    @inline(__always)
    private func transposeEntry(_ j: Int, buffers: UnsafeBufferPointer<[Double]>, workers: Int, scale: Double,
                                u: UnsafeBufferPointer<Double>) -> Double {
        var g = 0.0
        for w in 0..<workers { g += buffers[w][j] }
        g *= scale
        if augmentedDamping > 0 { g += augmentedDamping * u[matrixRowCount + j] }
        if let c = columnScale { g *= c[j] }
        return g
    }

    /// t = C·v in `scaledV`, or v itself without column scaling.
    private func columnScaled(_ v: [Double]) -> [Double] {
        guard let c = columnScale else { return v }
        for j in 0..<columnCount { scaledV[j] = c[j] * v[j] }
        return scaledV
    }

    /// The damping block of Ā·v − α·u: u′ ← δ·C·v − α·u′ (t = C·v); returns ‖u′‖² (0 without the block).
    private func updateDampingBlock(_ t: [Double], alpha: Double, u: inout [Double]) -> Double {
        guard augmentedDamping > 0 else { return 0 }
        let m = matrixRowCount, δ = augmentedDamping
        var total = 0.0
        for j in 0..<columnCount {
            let uj = δ * t[j] - alpha * u[m + j]
            u[m + j] = uj
            total += uj * uj
        }
        return total
    }

    /// Ā·v (length `rowCount`).
    func apply(_ v: [Double]) -> [Double] {
        var u = [Double](repeating: 0, count: rowCount)
        _ = applyUpdating(v, alpha: 0, into: &u)
        return u
    }

    /// Āᵀ·u (length n), `u` of length `rowCount`.
    func applyTranspose(_ u: [Double]) -> [Double] {
        var v = [Double](repeating: 0, count: columnCount)
        _ = applyTransposeUpdating(u, beta: 0, into: &v)
        return v
    }

    /// W^½·(A·x) for an x in the original coordinates (no column scaling, no damping block).
    func weightedProduct(_ x: [Double]) -> [Double] {
        var y = rows.gather(x)
        if let s = rowScale { for i in 0..<y.count { y[i] *= s[i] } }
        return y
    }
}

/// ‖x‖₂ from a sum of squares computed in a fused pass, falling back to the scaled two-pass norm
/// when the sum overflowed or may have lost the tiny entries to underflow.
@inline(__always)
func normFromSumOfSquares(_ sumOfSquares: Double, _ x: [Double]) -> Double {
    if sumOfSquares.isFinite && (sumOfSquares == 0 || sumOfSquares > 1e-280) { return sumOfSquares.squareRoot() }
    return DenseVector.norm(x)
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
