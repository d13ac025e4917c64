// LeastSquares/CDSetup: Ã = W^{1/2}·A for coordinate descent — full passes Ãᵀv straight from A's rows, and a pool holding only the columns working sets need.
import CMemoryHints
import SparseTensor
import Synchronization

/// A's rows as coordinate descent reads them in its O(nnz) passes, with √wᵢ (empty when unweighted).
struct CDRows {
    let m: Int
    let n: Int
    let off: UnsafeBufferPointer<Int>
    let idx: UnsafeBufferPointer<Int32>
    let val: UnsafeBufferPointer<Double>
    /// √wᵢ (length m), or empty for unit weights.
    let rootWeights: UnsafeBufferPointer<Double>
    var nnz: Int { off[m] }
}

/// The matrix coordinate descent works on, Ã = W^{1/2}·A, without a column-compressed copy of all of A.
///
/// Coordinate updates read columns; the O(nnz) passes (Ãᵀv for the duality gap, the gap-safe test and
/// the working-set scores) do not need them:
///
/// - **Full passes** read A's rows in place: Ãᵀv = Aᵀ(W^{1/2}v) as a scatter, split over `parts`
///   nnz-balanced row ranges, each part accumulating into its own length-n buffer; the buffers are
///   summed in a fixed order, so the result depends only on the number of parts. A scatter streams v
///   and the rows and updates a buffer that stays in cache; on the seed-shaped benchmark (200k × 100k,
///   nnz 4M, one thread, `LsqBench core`) Aᵀv took 4.9 ms from the rows and 14 ms from a CSC copy, whose
///   reads of v jump around.
/// - **Columns** are copied out when they enter a working set (with the runner-ups of its selection),
///   into a pool (CSC for those columns: rows sorted, √wᵢ applied): one scan of A's column indices per
///   batch of new columns (`copy`). When a copy does not fit the budget, the solver drops the pooled
///   columns that never entered a working set and have x_j = 0 (`compact`); they may be copied again later.
///
/// So the lasso path, whose working sets hold a few percent of the columns, never pays for a full
/// CSR → CSC conversion (the largest cost of a solve before, and 0.8× A's bytes of memory). With ridge
/// or plain least squares every column is in play, and the pool becomes the full CSC copy.
final class CDColumnPool {
    let m: Int
    let n: Int
    /// Row ranges of the parts (fixed for the solve).
    let ranges: [Range<Int>]
    var parts: Int { ranges.count }
    /// Column j lives at `rows[start[j] ..< start[j] + count[j]]` (and `values`); start = −1 until copied
    /// (and count set when it is).
    let start: ScratchBuffer<Int>
    let count: ScratchBuffer<Int32>
    /// The pool (capacity ≥ `used`), rows sorted within each column, values ã_ij = √wᵢ·a_ij.
    private(set) var rows: ScratchBuffer<Int32>
    private(set) var values: ScratchBuffer<Double>
    private(set) var used = 0
    /// Accumulators of parts 1… for the scatter (part 0 writes the output itself).
    let partials: ScratchBuffer<Double>
    /// The rows a sparse scatter reads (`scatter(_:into:minuend:v:)`), each part's within its own row range;
    /// empty when the solve has no sparse scatters (no L1 term).
    let rowList: ScratchBuffer<Int32>
    /// One bit per column: being copied now (a bitmap stays in the first-level cache while a scan tests
    /// it for every nonzero of A; a byte per column did not, and the scan took a quarter longer).
    let copying: ScratchBuffer<UInt64>
    /// The budget, and the bytes of the solve besides the pool (checked with the pool before every growth).
    let budget: MemoryBudget
    let fixedBytes: Double
    /// nnz(A) (the pool never needs more).
    let totalEntries: Int

    /// Pool bytes per nonzero (4-byte row, 8-byte value).
    static let bytesPerEntry = 12.0

    /// Bytes besides the pool, per column, for `parts` parts: `start`, `count`, one accumulator per extra
    /// part, (during `prepare`) two more per part when the parts split the rows, else two more (an
    /// over-count: the outputs, counted by the caller, take the sums), the copy bitmap. A copy's
    /// transient lists or counts are checked when it runs.
    static func fixedBytes(columns n: Int, parts: Int) -> Double {
        let sumParts = parts > 1 && !splitsSetupByRows(columns: n, parts: parts) ? 1 : parts
        let perColumn: Int = 8 + 4 + 8 * (parts - 1) + 16 * sumParts
        return Double(n) * (Double(perColumn) + 0.125)
    }

