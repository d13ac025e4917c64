// SparseTensor/Cholmod+Product: A·Aᵀ, AᵀA and A·B through CHOLMOD (cholmod_l_aat, cholmod_l_ssmult).
import CSuiteSparse

/// Products computed by SuiteSparse CHOLMOD, bridged with one copy each way.
///
/// Our CSR storage of A is CHOLMOD's CSC of Aᵀ, so:
/// - AᵀA = `cholmod_l_aat(Aᵀ)` read straight from A's CSR arrays;
/// - A·Aᵀ = `cholmod_l_aat(A)`, which needs A's CSC (the right operand's storage, `R`);
/// - A·B: `cholmod_l_ssmult(Bᵀ, Aᵀ)` = (A·B)ᵀ in CSC, which is A·B in CSR.
/// CHOLMOD is asked for unsorted output (faster) and each line is sorted here on the way back.
package enum CholmodProduct {
    package static func multiply(kind: ProductKind, left: CompressedStorage, right: CompressedStorage,
                                 a: CompressedStorage, b: CompressedStorage?, upper: Bool) throws(SparseError) -> CompressedStorage {
        let context = CholmodContext()
        let result: UnsafeMutablePointer<cholmod_sparse>?
        let routine: String
        switch kind {
        case .aat, .ata:
            // F with F·Fᵀ = C: for A·Aᵀ, F = A (CSC of A = CSR storage of Aᵀ = `right`); for AᵀA, F = Aᵀ (= `a`).
            let f = try CholmodSparse.copying(kind == .aat ? right : a, context: context)
            routine = "cholmod_l_aat"
            result = cholmod_l_aat(f.pointer, nil, 0, 1, context.common)
        case .ab:
            let bt = try CholmodSparse.copying(b!, context: context)
            let at = try CholmodSparse.copying(a, context: context)
            routine = "cholmod_l_ssmult"
            result = cholmod_l_ssmult(bt.pointer, at.pointer, 0, 1, 0, context.common)
        }
        guard let result else { throw SuiteSparseStatus.error(routine: routine, status: context.status) }
        // CHOLMOD's C is freed once copied, before the triangle is taken (`productPeakBytes` counts on it).
        var storage = CholmodSparse(taking: result, context: context).storage()
        storage.sortLines()
        if upper { storage = storage.upperTriangle() }
        return storage
    }
}

extension CompressedStorage {
    /// Sorts each line's indices (with their values) in place.
    package mutating func sortLines() {
        var order: [Int] = []
        for o in 0..<outerCount {
            let start = offsets[o], end = offsets[o + 1]
            var sorted = true
            for p in start..<max(start, end - 1) where indices[p] > indices[p + 1] { sorted = false; break }
            if sorted { continue }
            order = Array(start..<end)
            order.sort { indices[$0] < indices[$1] }
            let newIndices = order.map { indices[$0] }, newValues = order.map { values[$0] }
            for (t, p) in (start..<end).enumerated() { indices[p] = newIndices[t]; values[p] = newValues[t] }
        }
    }

    /// Entries with inner index ≥ line index (the upper triangle of a row-major square matrix).
    package func upperTriangle() -> CompressedStorage {
        var newOffsets = [Int](repeating: 0, count: outerCount + 1)
        var newIndices: [Int32] = [], newValues: [Double] = []
        for o in 0..<outerCount {
            for p in offsets[o]..<offsets[o + 1] where Int(indices[p]) >= o {
                newIndices.append(indices[p])
                newValues.append(values[p])
            }
            newOffsets[o + 1] = newIndices.count
        }
        return CompressedStorage(unchecked: outerCount, innerCount, newOffsets, newIndices, newValues)
    }
}
