// SolverService/API/ResultEncoding: x and product matrices in the formats a client can Accept — JSON, Matrix Market, .npy.
import Foundation
import SparseTensor

/// Encodes results. Formats, by `Accept` (or `?format=`):
///
/// | media type                          | `format` | solution x                                  | product C                         |
/// |-------------------------------------|----------|---------------------------------------------|-----------------------------------|
/// | `application/json`                  | `dense`  | `{"x": […]}`                                | `{"format": "csr", "shape", "indptr", "indices", "values"}` |
/// | `application/vnd.lsq.sparse+json`   | `sparse` | `{"length": n, "indices": […], "values": […]}` | (as JSON)                      |
/// | `text/x-matrix-market`              | `mtx`    | coordinate n × 1 (its nonzeros, 1-based)    | coordinate (symmetric when only the upper triangle was kept) |
/// | `application/x-npy`                 | `npy`    | the float64 array                           | —                                 |
enum ResultEncoding {
    static let json = "application/json"
    static let sparseJSON = "application/vnd.lsq.sparse+json"
    static let matrixMarket = "text/x-matrix-market"
    static let npy = "application/x-npy"

    static let solutionOffers = [json, sparseJSON, matrixMarket, npy, "application/octet-stream"]
    static let productOffers = [json, matrixMarket]
    static let formatNames = ["dense": json, "json": json, "sparse": sparseJSON, "mtx": matrixMarket, "npy": npy]

    struct Dense: Encodable { var x: [Double] }
    struct Sparse: Encodable { var length: Int; var indices: [Int]; var values: [Double] }
    struct CSR: Encodable {
        var format = "csr"
        var shape: [Int]
        var indptr: [Int]
        var indices: [Int32]
        var values: [Double]
    }

    static func solution(_ npyData: Data, as media: String) throws -> (Data, String) {
        switch media {
        case npy, "application/octet-stream":
            return (npyData, npy)
        case sparseJSON:
            let x = try NPYArray.decodeDoubles(npyData, name: "solution")
            var idx: [Int] = [], val: [Double] = []
            for (i, v) in x.enumerated() where v != 0 { idx.append(i); val.append(v) }
            return (APIJSON.encode(Sparse(length: x.count, indices: idx, values: val)), sparseJSON)
        case matrixMarket:
            let x = try NPYArray.decodeDoubles(npyData, name: "solution")
            let nz = x.indices.filter { x[$0] != 0 }
            var text = "%%MatrixMarket matrix coordinate real general\n% solution x of an lsq job (nonzeros only, 1-based)\n"
            text += "\(x.count) 1 \(nz.count)\n"
            for i in nz { text += "\(i + 1) 1 \(x[i])\n" }
            return (Data(text.utf8), matrixMarket)
        default:
            return (APIJSON.encode(Dense(x: try NPYArray.decodeDoubles(npyData, name: "solution"))), json)
        }
    }

    static func product(rows: Int, columns: Int, indptr: [Int], indices: [Int32], values: [Double], upperOnly: Bool,
                        as media: String) -> (Data, String) {
        if media == matrixMarket {
            var text = "%%MatrixMarket matrix coordinate real \(upperOnly ? "symmetric" : "general")\n"
            text += "\(rows) \(columns) \(values.count)\n"
            for r in 0..<rows {
                for p in indptr[r]..<indptr[r + 1] {
                    // A symmetric file stores the lower triangle: the upper entry (r, c) is written as (c, r).
                    let (i, j) = upperOnly ? (Int(indices[p]), r) : (r, Int(indices[p]))
                    text += "\(i + 1) \(j + 1) \(values[p])\n"
                }
            }
            return (Data(text.utf8), matrixMarket)
        }
        return (APIJSON.encode(CSR(shape: [rows, columns], indptr: indptr, indices: indices, values: values)), json)
    }
}
