// SparseTensor/SparseProduct: C = A·B, A·Aᵀ, AᵀA — estimated, checked against the budget, then computed.

/// Which product to form from A (and B).
public enum ProductKind: String, Sendable, Codable, CaseIterable {
    /// C = A·Aᵀ (m × m, symmetric).
    case aat
    /// C = AᵀA (n × n, symmetric).
    case ata
    /// C = A·B.
    case ab
}

/// Which implementation multiplies.
public enum ProductEngine: String, Sendable, Codable, CaseIterable {
    /// lsq's own row-parallel Gustavson kernels (both cores). A·Aᵀ and AᵀA multiply only the upper triangle,
    /// mirrored in place when the full product is asked for (`SymmetricProductKernel`).
    case native
    /// SuiteSparse CHOLMOD (`cholmod_l_aat`, `cholmod_l_ssmult`), single-threaded.
    case cholmod
}

/// Options of a sparse × sparse product.
public struct ProductOptions: Sendable, Equatable {
    /// Refuse before allocating when the estimated result would not fit. Default: `MemoryBudget.default`.
    public var budget: MemoryBudget = .default
    /// For the symmetric products A·Aᵀ and AᵀA: keep only the upper triangle (j ≥ i), which halves work and output.
    public var upperTriangleOnly: Bool = false
    /// Drop entries with |c_ij| ≤ dropTolerance from the result (0: keep everything, including cancellations).
    public var dropTolerance: Double = 0
    /// Implementation. Default `.native`: measured faster than CHOLMOD on both cores (BENCHMARKS.md).
    public var engine: ProductEngine = .native
    /// Rows sampled by the nnz estimate (all rows when the result has fewer).
    public var estimateSampleRows: Int = 2000
    /// Seed of the row sample.
    public var seed: UInt64 = 0x5EED
    /// Set it to stop the native kernels within a block of rows (`SparseError.cancelled`). CHOLMOD cannot be
    /// interrupted: it is checked only before and after the call.
    public var cancellation: CancellationFlag? = nil

    public init(budget: MemoryBudget = .default, upperTriangleOnly: Bool = false, dropTolerance: Double = 0,
                engine: ProductEngine = .native) {
        self.budget = budget
        self.upperTriangleOnly = upperTriangleOnly
        self.dropTolerance = dropTolerance
        self.engine = engine
    }
}

/// A forecast of a product's size, made before anything of its size is allocated.
public struct ProductEstimate: Sendable, Equatable, Codable {
    public var rowCount: Int
    public var columnCount: Int
    /// Estimated stored nonzeros of C (of its upper triangle when only that is kept).
    public var nnz: Double
    /// Exact multiply-adds Σₖ nnz(A:,k)·nnz(Bₖ,:) (halved, about, for a triangle).
    public var flops: Double
    /// A cheap upper bound on nnz(C): min(flops, rows·columns).
    public var upperBound: Double
    /// Rows whose exact nnz was counted; equal to `rowCount` when the estimate is exact.
    public var sampledRows: Int
    public var isExact: Bool { sampledRows == rowCount }
    /// Bytes of C in lsq's CSR (8-byte offsets, 4-byte indices, 8-byte values).
    public var bytes: Double { StorageBytes.compressed(outer: rowCount, nnz: nnz) }
    /// Bytes of C with 64-bit indices (CHOLMOD's and scipy's int64 CSR), as most tools would hold it.
    public var bytes64: Double { StorageBytes.cholmod(outer: rowCount, nnz: nnz) }

    public var summary: String {
        let pct = isExact ? "exact" : "estimated from \(sampledRows) sampled rows"
        return String(format: "%d × %d, nnz ≈ %.3g (%@), %@ as CSR (%@ with 64-bit indices), %.3g multiply-adds",
                      rowCount, columnCount, nnz, pct, ByteCount.format(bytes), ByteCount.format(bytes64), flops)
    }
}