    /// Whether `prepare` splits A's rows between the parts, each taking both sums into its own buffer
    /// of (‖ã_j‖², ã_jᵀỹ) pairs: while those buffers fit a quarter of the last-level cache.
    static func splitsSetupByRows(columns n: Int, parts: Int) -> Bool {
        Double(parts * 16) * Double(n) <= Double(CacheSize.lastLevelBytes) / 4
    }

    /// Parts for a scatter over nnz entries into n columns: one per worker when the work pays for the
    /// extra O(parts·n) buffers and sums (nnz ≥ 4n, and above `Parallelism.minimumParallelWork`).
    static func parts(nnz: Int, columns n: Int) -> Int {
        nnz < 4 * n ? 1 : Parallelism.workers(forWork: nnz)
    }

    init(_ a: CDRows, parts wanted: Int, sparseScatters: Bool, budget: MemoryBudget, fixedBytes: Double) {
        m = a.m
        n = a.n
        ranges = Parallelism.balancedRanges(offsets: a.off, outerCount: a.m, parts: wanted)
        let parts = ranges.count
        start = ScratchBuffer(repeating: -1, count: a.n)
        count = ScratchBuffer(repeating: 0, count: a.n)
        rows = ScratchBuffer(repeating: 0, count: 0)
        values = ScratchBuffer(repeating: 0.0, count: 0)
        partials = ScratchBuffer(repeating: 0.0, count: (parts - 1) * a.n)
        copying = ScratchBuffer(repeating: 0, count: a.n / 64 + 1)
        rowList = ScratchBuffer(uninitializedCount: sparseScatters ? a.m : 0)
        self.budget = budget
        self.fixedBytes = fixedBytes
        totalEntries = a.nnz
    }

    // MARK: - Full passes

    /// One pass over A: ‖ã_j‖² → `squaredNorms` and ã_jᵀỹ → `dotY`.
    ///
    /// ```
    /// ‖ã_j‖² = Σᵢ wᵢ·a_ij²,    ã_jᵀỹ = Σᵢ √wᵢ·a_ij·ỹᵢ
    /// ```
    /// Each part takes its range of rows and both sums, interleaved in one transient buffer of pairs
    /// (one cache line per touched column: about the cost of one sum alone), and the parts' buffers
    /// are added in part order. That pays while the buffers stay cached (`splitsSetupByRows`): on the
    /// seed-shaped 200k × 100k matrix the pass took 5.5–6.1 ms against 7.0 ms with one sum per worker
    /// (interleaved runs of `LsqBench solve`; in C, with the buffers already mapped, 3.5–3.9 against
    /// 5.9 ms). Beyond that, with several parts, one worker takes each sum over all of A's rows straight
    /// into its output, both reading the same rows at about the same time, which adds the rows in
    /// order as one part does: at 1M × 500k (two 8 MB buffers) 48–78 ms against 82–118 ms split by rows.
    /// So the last bits of the sums can depend on the number of parts and, through the choice, on the
    /// size of the machine's cache.
    /// `splitByRows` overrides that choice (tests take both paths on small matrices).
    func prepare(_ a: CDRows, y: UnsafeBufferPointer<Double>,
                 squaredNorms: UnsafeMutableBufferPointer<Double>, dotY: UnsafeMutableBufferPointer<Double>,
                 splitByRows: Bool? = nil) {
        let weighted = !a.rootWeights.isEmpty
        if parts > 1 && !(splitByRows ?? Self.splitsSetupByRows(columns: n, parts: parts)) {
            squaredNorms.update(repeating: 0)
            dotY.update(repeating: 0)
            Parallelism.run(2) { part in
                var ahead = EntryPrefetcher(a.idx, a.val, from: 0)
                if part == 0 {
                    for i in 0..<a.m {
                        let rw = weighted ? a.rootWeights[i] : 1
                        let w = rw * rw
                        ahead.line(a.off[i]..<a.off[i + 1])
                        for p in a.off[i]..<a.off[i + 1] {
                            let v = a.val[p]
                            squaredNorms[Int(a.idx[p])] += w * v * v
                        }
                    }
                } else {
                    for i in 0..<a.m {
                        let rw = weighted ? a.rootWeights[i] : 1
                        let wy = rw * y[i]
                        ahead.line(a.off[i]..<a.off[i + 1])
                        for p in a.off[i]..<a.off[i + 1] {
                            dotY[Int(a.idx[p])] += wy * a.val[p]
                        }
                    }
                }
            }
            return
        }
        let n = n, ranges = ranges, parts = parts
        // Each part zeroes its own buffer (its pages are first touched by the core that uses them).
        let pairs = ScratchBuffer<Double>(uninitializedCount: parts * 2 * n)
        let acc = pairs.pointer
        Parallelism.run(parts) { part in
            let base = part &* 2 &* n
            UnsafeMutableBufferPointer(rebasing: acc[base..<(base + 2 * n)]).update(repeating: 0)
            var ahead = EntryPrefetcher(a.idx, a.val, from: a.off[ranges[part].lowerBound])
            for i in ranges[part] {
                let rw = weighted ? a.rootWeights[i] : 1
                let w = rw * rw, wy = rw * y[i]
                ahead.line(a.off[i]..<a.off[i + 1])
                for p in a.off[i]..<a.off[i + 1] {
                    let j = Int(a.idx[p])
                    let v = a.val[p]
                    acc[base &+ 2 &* j] += w * v * v
                    acc[base &+ 2 &* j &+ 1] += wy * v
                }
            }
        }
        // Sum the parts in order.
        let chunk = (n + parts - 1) / max(parts, 1)
        Parallelism.run(parts) { part in
            for j in min(n, part * chunk)..<min(n, (part + 1) * chunk) {
                var sq = 0.0, dy = 0.0
                for q in 0..<parts {
                    sq += acc[q &* 2 &* n &+ 2 &* j]
                    dy += acc[q &* 2 &* n &+ 2 &* j &+ 1]
                }
                squaredNorms[j] = sq
                dotY[j] = dy
            }
        }
    }

