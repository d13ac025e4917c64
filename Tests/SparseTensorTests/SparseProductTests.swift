// Tests of A·B, A·Aᵀ, AᵀA: native kernel vs dense product, CHOLMOD vs native, triangles, estimates, budget refusals.
import Testing
@testable import SparseTensor
import _TestSupport

@Suite("Sparse × sparse products")
struct SparseProductTests {
    func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
        var d = 0.0
        for (r, s) in zip(a, b) { for (x, y) in zip(r, s) { d = max(d, abs(x - y)) } }
        return d
    }

    func isCanonical(_ c: CSRMatrix) -> Bool {
        (try? CSRMatrix(rowCount: c.rowCount, columnCount: c.columnCount, rowOffsets: c.rowOffsets,
                        columnIndices: c.columnIndices, values: c.values)) != nil
    }

    @Test("Both engines equal the dense product", arguments: ProductEngine.allCases)
    func againstDense(engine: ProductEngine) throws {
        let (a, ad) = randomSmall(rows: 31, columns: 19, density: 0.2, seed: 21)
        let (b, bd) = randomSmall(rows: 19, columns: 27, density: 0.2, seed: 22)
        let at = DenseReference.transpose(ad, columns: 19)
        let options = ProductOptions(budget: .unlimited, engine: engine)
        let aat = try a.product(.aat, options: options)
        let ata = try a.product(.ata, options: options)
        let ab = try a.product(.ab, with: b, options: options)
        #expect(maxDifference(aat.dense(), DenseReference.multiply(ad, at, columns: 31)) < 1e-12)
        #expect(maxDifference(ata.dense(), DenseReference.multiply(at, ad, columns: 19)) < 1e-12)
        #expect(maxDifference(ab.dense(), DenseReference.multiply(ad, bd, columns: 27)) < 1e-12)
        #expect(isCanonical(aat) && isCanonical(ata) && isCanonical(ab))
    }

    @Test("Native (two cores) and CHOLMOD agree on a larger matrix; upper triangle is the full product's")
    func nativeVersusCholmod() throws {
        let a = RandomSparse.matrix(rows: 3000, columns: 1500, density: 0.01, seed: 4)
        for kind in [ProductKind.aat, .ata] {
            let native = try a.product(kind, options: ProductOptions(budget: .unlimited, engine: .native))
            let cholmod = try a.product(kind, options: ProductOptions(budget: .unlimited, engine: .cholmod))
            #expect(native.rowOffsets == cholmod.rowOffsets)
            #expect(native.columnIndices == cholmod.columnIndices)
            #expect(relativeError(native.values, cholmod.values) < 1e-13)
            let upper = try a.product(kind, options: ProductOptions(budget: .unlimited, upperTriangleOnly: true))
            let upperCholmod = try a.product(kind, options: ProductOptions(budget: .unlimited, upperTriangleOnly: true, engine: .cholmod))
            #expect(upper.rowOffsets == upperCholmod.rowOffsets)
            #expect(upper.columnIndices == upperCholmod.columnIndices)
            #expect(relativeError(upper.values, upperCholmod.values) < 1e-13)
            // Mirror the triangle and compare with the full product.
            var rows: [Int32] = [], cols: [Int32] = [], vals: [Double] = []
            for i in 0..<upper.rowCount {
                for p in upper.rowOffsets[i]..<upper.rowOffsets[i + 1] {
                    let j = upper.columnIndices[p]
                    #expect(Int(j) >= i)
                    rows.append(Int32(i)); cols.append(j); vals.append(upper.values[p])
                    if Int(j) != i { rows.append(j); cols.append(Int32(i)); vals.append(upper.values[p]) }
                }
            }
            let mirrored = try CSRMatrix(COOMatrix(rowCount: upper.rowCount, columnCount: upper.columnCount,
                                                   rows: rows, columns: cols, values: vals))
            #expect(mirrored.columnIndices == native.columnIndices)
            #expect(relativeError(mirrored.values, native.values) < 1e-13)
        }
        let b = RandomSparse.matrix(rows: 1500, columns: 800, density: 0.01, seed: 5)
        let ab = try a.product(.ab, with: b, options: ProductOptions(budget: .unlimited))
        let abc = try a.product(.ab, with: b, options: ProductOptions(budget: .unlimited, engine: .cholmod))
        #expect(ab.columnIndices == abc.columnIndices)
        #expect(relativeError(ab.values, abc.values) < 1e-13)
    }

    @Test("Symmetric kernel: mirrored full product equals the general product, for any split into parts and blocks",
          arguments: [(1, 1 << 30), (3, 64), (8, 12), (13, 1)])
    func symmetricKernelMirror(parts: Int, blockBytes: Int) throws {
        // Rows of different lengths (an empty one, a dense one) so parts and blocks fall unevenly.
        let sparse = COOMatrix(RandomSparse.matrix(rows: 120, columns: 70, density: 0.06, seed: 31))
        let dense = (0..<70).map { Double($0 % 5) - 2.5 }
        let a = try CSRMatrix(COOMatrix(rowCount: 120, columnCount: 70, rows: sparse.rows + [Int32](repeating: 7, count: 70),
                                        columns: sparse.columns + (0..<70).map { Int32($0) }, values: sparse.values + dense))
        for kind in [ProductKind.aat, .ata] {
            let (l, r) = try a.productOperands(kind, with: nil)
            let general = try ProductKernel.multiply(l, r, budget: .unlimited, label: kind.label)
            let full = try SymmetricProductKernel.multiply(l, r, full: true, budget: .unlimited, label: kind.label,
                                                           parts: parts, blockBytes: blockBytes)
            #expect(full.offsets == general.offsets)
            #expect(full.indices == general.indices)
            #expect(relativeError(full.values, general.values) < 1e-14)
            let c = CSRMatrix(storage: full)
            #expect(isCanonical(c))
            // Exactly symmetric: c_ji carries c_ij's bits.
            let t = c.transposed()
            #expect(t.columnIndices == c.columnIndices && t.values == c.values)
            let upper = try SymmetricProductKernel.multiply(l, r, full: false, budget: .unlimited, label: kind.label,
                                                            parts: parts)
            var upperColumns: [Int32] = [], upperValues: [Double] = []
            for i in 0..<c.rowCount {
                for p in c.rowOffsets[i]..<c.rowOffsets[i + 1] where Int(c.columnIndices[p]) >= i {
                    upperColumns.append(c.columnIndices[p]); upperValues.append(c.values[p])
                }
            }
            #expect(upper.indices == upperColumns && upper.values == upperValues)
        }
    }

    @Test("A set cancellation flag stops every product with .cancelled, and a clear one changes nothing",
          arguments: ProductEngine.allCases)
    func cancellation(engine: ProductEngine) throws {
        let a = RandomSparse.matrix(rows: 3000, columns: 1500, density: 0.01, seed: 6)
        let flag = CancellationFlag()
        var options = ProductOptions(budget: .unlimited, engine: engine)
        options.cancellation = flag
        let full = try a.product(.aat, options: options)
        #expect(full == (try a.product(.aat, options: ProductOptions(budget: .unlimited, engine: engine))))
        flag.cancel()
        for (kind, upper) in [(ProductKind.aat, false), (.ata, true), (.ab, false)] {
            options.upperTriangleOnly = upper
            do {
                _ = try a.product(kind, with: kind == .ab ? a.transposed() : nil, options: options)
                Issue.record("\(kind) was not cancelled")
            } catch {
                #expect(error == .cancelled(operation: "The product \(kind.label)"))
                #expect(error.description.contains("cancelled"))
            }
        }
    }

    @Test("Drop tolerance removes small entries only")
    func dropTolerance() throws {
        let (a, _) = randomSmall(rows: 40, columns: 30, density: 0.2, seed: 8)
        let full = try a.product(.aat, options: ProductOptions(budget: .unlimited))
        var options = ProductOptions(budget: .unlimited)
        options.dropTolerance = 0.5
        let dropped = try a.product(.aat, options: options)
        #expect(dropped.values.allSatisfy { abs($0) > 0.5 })
        #expect(dropped.nnz == full.values.filter { abs($0) > 0.5 }.count)
    }

    @Test("The estimate is exact when every row is sampled and within 25% when sampled")
    func estimates() throws {
        let small = RandomSparse.matrix(rows: 500, columns: 300, density: 0.02, seed: 1)
        let e = try small.estimateProduct(.aat)
        #expect(e.isExact)
        #expect(e.nnz == Double(try small.product(.aat, options: ProductOptions(budget: .unlimited)).nnz))
        let big = RandomSparse.matrix(rows: 20000, columns: 10000, density: 0.002, seed: 2)
        var options = ProductOptions(budget: .unlimited)
        options.estimateSampleRows = 500
        for kind in [ProductKind.aat, .ata] {
            let est = try big.estimateProduct(kind, options: options)
            let exact = Double(try big.product(kind, options: options).nnz)
            #expect(!est.isExact)
            #expect(abs(est.nnz - exact) / exact < 0.25, "\(kind): estimate \(est.nnz) vs exact \(exact)")
            #expect(est.upperBound >= exact)
        }
    }

    @Test("Over budget: refused before allocating, with the estimated nnz and bytes")
    func budgetRefusal() throws {
        let a = RandomSparse.matrix(rows: 2000, columns: 1000, density: 0.01, seed: 3)
        let options = ProductOptions(budget: MemoryBudget(bytes: 100_000))
        do {
            _ = try a.product(.aat, options: options)
            Issue.record("expected a refusal")
        } catch let error {
            guard case let .exceedsMemoryBudget(what, bytes, budget, detail) = error else {
                Issue.record("wrong error \(error)"); return
            }
            #expect(what.contains("A·Aᵀ"))
            #expect(bytes > 100_000 && budget == 100_000)
            #expect(detail.contains("nnz"))
            #expect(error.description.contains("100 KB"))
        }
    }

    @Test("CHOLMOD's budget check counts the full symmetric product even when only the upper triangle is kept")
    func cholmodUpperBudget() throws {
        let a = RandomSparse.matrix(rows: 400, columns: 300, density: 0.02, seed: 5)
        let upper = ProductOptions(budget: .unlimited, upperTriangleOnly: true, engine: .cholmod)
        let estimate = try a.estimateProduct(.aat, options: upper)
        #expect(estimate.isExact)
        let full = try a.product(.aat, options: ProductOptions(budget: .unlimited))
        // CHOLMOD's C and lsq's copy of it, of every entry of A·Aᵀ, plus CHOLMOD's copy of A.
        let needed = StorageBytes.cholmod(outer: 400, nnz: Double(full.nnz)) + StorageBytes.compressed(outer: 400, nnz: Double(full.nnz))
            + StorageBytes.cholmod(outer: 300, nnz: Double(a.nnz))
        let peak = a.productPeakBytes(estimate, .aat, with: nil, options: upper)
        #expect(peak >= needed)
        // A budget that held the triangle's figures (2.4 × its CSR bytes) is now refused; the peak's is not.
        var tight = upper
        tight.budget = MemoryBudget(bytes: Int(2.5 * estimate.bytes))
        #expect(throws: SparseError.self) { try a.product(.aat, options: tight) }
        var enough = upper
        enough.budget = MemoryBudget(bytes: Int(peak.rounded(.up)))
        let c = try a.product(.aat, options: enough)
        let native = try a.product(.aat, options: ProductOptions(budget: .unlimited, upperTriangleOnly: true))
        #expect(c.rowOffsets == native.rowOffsets && c.columnIndices == native.columnIndices)
        #expect(relativeError(c.values, native.values) < 1e-13)
    }

    @Test("Shape mismatch and a missing B are errors")
    func mismatch() {
        let a = RandomSparse.matrix(rows: 5, columns: 4, density: 0.5, seed: 1)
        let b = RandomSparse.matrix(rows: 5, columns: 4, density: 0.5, seed: 2)
        #expect(throws: SparseError.self) { try a.product(.ab, with: b) }
        #expect(throws: SparseError.self) { try a.product(.ab) }
        #expect(throws: SparseError.self) { try a.product(.ab, with: a.transposed(), options: ProductOptions(upperTriangleOnly: true)) }
    }

    @Test("Empty shapes multiply to empty results", arguments: ProductEngine.allCases)
    func empty(engine: ProductEngine) throws {
        let z = try CSRMatrix.zeros(rowCount: 0, columnCount: 3)
        #expect(try z.product(.aat, options: ProductOptions(engine: engine)).rowCount == 0)
        #expect(try z.product(.ata, options: ProductOptions(engine: engine)).nnz == 0)
        let e = try CSRMatrix.zeros(rowCount: 4, columnCount: 0)
        #expect(try e.product(.aat, options: ProductOptions(engine: engine)).nnz == 0)
    }
}