extension CSRMatrix {
    /// The most memory forming the estimated product takes, checked against the budget before it starts:
    /// - native: C's CSR bytes;
    /// - CHOLMOD: its copies of the operands (A, and B for A·B, with 8-byte indices), its C (16 bytes an
    ///   entry) and lsq's copy of C (12), both of the *full* symmetric product even when only a triangle is
    ///   kept — `cholmod_l_aat` forms both triangles, about twice the triangle's entries.
    /// Refuses the product when `productPeakBytes` exceeds `options.budget`, with the estimate's figures.
    package func checkProductBudget(_ estimate: ProductEstimate, _ kind: ProductKind, with b: CSRMatrix?,
                                    options: ProductOptions) throws(SparseError) {
        try options.budget.check(productPeakBytes(estimate, kind, with: b, options: options), for: "The product \(kind.label)",
                                 detail: estimate.summary)
    }

    package func productPeakBytes(_ estimate: ProductEstimate, _ kind: ProductKind, with b: CSRMatrix?,
                                  options: ProductOptions) -> Double {
        guard options.engine == .cholmod else { return estimate.bytes }
        let entries = options.upperTriangleOnly && kind != .ab ? 2 * estimate.nnz : estimate.nnz
        var operands = StorageBytes.cholmod(outer: kind == .aat ? columnCount : rowCount, nnz: Double(nnz))
        if kind == .ab, let b { operands += StorageBytes.cholmod(outer: b.rowCount, nnz: Double(b.nnz)) }
        return operands + StorageBytes.cholmod(outer: estimate.rowCount, nnz: entries)
            + StorageBytes.compressed(outer: estimate.rowCount, nnz: entries)
    }

    /// Checks shapes and returns the left and right CSR operands (L, R) with C = L·R.
    package func productOperands(_ kind: ProductKind, with b: CSRMatrix?) throws(SparseError) -> (CompressedStorage, CompressedStorage) {
        switch kind {
        case .aat: return (storage, storage.transposed())
        case .ata: return (storage.transposed(), storage)
        case .ab:
            guard let b else { throw .dimensionMismatch(operation: "A·B", expected: "a second matrix B", got: "none") }
            guard b.rowCount == columnCount else {
                throw .dimensionMismatch(operation: "A·B", expected: "B with \(columnCount) rows (A is \(rowCount) × \(columnCount))",
                                         got: "B of \(b.rowCount) × \(b.columnCount)")
            }
            return (storage, b.storage)
        }
    }

    /// Estimates nnz, bytes and flops of the product without forming it.
    ///
    /// flops are exact: Σₖ nnz(L:,k)·nnz(Rₖ,:), from column counts in O(nnz). nnz(C) is counted exactly
    /// on a seeded uniform sample of rows of C (a marker array over C's columns) and scaled by
    /// rows / sample — within a few percent on matrices whose rows are alike, exact when every row is sampled —
    /// and capped by the bound min(flops, rows·columns).
    public func estimateProduct(_ kind: ProductKind, with b: CSRMatrix? = nil,
                                options: ProductOptions = ProductOptions()) throws(SparseError) -> ProductEstimate {
        let (l, r) = try productOperands(kind, with: b)
        return ProductPlanner.estimate(l, r, upper: options.upperTriangleOnly && kind != .ab, options: options)
    }

    /// Forms the product, refusing first (with the estimate's figures) when it would exceed `options.budget`.
    ///
    /// - Returns: C in canonical CSR (sorted, no duplicates). With `upperTriangleOnly`, only entries j ≥ i.
    /// - Throws: `cancelled` when `options.cancellation` was set meanwhile;
    ///   `dimensionMismatch` for `ab` with incompatible shapes; `exceedsMemoryBudget` with the estimated
    ///   nnz and bytes; `suiteSparse` when CHOLMOD fails.
    public func product(_ kind: ProductKind, with b: CSRMatrix? = nil,
                        options: ProductOptions = ProductOptions()) throws(SparseError) -> CSRMatrix {
        try productWithEstimate(kind, with: b, options: options).product
    }