    /// out_j = (Ãᵀv)_j − shift·x_j for every column j (v of length m): a scatter over A's rows,
    /// part p into its own buffer, the buffers summed in order (see the type's documentation).
    func transposeProduct(_ a: CDRows, _ v: UnsafeMutableBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
                          shift: Double, x: UnsafeMutableBufferPointer<Double>) {
        scatter(a, into: out, minuend: nil, v: UnsafeBufferPointer(v))
        combine(into: out) { j, s in s - shift * x[j] }
    }

    /// out_j = c_j − (Ãᵀu)_j − shift·x_j for every column j, where u = ỹ − r (= Ãx when r = ỹ − Ãx)
    /// and c = Ãᵀỹ: the same vector as `transposeProduct` of r, since Ãᵀr = Ãᵀỹ − Ãᵀ(Ãx), but only
    /// rows with uᵢ ≠ 0 are read — rows that meet a column with x_j ≠ 0. With a sparse x (the lasso)
    /// those are a fraction of A's rows. The saving is less than that fraction: the rows read are
    /// scattered through A, so the hardware prefetcher does not see them coming, and the O(m + n)
    /// parts (the test of every row, clearing and summing the accumulators) remain. On the 1M × 500k
    /// benchmark (9–21 % of the rows read) the scatter took ~10 ms where the full one took ~20 ms.
    /// Prefetching rows i + 8 by hand did not change that (most of them are not read); prefetching the
    /// rows that are read, from a list of them, does (see `scatter`).
    ///
    /// The difference loses the digits of |c_j| that ã_jᵀr does not have: the error is about
    /// ε·(|c_j| + |ã_jᵀÃx|) instead of ε·|ã_j|ᵀ|r|. Fine for ‖ĝ‖∞ and for ranking columns; where the
    /// value enters a sum that cancels (the duality gap's terms x_j·ĝ_j) the caller recomputes it
    /// directly (`CDKernel.fullGradient`).
    func transposeProductByDifference(_ a: CDRows, y: UnsafeBufferPointer<Double>, r: UnsafeMutableBufferPointer<Double>,
                                      dotY c: UnsafeMutableBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
                                      shift: Double, x: UnsafeMutableBufferPointer<Double>) {
        scatter(a, into: out, minuend: y, v: UnsafeBufferPointer(r))
        combine(into: out) { j, s in c[j] - s - shift * x[j] }
    }

