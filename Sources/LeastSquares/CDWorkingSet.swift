// LeastSquares/CDWorkingSet: gap-safe screening (Ndiaye et al. 2017) and working-set selection (Massias et al. 2018) for lasso CD, in one pass.
import SparseTensor

/// What one working-set refresh saw (`CDKernel.refreshWorkingSet`).
struct CDRefresh {
    /// Columns the gap-safe test removed now.
    var screened = 0
    /// Whether a removed column had x_j ≠ 0 (r was corrected).
    var changedX = false
    /// In-play zero columns violating their KKT condition outside the previous working set.
    var violatorsOutside = 0
    /// Columns still in play.
    var inPlay = 0
    /// KKT violators beyond the cap on those a working set takes, left for the next round.
    var violatorsBeyondCap = 0
    /// KKT violators (zero columns with |ĝ_j| > λ₁) the new working set left out although it had room
    /// for them: always 0, since they carry the smallest keys (tests check it).
    var violatorsLeftOut = 0
}

extension CDKernel {
    /// Gap-safe screening and the next working set, in one pass over the columns (`grad` must hold ĝ).
    ///
    /// **Screening.** With θ = s·r̂ feasible and gap G = P(x) − D(θ), the dual optimum θ* lies in the
    /// ball B(θ, √(2G)), because D is 1-strongly concave (Fercoq, Gramfort & Salmon 2015, Thm. 2;
    /// Ndiaye, Fercoq, Gramfort & Salmon 2017, JMLR 18). Since x*_j ≠ 0 forces |â_jᵀθ*| = λ₁,
    ///
    /// ```
    /// |â_jᵀθ| + √(2G)·‖â_j‖ < λ₁   ⇒   x*_j = 0,    â_jᵀθ = s·ĝ_j,   ‖â_j‖² = ‖ã_j‖² + λ₂
    /// ```
    /// tested without a square root as u_j = λ₁ − s|ĝ_j| > 0 and 2G·‖â_j‖² < u_j². Screened columns
    /// get x_j = 0 (r is corrected if x_j was nonzero) and are never visited again.
    ///
    /// **Working set.** Every in-play column with x_j ≠ 0, then the in-play zero columns closest to
    /// violating their dual constraint, max(`minimumSize`, 2·nnz(x), nnz(x) + V) columns in all, sorted
    /// by index, where V is the number of KKT violators, at most max(n/32, 2·nnz(x)). The cap matters
    /// at small λ₁, where far more columns violate at x = 0 than end in the support: on the 200k × 100k
    /// benchmark at λ₁ = 0.01·λmax, 52k violators for a support of 1.9k. Taking them all made the first
    /// subproblem half of A (0.10 s, slower than sklearn's 0.074 s); capped at n/32, the solve takes the
    /// same 3 outer iterations in 0.04–0.05 s (n/8: 0.06 s; at λ₁ = 0.02·λmax 0.06 → 0.04 s). Above
    /// λ₁ ≈ 0.05·λmax the violators are fewer than n/32 there, and all are taken. The key is the distance of r̂ to the constraint's boundary,
    /// d_j = (λ₁ − |ĝ_j|)/‖â_j‖ (Massias, Gramfort & Salmon 2018, "Celer", eq. 10, at θ = r̂), negative
    /// for violated constraints, which are therefore taken first; ranked by sign(d_j)·d_j² (same
    /// order, no square root). Celer measures from the feasible θ = s·r̂, where no d_j is negative: with
    /// the keys from s·r̂, the benchmark's first working set (1M × 500k, λ₁ = 0.1·λmax, s = 0.1) held
    /// 2.3k of the 5.85k violators, ranked mostly by column norm, and the solve took 5 outer iterations
    /// and 4 copy scans; from r̂ it holds all of them (97.7 % of the final support) and takes 3 and 2.
    /// Selection is O(n) on average (quickselect).
    ///
    /// **Runner-ups** (`runnerUps`): the candidates ranked next, as many as were chosen and at most n/16,
    /// which the caller copies into the pool in the same scan (`extendSaturatedWorkingSet` may take them
    /// in later). When every violator is in the pool already, only pooled columns are candidates: the
    /// set is then filled without a scan of A, and can be smaller than the size above.
    mutating func refreshWorkingSet(scale s: Double, gap: Double, minimumSize: Int) -> CDRefresh {
        var result = CDRefresh()
        let screening = l1 > 0 && gap.isFinite
        let radiusSq = 2 * max(gap, 0)
        // Support at the front of `ws`, candidates from the back.
        var support = 0, back = n, violators = 0, unpooledViolators = 0
        for j in 0..<n {
            var flags = status[j]
            if flags & CDColumn.inactive != 0 { continue }
            let wasIn = flags & CDColumn.inWorkingSet != 0
            flags &= ~CDColumn.inWorkingSet
            let g = abs(grad[j]), xj = x[j]
            if xj == 0 && g > l1 && !wasIn { result.violatorsOutside += 1 }
            let u = l1 - s * g
            let normSq = colSq[j] + l2
            if screening && u > 0 && radiusSq * normSq < u * u {
                if xj != 0 {
                    // r ← r + x_j·ã_j, x_j ← 0
                    for p in entries(j) { r[Int(idx[p])] += xj * val[p] }
                    x[j] = 0
                    result.changedX = true
                }
                status[j] = flags | CDColumn.screened
                result.screened += 1
                continue
            }
            status[j] = flags
            result.inPlay += 1
            if xj != 0 {
                ws[support] = Int32(truncatingIfNeeded: j)
                support += 1
            } else {
                // The key measures the distance from θ = r̂ itself, not from the rescaled s·r̂: s·|ĝ_j| ≤ λ₁ for
                // every column, so with s no key is negative while there are violators to take first.
                let v = l1 - g
                back -= 1
                ws[back] = Int32(truncatingIfNeeded: j)
                score[back] = (v < 0 ? -v : v) * v / normSq
                if v < 0 {
                    violators += 1
                    if !pool.holds(j) { unpooledViolators += 1 }
                }
            }
        }
        // When every violator is in the pool already, the rest of the set is filled from the pool too:
        // a column copied only to be near the boundary is not worth a scan of A.
        if unpooledViolators == 0 && pool.used > 0 {
            var kept = n
            for t in stride(from: n - 1, through: back, by: -1) where pool.holds(Int(ws[t])) {
                kept -= 1
                ws[kept] = ws[t]
                score[kept] = score[t]
            }
            back = kept
        }
        let candidates = n - back
        let taken = min(violators, max(n / 32, 2 * support))
        result.violatorsBeyondCap = violators - taken
        let size = max(minimumSize, 2 * support, support + taken)
        let wanted = min(max(size, support), support + candidates)
        // The runner-ups: as many more candidates as were chosen, at most n/16 (so on average at most
        // nnz/16 entries more to copy).
        let chosen = wanted - support
        let extra = takesRunnerUps ? min(chosen, n / 16, candidates - chosen) : 0
        if chosen + extra > 0, chosen + extra < candidates {
            Self.selectSmallest(score, ws, from: back, to: n, count: chosen + extra)
        }
        if chosen > 0, extra > 0 {
            Self.selectSmallest(score, ws, from: back, to: back + chosen + extra, count: chosen)
        }
        runnerUps = Array(ws[(back + chosen)..<(back + chosen + extra)])
        // The chosen candidates follow the support (a forward copy: the destination is never ahead, and
        // never reaches the runner-ups).
        var violatorsTaken = 0
        for t in 0..<chosen {
            ws[support + t] = ws[back + t]
            if score[back + t] < 0 { violatorsTaken += 1 }
        }
        result.violatorsLeftOut = min(violators, chosen) - violatorsTaken
        wsCount = wanted
        var slice = UnsafeMutableBufferPointer(rebasing: ws[0..<wsCount])
        slice.sort()
        for k in 0..<wsCount { status[Int(ws[k])] |= CDColumn.inWorkingSet | CDColumn.everInWorkingSet }
        return result
    }

