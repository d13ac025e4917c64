// LeastSquares/CDWorkingSet: gap-safe screening (Ndiaye et al. 2017) and working-set selection (Massias et al. 2018) for lasso CD.
import SparseTensor

extension CDKernel {
    /// Gap-safe sphere test: discards every column that cannot be active at the optimum.
    ///
    /// With θ = s·r̂ feasible and gap G = P(x) − D(θ), the dual optimum θ* lies in the ball
    /// B(θ, √(2G)), because D is 1-strongly concave (Fercoq, Gramfort & Salmon 2015, Thm. 2;
    /// Ndiaye, Fercoq, Gramfort & Salmon 2017, JMLR 18). Since x*_j ≠ 0 forces |â_jᵀθ*| = λ₁,
    ///
    /// ```
    /// |â_jᵀθ| + √(2G)·‖â_j‖ < λ₁   ⇒   x*_j = 0,    â_jᵀθ = s·ĝ_j,   ‖â_j‖ = √(‖ã_j‖² + λ₂)
    /// ```
    /// Screened columns get x_j = 0 (r is corrected if x_j was nonzero) and are never visited
    /// again. `grad` must hold ĝ for the in-play columns. Returns (newly screened, whether x changed).
    mutating func screen(scale s: Double, gap: Double) -> (screened: Int, changedX: Bool) {
        guard l1 > 0, gap.isFinite else { return (0, false) }
        let radius = (2 * max(gap, 0)).squareRoot()
        var count = 0
        var changed = false
        for j in 0..<n where status[j] & CDColumn.inactive == 0 {
            if s * abs(grad[j]) + radius * (colSq[j] + l2).squareRoot() < l1 {
                let xj = x[j]
                if xj != 0 {
                    // r ← r + x_j·ã_j, x_j ← 0
                    for p in entries(j) { r[Int(idx[p])] += xj * val[p] }
                    x[j] = 0
                    changed = true
                }
                status[j] |= CDColumn.screened
                count += 1
            }
        }
        return (count, changed)
    }

    /// Builds the working set: every in-play column with x_j ≠ 0, then the in-play zero columns
    /// closest to violating their dual constraint, up to `size` columns in all, sorted by index.
    ///
    /// The key is the distance of θ to the constraint's boundary, d_j = (λ₁ − s|ĝ_j|)/‖â_j‖
    /// (Massias, Gramfort & Salmon 2018, "Celer", eq. 10); negative for violated constraints,
    /// which are therefore taken first. Selection is O(n) on average (quickselect).
    mutating func buildWorkingSet(size: Int, scale s: Double) {
        for k in 0..<wsCount { status[Int(ws[k])] &= ~CDColumn.inWorkingSet }
        var support = 0
        for j in 0..<n where status[j] & CDColumn.inactive == 0 && x[j] != 0 {
            ws[support] = Int32(truncatingIfNeeded: j)
            support += 1
        }
        var candidates = support
        for j in 0..<n where status[j] & CDColumn.inactive == 0 && x[j] == 0 {
            ws[candidates] = Int32(truncatingIfNeeded: j)
            score[j] = (l1 - s * abs(grad[j])) / (colSq[j] + l2).squareRoot()
            candidates += 1
        }
        let wanted = min(max(size, support), candidates)
        if wanted > support, wanted < candidates {
            selectSmallest(from: support, to: candidates, count: wanted - support)
        }
        wsCount = wanted
        var slice = UnsafeMutableBufferPointer(rebasing: ws[0..<wsCount])
        slice.sort()
        for k in 0..<wsCount { status[Int(ws[k])] |= CDColumn.inWorkingSet | CDColumn.everInWorkingSet }
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

    /// Reorders `ws[lo..<hi]` so that its first `count` entries have the smallest `score` (Hoare's
    /// FIND with median-of-three pivots; O(hi − lo) on average).
    func selectSmallest(from lo: Int, to hi: Int, count: Int) {
        let target = lo + count - 1
        var left = lo, right = hi - 1
        while right > left {
            let mid = left + (right - left) / 2
            let a = score[Int(ws[left])], b = score[Int(ws[mid])], c = score[Int(ws[right])]
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = left, j = right
            while i <= j {
                while score[Int(ws[i])] < pivot { i += 1 }
                while score[Int(ws[j])] > pivot { j -= 1 }
                if i <= j {
                    ws.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // ws[left...j] ≤ pivot ≤ ws[i...right]; entries strictly between equal the pivot.
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

    /// In-play zero columns violating the KKT condition |ĝ_j| ≤ λ₁ (`grad` must be current), all of
    /// them or only those outside the current working set.
    func violatorCount(outsideWorkingSet: Bool = false) -> Int {
        let skip = CDColumn.inactive | (outsideWorkingSet ? CDColumn.inWorkingSet : 0)
        var c = 0
        for j in 0..<n where status[j] & skip == 0 && x[j] == 0 && abs(grad[j]) > l1 { c += 1 }
        return c
    }

    /// Number of in-play columns.
    func inPlayCount() -> Int {
        var c = 0
        for j in 0..<n where status[j] & CDColumn.inactive == 0 { c += 1 }
        return c
    }

    /// Nonzeros of x.
    func supportSize() -> Int {
        var c = 0
        for j in 0..<n where x[j] != 0 { c += 1 }
        return c
    }
}