    /// Part p of Ãᵀu over its row ranges into its own accumulator (part 0 into `out`), where
    /// u = v, or u = minuend − v when a minuend is given; rows with uᵢ = 0 are skipped.
    ///
    /// With a minuend (the difference of `transposeProductByDifference`) few rows have uᵢ ≠ 0, scattered
    /// through A, and each would be a cache miss the scatter waits for. Their numbers are listed first
    /// (a sequential test), then each row's offsets are prefetched 16 rows ahead and its lines of indices
    /// and values 8 rows ahead (`prefetchRow`). uᵢ is read from the two arrays in the loops themselves:
    /// passed as a closure, it was a call per row that the compiler did not inline through the workers'
    /// closure, a third of the gradient's time on the 1M × 500k benchmark.
    @inline(__always) private func scatter(_ a: CDRows, into out: UnsafeMutableBufferPointer<Double>,
                                           minuend: UnsafeBufferPointer<Double>?, v: UnsafeBufferPointer<Double>) {
        let n = n, ranges = ranges, parts = parts
        let partial = partials.pointer
        let weighted = !a.rootWeights.isEmpty
        let list = rowList.pointer
        // Without a row list (a pool made for a solve with no L1 term) the sparse scatter reads every row instead.
        let sparse = minuend != nil && list.count == m
        let minuend = minuend ?? UnsafeBufferPointer(start: nil, count: 0)
        let differs = !minuend.isEmpty
        Parallelism.run(parts) { part in
            let acc = part == 0 ? out : UnsafeMutableBufferPointer(rebasing: partial[((part - 1) * n)..<(part * n)])
            acc.update(repeating: 0)
            let range = ranges[part]
            var count = range.count
            if sparse {
                count = 0
                for i in range where minuend[i] != v[i] {
                    list[range.lowerBound &+ count] = Int32(truncatingIfNeeded: i)
                    count &+= 1
                }
            }
            var ahead = EntryPrefetcher(a.idx, a.val, from: a.off[range.lowerBound])
            for k in 0..<count {
                let i: Int
                if sparse {
                    let base = range.lowerBound &+ k
                    if k &+ 16 < count, let offsets = a.off.baseAddress { lsq_prefetch_read(offsets + Int(list[base &+ 16])) }
                    if k &+ 8 < count { Self.prefetchRow(a, Int(list[base &+ 8])) }
                    i = Int(list[base])
                } else {
                    i = range.lowerBound &+ k
                }
                let u = differs ? minuend[i] - v[i] : v[i]
                if u == 0 { continue }
                let vi = weighted ? u * a.rootWeights[i] : u
                var p = a.off[i]
                let end = a.off[i + 1]
                if !sparse { ahead.line(p..<end) }
                // Two entries per iteration: a row's columns are distinct, so the updates are independent.
                while p + 1 < end {
                    let j0 = Int(a.idx[p]), j1 = Int(a.idx[p + 1])
                    acc[j0] += a.val[p] * vi
                    acc[j1] += a.val[p + 1] * vi
                    p += 2
                }
                if p < end { acc[Int(a.idx[p])] += a.val[p] * vi }
            }
        }
    }

    /// Prefetches row i's column indices and values: the first and last line of each, and the second line of
    /// the values (a row of ~20 entries spans two lines of indices and three of values; a longer row's middle
    /// follows sequentially, where the hardware prefetcher picks it up).
    @inline(__always) private static func prefetchRow(_ a: CDRows, _ i: Int) {
        guard let idx = a.idx.baseAddress, let val = a.val.baseAddress else { return }
        let start = a.off[i], end = a.off[i + 1]
        guard start < end else { return }
        lsq_prefetch_read(idx + start)
        lsq_prefetch_read(idx + end - 1)
        lsq_prefetch_read(val + start)
        lsq_prefetch_read(val + min(start + 8, end - 1))
        lsq_prefetch_read(val + end - 1)
    }

    /// out_j ← finish(j, Σ_p acc_p[j]), the parts' accumulators added in part order.
    @inline(__always) private func combine(into out: UnsafeMutableBufferPointer<Double>, _ finish: (Int, Double) -> Double) {
        let n = n, parts = parts
        let partial = partials.pointer
        let chunk = (n + parts - 1) / max(parts, 1)
        Parallelism.run(parts) { part in
            for j in min(n, part * chunk)..<min(n, (part + 1) * chunk) {
                var s = out[j]
                for q in 1..<max(parts, 1) { s += partial[(q - 1) &* n &+ j] }
                out[j] = finish(j, s)
            }
        }
    }

    // MARK: - Copying columns out

    /// Whether column j is in the pool.
    @inline(__always) func holds(_ j: Int) -> Bool { start.pointer[j] >= 0 }