    /// Grows a saturated working set with the runner-ups of its selection, before a gradient pass is
    /// paid for: when the subproblem's support fills more than half the set, the set was too small —
    /// Celer's next one would hold 2·nnz(x) columns — and the nearest columns outside it are the ones
    /// its own refresh ranked next. Adds those of them in the pool (the refresh's copy scan took them
    /// along), in index order. Returns the number added.
    mutating func extendSaturatedWorkingSet() -> Int {
        guard !runnerUps.isEmpty else { return 0 }
        var support = 0
        for k in 0..<wsCount where x[Int(ws[k])] != 0 { support += 1 }
        guard 2 * support > wsCount else { return 0 }
        var added = 0
        // Runner-ups are candidates the refresh did not choose (so in play, outside the set); a copy that did not
        // fit may have left some out of the pool.
        for j in runnerUps where pool.holds(Int(j)) {
            ws[wsCount + added] = j
            status[Int(j)] |= CDColumn.inWorkingSet | CDColumn.everInWorkingSet
            added += 1
        }
        runnerUps = []
        wsCount += added
        var slice = UnsafeMutableBufferPointer(rebasing: ws[0..<wsCount])
        slice.sort()
        return added
    }

    /// Every in-play column, in index order (the working set of ridge / least squares).
    mutating func workingSetOfAllColumns() {
        wsCount = 0
        for j in 0..<n where status[j] & CDColumn.inactive == 0 {
            ws[wsCount] = Int32(truncatingIfNeeded: j)
            status[j] |= CDColumn.inWorkingSet | CDColumn.everInWorkingSet
            wsCount += 1
        }
    }

    /// Reorders `items[lo..<hi]`, with their keys `keys[lo..<hi]` moved alongside, so that the first
    /// `count` entries have the smallest keys (Hoare's FIND with median-of-three pivots; O(hi − lo) on
    /// average). The working set passes `ws` and `score`: each candidate's key sits at the candidate's
    /// position, not at its column's index, so every partition pass reads both arrays in order.
    static func selectSmallest(_ keys: UnsafeMutableBufferPointer<Double>, _ items: UnsafeMutableBufferPointer<Int32>,
                               from lo: Int, to hi: Int, count: Int) {
        let target = lo + count - 1
        var left = lo, right = hi - 1
        while right > left {
            let mid = left + (right - left) / 2
            let a = keys[left], b = keys[mid], c = keys[right]
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = left, j = right
            while i <= j {
                while keys[i] < pivot { i += 1 }
                while keys[j] > pivot { j -= 1 }
                if i <= j {
                    items.swapAt(i, j)
                    keys.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // keys[left...j] ≤ pivot ≤ keys[i...right]; entries strictly between equal the pivot.
            if target <= j { right = j } else if target >= i { left = i } else { return }
        }
    }

    /// Fisher–Yates shuffle of the working set (seeded: same seed, same order).
    func shuffleWorkingSet(_ rng: inout SplitMix64) {
        var k = wsCount
        while k > 1 {
            let pick = Int(rng.next() % UInt64(k))
            k -= 1
            ws.swapAt(k, pick)
        }
    }
}
