// End-to-end tests of POST /v1/products: the product matches the library's, and the memory refusal carries its figures.
import Foundation
import Testing
import SparseTensor
@testable import SolverService
import _TestSupport

@Suite("Service products (live)")
struct ProductTests {
    func matrixJSON(_ a: CSRMatrix) -> [String: Any] {
        ["format": "csr", "shape": [a.rowCount, a.columnCount], "indptr": a.rowOffsets, "indices": a.columnIndices.map { Int($0) }, "values": a.values]
    }

    @Test func productsMatchTheLibrary() async throws {
        let h = try await ServiceHarness.start()
        defer { Task { await h.stop() } }
        let a = RandomSparse.matrix(rows: 30, columns: 20, density: 0.2, seed: 51)
        let b = RandomSparse.matrix(rows: 20, columns: 15, density: 0.2, seed: 52)
        for (kind, body, expected) in [("aat", ["kind": "aat", "A": matrixJSON(a)] as [String: Any], try a.product(.aat)),
                                       ("ata", ["kind": "ata", "A": matrixJSON(a)], try a.product(.ata)),
                                       ("ab", ["kind": "ab", "A": matrixJSON(a), "B": matrixJSON(b)], try a.product(.ab, with: b))] {
            let r = try await h.call("POST", "/v1/products", json: body)
            #expect(r.status == 202, "\(kind): \(r.text)")
            let id = try #require(r.json["id"] as? String)
            let done = try await h.waitFinished(id)
            #expect(done.json["status"] as? String == "succeeded", "\(kind): \(done.text)")
            #expect((done.json["product"] as? [String: Any])?["nnz"] as? Int == expected.nnz)
            let result = try decodeBody(CSRBody.self, try await h.call("GET", "/v1/jobs/\(id)/result"))
            #expect(result.shape == [expected.rowCount, expected.columnCount])
            #expect(result.indptr == expected.rowOffsets)
            #expect(result.indices == expected.columnIndices.map { Int($0) })
            #expect(result.values == expected.values)
            let mtx = try await h.call("GET", "/v1/jobs/\(id)/result", headers: [("Accept", "text/x-matrix-market")])
            #expect(mtx.text.hasPrefix("%%MatrixMarket matrix coordinate real general\n\(expected.rowCount) \(expected.columnCount) \(expected.nnz)\n"))
            #expect(try await h.call("GET", "/v1/jobs/\(id)/solution").status == 404)
            // A format the product does not come in is refused (it was answered as JSON), one it does is served.
            let npy = try await h.call("GET", "/v1/jobs/\(id)/result?format=npy")
            #expect(npy.status == 406 && npy.errorCode == "not_acceptable", "\(npy.text)")
            #expect(try await h.call("GET", "/v1/jobs/\(id)/result?format=mtx").text.hasPrefix("%%MatrixMarket"))
        }
    }

    /// A DELETE stops a running product inside the multiply, even one whose rows are few and heavy: A·Aᵀ of a dense
    /// 1000 × 100 A (10⁸ multiply-adds, seconds in a debug build; the kernels look at the flag at every row).
    @Test func deleteStopsARunningMultiply() async throws {
        let h = try await ServiceHarness.start { $0.workers = 1 }
        defer { Task { await h.stop() } }
        let m = 1000, n = 100
        var rng = SplitMix64(seed: 53)
        let indptr = (0...m).map { $0 * n }
        let indices = (0..<(m * n)).map { $0 % n }
        let values = (0..<(m * n)).map { _ in rng.nextUnit() + 0.5 }
        let body = ["kind": "aat", "A": ["format": "csr", "shape": [m, n], "indptr": indptr, "indices": indices, "values": values]] as [String: Any]
        let r = try await h.call("POST", "/v1/products", json: body)
        #expect(r.status == 202, "\(r.text)")
        let id = try #require(r.json["id"] as? String)
        _ = try await h.waitState(id, "running")
        #expect(try await h.call("DELETE", "/v1/jobs/\(id)").status == 202)
        let done = try await h.waitFinished(id)
        #expect(done.json["status"] as? String == "cancelled", "\(done.text)")
        #expect((done.json["note"] as? String) == "cancelled during the multiply", "\(done.text)")
        #expect(try await h.call("GET", "/v1/jobs/\(id)/result").status != 200)
    }

    @Test func productRefusals() async throws {
        let h = try await ServiceHarness.start { $0.jobMemoryBudget = MemoryBudget(bytes: 1_000_000) }
        defer { Task { await h.stop() } }
        // One full column: A·Aᵀ is 1000 × 1000 dense (1e6 nonzeros, ~12 MB) from a 1000-entry A.
        let m = 1000
        let column: [String: Any] = ["format": "coo", "shape": [m, 1], "rows": Array(0..<m), "cols": [Int](repeating: 0, count: m),
                                     "values": [Double](repeating: 1, count: m)]
        let r = try await h.call("POST", "/v1/products", json: ["kind": "aat", "A": column])
        #expect(r.status == 422 && r.errorCode == "budget_exceeded", "\(r.text)")
        #expect(r.errorMessage.contains("The product A·Aᵀ would need") && r.errorMessage.contains("1000 × 1000"), "\(r.errorMessage)")
        let details = (r.json["error"] as? [String: Any])?["details"] as? [String: Any]
        #expect((details?["estimatedNNZ"] as? NSNumber)?.intValue == m * m)
        #expect((details?["budgetBytes"] as? NSNumber)?.intValue == 1_000_000)
        // Shape and kind errors.
        let small = ["format": "coo", "shape": [2, 3], "rows": [0], "cols": [0], "values": [1.0]] as [String: Any]
        let mismatch = try await h.call("POST", "/v1/products", json: ["kind": "ab", "A": small, "B": small])
        #expect(mismatch.status == 422 && mismatch.errorMessage.contains("expected B with 3 rows"), "\(mismatch.text)")
        let noB = try await h.call("POST", "/v1/products", json: ["kind": "ab", "A": small])
        #expect(noB.status == 400 && noB.errorMessage == "B: is required for kind \"ab\"")
        let kind = try await h.call("POST", "/v1/products", json: ["kind": "abc", "A": small])
        #expect(kind.status == 400 && kind.errorMessage.contains("kind: must be \"aat\""))
        let type = try await h.call("POST", "/v1/products", body: Data("x".utf8), headers: [("Content-Type", "text/x-matrix-market")])
        #expect(type.status == 415)
    }
}