    /// Copies the columns `columns` (none of them in the pool yet) into the pool: one scan of A split
    /// over the parts' row ranges, which keeps every column sorted by row.
    ///
    /// A few columns (under 1/8 of them): each part lists the entries it meets (the column's place in
    /// `columns`, the row, the position in A: 16 bytes), then counts its list per column; the counts, in part
    /// order, give every column its place and every part its first slot in each column; then the parts fill
    /// the pool at once, the values fetched by position (independent loads that overlap; read inside the
    /// scan, each missed the cache behind a mispredicted branch and took 2/3 of its time). Many columns (ridge: all): a first scan counts each
    /// part's entries per column (`cs_transpose`'s counting sort), the second scatters them into place.
    ///
    /// - Throws: `.sparse(.exceedsMemoryBudget)` when the pool would outgrow the budget left for it.
    func copy(_ columns: [Int32], from a: CDRows) throws(SolverError) {
        guard !columns.isEmpty else { return }
        let n = n, parts = parts, ranges = ranges
        let starts = start.pointer, counts = count.pointer, mask = copying.pointer
        for column in columns {
            let j = Int(column)
            mask[j &>> 6] |= 1 &<< UInt64(j & 63)
            counts[j] = 0
        }
        defer { for j in columns { mask[Int(j) &>> 6] = 0 } }
        let weighted = !a.rootWeights.isEmpty
        if 8 * columns.count < n {
            // The lists take 16 bytes an entry: checked for four times the average column length first, and
            // counted as they grow (a long column, say an intercept, can hold far more), the scan stopping once
            // they and the pool's growth would not fit what the budget leaves.
            let estimate = 4 * Double(columns.count) * Double(totalEntries) / Double(max(n, 1))
            try reserve(used, scratch: Self.listBytesPerEntry * estimate)
            // The most entries `reserve` below would accept (so that a scan stops only when it would refuse, and
            // the outcome does not depend on when the parts report): list bytes alone while the entries fit the
            // pool's spare capacity, list and pool bytes beside the old buffer once the pool must grow.
            let room = Double(budget.bytes) - fixedBytes - Double(rows.count) * Self.bytesPerEntry
            let withinCapacity = room > 0 ? min(Double(rows.count - used), room / Self.listBytesPerEntry) : 0
            let growing = room > 0 ? (room - Double(used) * Self.bytesPerEntry) / (Self.listBytesPerEntry + Self.bytesPerEntry) : 0
            let listCap = Int(min(max(withinCapacity, growing, 0), Double(Int.max / 2)))
            // While the copy runs, a new column's `count` holds its place k in `columns` (the lists store k).
            for (k, column) in columns.enumerated() { counts[Int(column)] = Int32(truncatingIfNeeded: k) }
            let found = Atomic<Int>(0), stopped = Atomic<Bool>(false)
            let lists = (0..<parts).map { _ in CDCopyList() }
            Parallelism.run(parts) { part in
                var cells: [Int] = [], positions: [Int] = []
                // Room for this part's share of the average-length columns (more grows as it must).
                let expected = Int(min(estimate / 4, Double(listCap))) / parts
                cells.reserveCapacity(expected)
                positions.reserveCapacity(expected)
                var unreported = 0
                let block = ScratchBuffer<Int>(uninitializedCount: Self.scanBlock)
                let lo = a.off[ranges[part].lowerBound], hi = a.off[ranges[part].upperBound]
                var i = ranges[part].lowerBound
                var blockStart = lo
                scan: while blockStart < hi {
                    let blockEnd = min(blockStart + Self.scanBlock, hi)
                    let hits = Self.markedPositions(a.idx, blockStart..<blockEnd, mask, into: block.pointer)
                    for k in 0..<hits {
                        let p = block.pointer[k]
                        while a.off[i + 1] <= p { i += 1 }
                        cells.append(Int(counts[Int(a.idx[p])]) &<< 32 | i)
                        positions.append(p)
                    }
                    unreported += hits
                    if unreported >= 4096 {
                        let total = found.add(unreported, ordering: .relaxed).newValue
                        unreported = 0
                        if total > listCap {
                            stopped.store(true, ordering: .relaxed)
                            break scan
                        }
                    }
                    blockStart = blockEnd
                }
                found.add(unreported, ordering: .relaxed)
                lists[part].cells = cells
                lists[part].positions = positions
            }
            var needed = 0
            for list in lists { needed += list.cells.count }
            // The scan stopped early (its lists are incomplete): refused, with the entries found so far.
            if stopped.load(ordering: .relaxed) {
                let bytes = fixedBytes + Self.listBytesPerEntry * Double(needed) + Double(used + needed) * Self.bytesPerEntry
                try checkBudget(max(bytes, Double(budget.bytes) + 1), entries: "at least \(used + needed)")
            }
            let c = columns.count
            try reserve(used + needed, scratch: Self.listBytesPerEntry * Double(needed) + 8 * Double(c * parts))
            // Each part counts its entries per new column; then every column gets its place in the pool and each
            // part its first slot in every column (parts in order, so rows stay ascending within a column); then
            // the parts write their entries at once (their loads of A's values overlap).
            // Part p's count, then next slot, of column k at p·c + k.
            let tallies = ScratchBuffer(repeating: 0, count: parts * c)
            let tally = tallies.pointer
            Parallelism.run(parts) { part in
                let base = part &* c
                for cell in lists[part].cells { tally[base &+ cell &>> 32] &+= 1 }
            }
            for (k, column) in columns.enumerated() {
                let j = Int(column)
                starts[j] = used
                for part in 0..<parts {
                    let entries = tally[part &* c &+ k]
                    tally[part &* c &+ k] = used
                    used += entries
                }
                counts[j] = Int32(truncatingIfNeeded: used - starts[j])
            }
            let outRows = rows.pointer, outValues = values.pointer
            Parallelism.run(parts) { part in
                let list = lists[part], base = part &* c
                for t in 0..<list.cells.count {
                    let k = list.cells[t] &>> 32, i = list.cells[t] & 0xFFFF_FFFF, p = list.positions[t]
                    let q = tally[base &+ k]
                    tally[base &+ k] = q &+ 1
                    outRows[q] = Int32(truncatingIfNeeded: i)
                    outValues[q] = weighted ? a.val[p] * a.rootWeights[i] : a.val[p]
                }
            }
            return
        }
        // Many columns: count per part, then scatter.
        try reserve(used, scratch: Double(parts * n) * 4)
        let slots = ScratchBuffer(repeating: Int32(0), count: parts * n)
        let slot = slots.pointer
        Parallelism.run(parts) { part in
            let base = part &* n
            for p in a.off[ranges[part].lowerBound]..<a.off[ranges[part].upperBound] {
                let j = Int(a.idx[p])
                if mask[j &>> 6] &>> UInt64(j & 63) & 1 != 0 { slot[base &+ j] &+= 1 }
            }
        }
        var needed = 0
        for column in columns {
            let j = Int(column)
            for q in 0..<parts { counts[j] &+= slot[q &* n &+ j] }
            needed += Int(counts[j])
        }
        try reserve(used + needed, scratch: Double(parts * n) * 4)
        // Column starts, and each part's first slot inside each new column.
        for column in columns {
            let j = Int(column)
            starts[j] = used
            var offset: Int32 = 0
            for q in 0..<parts {
                let c = slot[q &* n &+ j]
                slot[q &* n &+ j] = offset
                offset &+= c
            }
            used += Int(offset)
        }
        let outRows = rows.pointer, outValues = values.pointer
        Parallelism.run(parts) { part in
            let base = part &* n
            for i in ranges[part] {
                let rw = weighted ? a.rootWeights[i] : 1
                for p in a.off[i]..<a.off[i + 1] {
                    let j = Int(a.idx[p])
                    if mask[j &>> 6] &>> UInt64(j & 63) & 1 == 0 { continue }
                    let q = starts[j] &+ Int(slot[base &+ j])
                    slot[base &+ j] &+= 1
                    outRows[q] = Int32(truncatingIfNeeded: i)
                    outValues[q] = a.val[p] * rw
                }
            }
        }
    }