    /// `product(_:with:options:)` that also returns the estimate it checked the budget with, so a caller that
    /// reports both (the CLI) transposes A and samples rows once, not twice.
    public func productWithEstimate(_ kind: ProductKind, with b: CSRMatrix? = nil, options: ProductOptions = ProductOptions())
        throws(SparseError) -> (product: CSRMatrix, estimate: ProductEstimate) {
        let upper = options.upperTriangleOnly && kind != .ab
        if options.upperTriangleOnly, kind == .ab {
            throw .dimensionMismatch(operation: "A·B upper triangle", expected: "a symmetric product (--aat or --ata)", got: "A·B")
        }
        let (l, r) = try productOperands(kind, with: b)
        let estimate = ProductPlanner.estimate(l, r, upper: upper, options: options)
        try checkProductBudget(estimate, kind, with: b, options: options)
        var c: CompressedStorage
        switch options.engine {
        case .native:
            if kind == .ab {
                c = try ProductKernel.multiply(l, r, budget: options.budget, label: kind.label,
                                               cancellation: options.cancellation)
            } else {
                c = try SymmetricProductKernel.multiply(l, r, full: !upper, budget: options.budget, label: kind.label,
                                                        cancellation: options.cancellation)
            }
        case .cholmod:
            if options.cancellation?.isCancelled == true { throw .cancelled(operation: "The product \(kind.label)") }
            c = try CholmodProduct.multiply(kind: kind, left: l, right: r, a: storage, b: b?.storage, upper: upper)
            if options.cancellation?.isCancelled == true { throw .cancelled(operation: "The product \(kind.label)") }
        }
        if options.dropTolerance > 0 { c = c.dropping(tolerance: options.dropTolerance) }
        try c.checkFinite(rowMajor: true)
        return (CSRMatrix(storage: c), estimate)
    }
}

extension ProductKind {
    public var label: String {
        switch self {
        case .aat: return "A·Aᵀ"
        case .ata: return "AᵀA"
        case .ab: return "A·B"
        }
    }
}

/// Size forecasts for C = L·R (both CSR storages).
package enum ProductPlanner {
    package static func estimate(_ l: CompressedStorage, _ r: CompressedStorage, upper: Bool,
                                 options: ProductOptions) -> ProductEstimate {
        let m = l.outerCount, p = r.innerCount
        // Exact flops: Σ_k nnz(L:,k)·nnz(R_k,:).
        let leftColumnCounts = l.innerCounts()
        var flops = 0.0
        for k in 0..<l.innerCount { flops += Double(leftColumnCounts[k]) * Double(r.offsets[k + 1] - r.offsets[k]) }
        if upper { flops = flops / 2 + Double(min(m, p)) }
        var bound = min(flops, Double(m) * Double(p))
        if upper { bound = min(bound, Double(m) * Double(m + 1) / 2) }
        guard m > 0, p > 0 else {
            return ProductEstimate(rowCount: m, columnCount: p, nnz: 0, flops: flops, upperBound: 0, sampledRows: m)
        }
        // Exact nnz of a uniform sample of rows (all rows when m ≤ sample size).
        let sampleCount = min(m, max(1, options.estimateSampleRows))
        var rows: [Int]
        if sampleCount == m {
            rows = Array(0..<m)
        } else {
            var rng = SplitMix64(seed: options.seed)
            var picked = Set<Int>()
            while picked.count < sampleCount { picked.insert(Int(rng.next() % UInt64(m))) }
            rows = Array(picked)
        }
        var marker = [Int](repeating: -1, count: p)
        var counted = 0.0
        for i in rows {
            var count = 0
            for q in l.offsets[i]..<l.offsets[i + 1] {
                let k = Int(l.indices[q])
                for s in r.offsets[k]..<r.offsets[k + 1] {
                    let j = Int(r.indices[s])
                    if upper && j < i { continue }
                    if marker[j] != i { marker[j] = i; count += 1 }
                }
            }
            counted += Double(count)
        }
        let nnz = min(bound, counted * Double(m) / Double(sampleCount))
        return ProductEstimate(rowCount: m, columnCount: p, nnz: nnz, flops: flops, upperBound: bound, sampledRows: sampleCount)
    }
}