    /// Removes from the pool the columns `drop` selects, moving the others down in pool order (their
    /// rows and values stay sorted), and shrinks the pool's buffers to what is left, so that a later
    /// growth is charged for the kept entries only. Returns the number of columns dropped.
    func compact(dropping drop: (Int) -> Bool) -> Int {
        let starts = start.pointer, counts = count.pointer
        var pooled: [(start: Int, column: Int)] = []
        for j in 0..<n where starts[j] >= 0 { pooled.append((starts[j], j)) }
        pooled.sort { $0.start < $1.start }
        var cursor = 0, dropped = 0
        let outRows = rows.pointer, outValues = values.pointer
        for (from, j) in pooled {
            if drop(j) {
                starts[j] = -1
                dropped += 1
                continue
            }
            let length = Int(counts[j])
            if from != cursor {
                for q in 0..<length {
                    outRows[cursor + q] = outRows[from + q]
                    outValues[cursor + q] = outValues[from + q]
                }
            }
            starts[j] = cursor
            cursor += length
        }
        used = cursor
        // The smaller copies are allocated while the old buffers live: less than the growth they make room for.
        if dropped > 0 { reallocate(capacity: used) }
        return dropped
    }

    /// Bytes a copied entry takes in a copy scan's lists (`CDCopyList`: its cell and its position).
    static let listBytesPerEntry = 16.0

    /// Entries a copy scan tests before it turns the hits into list entries.
    static let scanBlock = 4096

    /// The positions p in `range` whose column idx[p] is marked in `mask`, ascending, into `hits`
    /// (capacity ≥ range.count, all of which may be written); returns their number. A loop with nothing but the test in it: with
    /// the lists' appends inside, the compiler kept the loop's variables on the stack and a scan of the
    /// 1M × 500k benchmark matrix took ~20 ms on two cores.
    @inline(never) static func markedPositions(_ idx: UnsafeBufferPointer<Int32>, _ range: Range<Int>,
                                               _ mask: UnsafeMutableBufferPointer<UInt64>,
                                               into hits: UnsafeMutableBufferPointer<Int>) -> Int {
        var count = 0
        var p = range.lowerBound
        var ahead = p + Int(LSQ_PREFETCH_AHEAD)
        while p < range.upperBound {
            // The mask's random reads miss L1; the indices are asked for ahead (see `EntryPrefetcher`).
            let stop = min(p + 64, range.upperBound)
            ahead = lsq_prefetch_indices(idx.baseAddress, ahead, stop + Int(LSQ_PREFETCH_AHEAD))
            while p < stop {
                // Without a branch (a few percent of the entries are marked, at random): every p is written
                // at the next free place, and kept by counting it when its bit is set.
                let j = Int(idx[p])
                hits[count] = p
                count &+= Int(truncatingIfNeeded: mask[j &>> 6] &>> UInt64(j & 63) & 1)
                p &+= 1
            }
        }
        return count
    }

    /// The pool's budget check: the work vectors and `entries` nonzeros of working-set columns in `bytes`.
    private func checkBudget(_ bytes: Double, entries: String) throws(SolverError) {
        do {
            try budget.check(bytes, for: "coordinate descent (work vectors and \(entries) nonzeros of working-set columns)",
                             detail: "a larger λ₁ gives smaller working sets")
        } catch {
            throw .sparse(error)
        }
    }

    /// Grows the pool to hold `entries` nonzeros (at least doubling, at most the matrix's nnz), after
    /// checking the work vectors, the new and the old buffer (both live during the copy) and the copy's
    /// `scratch` bytes against the budget.
    private func reserve(_ entries: Int, scratch: Double) throws(SolverError) {
        let old = Double(rows.count) * Self.bytesPerEntry
        var capacity = entries > rows.count ? min(max(entries, 2 * rows.count), totalEntries) : rows.count
        let extra = fixedBytes + scratch + (entries > rows.count ? old : 0)
        if extra + Double(capacity) * Self.bytesPerEntry > Double(budget.bytes) { capacity = max(entries, rows.count) }
        try checkBudget(extra + Double(capacity) * Self.bytesPerEntry, entries: "\(entries)")
        guard capacity > rows.count else { return }
        reallocate(capacity: capacity)
    }

    /// New buffers of `capacity` entries (≥ `used`) holding the pool's entries.
    private func reallocate(capacity: Int) {
        let newRows = ScratchBuffer<Int32>(uninitializedCount: capacity)
        let newValues = ScratchBuffer<Double>(uninitializedCount: capacity)
        _ = newRows.pointer.update(fromContentsOf: rows.pointer[0..<used])
        _ = newValues.pointer.update(fromContentsOf: values.pointer[0..<used])
        rows = newRows
        values = newValues
    }
}

/// One part's finds in a copy scan: (k << 32 | row), k the column's place in the copy's list of columns,
/// and the position in A, in row order.
final class CDCopyList {
    var cells: [Int] = []
    var positions: [Int] = []
}

