// End-to-end tests of file uploads: Matrix Market, SVMlight and .npz, raw or multipart, also through curl
// (100-continue, chunked) — x must match the library's on the matrix the readers produce.
import Foundation
import Testing
import LeastSquares
import SparseTensor
@testable import SolverService
import _TestSupport

/// Bytes of `a` written by the library's writers in `format` (and the labels for SVMlight).
func fileBytes(_ a: CSRMatrix, _ ext: String, labels: [Double]? = nil) throws -> Data {
    let url = Fixtures.temporaryDirectory().appendingPathComponent("A.\(ext)")
    if let labels { try MatrixIO.writeSVMLight(a, labels: labels, to: url) } else { try MatrixIO.writeMatrix(a, to: url) }
    return try Data(contentsOf: url)
}

/// A multipart/form-data body.
func multipart(boundary: String, _ parts: [(name: String, filename: String?, type: String?, body: Data)]) -> Data {
    var out = Data("preamble to ignore\r\n".utf8)
    for p in parts {
        var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\""
        if let f = p.filename { head += "; filename=\"\(f)\"" }
        head += "\r\n"
        if let t = p.type { head += "Content-Type: \(t)\r\n" }
        out.append(Data((head + "\r\n").utf8))
        out.append(p.body)
        out.append(Data("\r\n".utf8))
    }
    out.append(Data("--\(boundary)--\r\n".utf8))
    return out
}

@Suite("Service uploads (live)")
struct UploadTests {
    func expectLibraryAnswer(_ h: ServiceHarness, _ submitted: RawResponse, _ a: CSRMatrix, _ y: [Double]) async throws {
        #expect(submitted.status == 202, "\(submitted.text)")
        let id = try #require(submitted.json["id"] as? String)
        let done = try await h.waitFinished(id)
        switch libraryResult(a, y) {
        case let .success(reference):
            #expect(done.json["status"] as? String == "succeeded", "\(done.text)")
            let x = try decodeBody(DenseBody.self, try await h.call("GET", "/v1/jobs/\(id)/solution")).x
            #expect(relativeError(x, reference.x) <= 1e-12)
        case let .failure(error):
            let message = (done.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(done.json["status"] as? String == "failed" && error.description.contains(message), "\(done.text)")
        }
    }

    @Test func rawAndMultipartUploads() async throws {
        let h = try await ServiceHarness.start()
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(rows: 25, columns: 7, seed: 41)
        let options = "?solver=lsqr&tol=1e-10"
        // SVMlight: its labels are y.
        let svm = try await h.call("POST", "/v1/jobs\(options)", body: try fileBytes(a, "svm", labels: y), headers: [("Content-Type", "application/x-svmlight")])
        #expect(svm.json["input"].flatMap { ($0 as? [String: Any])?["format"] as? String } == "svmlight")
        try await expectLibraryAnswer(h, svm, a, y)
        // Matrix Market alone has no y.
        let mtx = try fileBytes(a, "mtx")
        let noY = try await h.call("POST", "/v1/jobs", body: mtx, headers: [("Content-Type", "text/x-matrix-market")])
        #expect(noY.status == 422 && noY.errorMessage.contains("y is missing"))
        // Multipart: A by content type, y as text, options as JSON.
        let yText = Data(y.map { "\($0)" }.joined(separator: "\n").utf8)
        let form = multipart(boundary: "XyZ-42", [("A", "problem.bin", "text/x-matrix-market", mtx), ("y", nil, "text/plain", yText),
                                                  ("options", nil, "application/json", Data(#"{"solver": "lsqr", "tol": 1e-10}"#.utf8))])
        let mp = try await h.call("POST", "/v1/jobs", body: form, headers: [("Content-Type", "multipart/form-data; boundary=XyZ-42")])
        try await expectLibraryAnswer(h, mp, a, y)
        // Multipart: .npz A by file name, y as a JSON array, options from the query.
        let npz = multipart(boundary: "b", [("A", "A.npz", "application/octet-stream", try fileBytes(a, "npz")),
                                            ("y", nil, nil, try JSONSerialization.data(withJSONObject: y))])
        let np = try await h.call("POST", "/v1/jobs\(options)", body: npz, headers: [("Content-Type", "multipart/form-data; boundary=b")])
        try await expectLibraryAnswer(h, np, a, y)
    }

    @Test func badUploadsAreRefusedPrecisely() async throws {
        let h = try await ServiceHarness.start()
        defer { Task { await h.stop() } }
        let bad = Data("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n9 1 2.0\n".utf8)
        let ct = { (t: String) in [("Content-Type", t)] }
        let cases: [(Data, String, String, Int, String, String)] = [
            (bad, "text/x-matrix-market", "", 422, "invalid_file", "A:4: row index 9 is out of range 1...3"),
            (Data("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n2 x 2.0\n".utf8), "text/x-matrix-market", "", 422, "invalid_file", "A:4"),
            (Data("1 1:1\n2 3:nan\n".utf8), "application/x-svmlight", "", 422, "invalid_file", "A:2: feature value nan is not finite"),
            (Data("1 1:1\n".utf8), "application/x-svmlight", "?solver=magic", 400, "invalid_option", "query parameter solver=magic"),
            (Data("1 1:1\n".utf8), "application/x-svmlight", "?speed=11", 400, "invalid_option", "unknown query parameter 'speed'"),
            (multipart(boundary: "b", [("B", nil, nil, Data())]), "multipart/form-data; boundary=b", "", 400, "invalid_multipart", "unknown part 'B'"),
            (multipart(boundary: "b", [("y", nil, nil, Data("1\n".utf8))]), "multipart/form-data; boundary=b", "", 400, "invalid_multipart", "part 'A' (the matrix file) is missing"),
            (Data("--b\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\nabc".utf8), "multipart/form-data; boundary=b", "", 400, "invalid_multipart", "not terminated by the boundary"),
            (multipart(boundary: "b", [("A", nil, nil, Data("1 2 3".utf8))]), "multipart/form-data; boundary=b", "", 415, "unsupported_media_type", "cannot tell the format of part 'A'"),
            (multipart(boundary: "b", [("A", "a.mtx", nil, Data("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n".utf8)), ("y", nil, nil, Data("1\n2\n3\n".utf8))]),
             "multipart/form-data; boundary=b", "", 422, "invalid_problem", "y has length 3 but A has 2 rows"),
            (multipart(boundary: "b", [("A", "a.mtx", nil, Data("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n".utf8)), ("y", nil, nil, Data("1\n2\n".utf8)),
                                       ("options", nil, nil, Data(#"{"tol": "x"}"#.utf8))]),
             "multipart/form-data; boundary=b", "", 400, "invalid_request", "options.tol"),
            (Data("x".utf8), "multipart/form-data", "", 400, "invalid_request", "needs a boundary"),
        ]
        for (body, type, query, status, code, fragment) in cases {
            let r = try await h.call("POST", "/v1/jobs\(query)", body: body, headers: ct(type))
            #expect(r.status == status, "\(type)\(query): \(r.status) \(r.text)")
            if !code.isEmpty { #expect(r.errorCode == code, "\(type)\(query): \(r.text)") }
            #expect(!r.errorMessage.isEmpty && r.errorMessage.contains(fragment), "\(type)\(query): '\(r.errorMessage)' should contain '\(fragment)'")
        }
        #expect(try await h.call("GET", "/healthz").status == 200)
    }

    @Test("--max-nnz is checked against what an upload declares, before it is parsed")
    func nnzLimitBeforeParsing() async throws {
        let h = try await ServiceHarness.start { $0.maxJobNNZ = 1000 }
        defer { Task { await h.stop() } }
        // 5·10⁷ entries declared, one present: refused for its size, not parsed (parsing would report the truncation).
        let declared = Data("%%MatrixMarket matrix coordinate real general\n10000 10000 50000000\n1 1 1.0\n".utf8)
        let svm = Data((0..<40).map { i in "1 " + (1...30).map { "\($0 + i):1" }.joined(separator: " ") + "\n" }.joined().utf8)
        let npz = try fileBytes(RandomSparse.matrix(rows: 100, columns: 100, density: 0.2, seed: 3), "npz")
        for (body, type) in [(declared, "text/x-matrix-market"), (svm, "application/x-svmlight"), (npz, "application/x-npz")] {
            let r = try await h.call("POST", "/v1/jobs", body: body, headers: [("Content-Type", type)])
            #expect(r.status == 422 && r.errorCode == "nnz_limit", "\(type): \(r.status) \(r.text)")
            #expect(r.errorMessage.contains("1000"), "\(type): \(r.errorMessage)")
        }
        // Under the limit: accepted.
        let small = try await h.call("POST", "/v1/jobs", body: Data("1 1:1\n2 2:1\n".utf8), headers: [("Content-Type", "application/x-svmlight")])
        #expect(small.status == 202, "\(small.text)")
    }

    /// curl as a real client: a multipart upload with `Expect: 100-continue`, and a chunked raw upload.
    @Test func curlUploads() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { return }
        let h = try await ServiceHarness.start(token: "tok")
        defer { Task { await h.stop() } }
        let (a, y) = smallProblem(rows: 30, columns: 9, seed: 42)
        let dir = Fixtures.temporaryDirectory()
        try fileBytes(a, "mtx").write(to: dir.appendingPathComponent("A.mtx"))
        try Data(y.map { "\($0)" }.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("y.txt"))
        try fileBytes(a, "svm", labels: y).write(to: dir.appendingPathComponent("A.svm"))
        let port = h.port
        @Sendable func curl(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            p.arguments = ["-sS", "--max-time", "20", "-H", "Authorization: Bearer tok"] + args
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let (mpStatus, mpBody) = try await blocking {
            try curl(["-H", "Expect: 100-continue", "-F", "A=@\(dir.path)/A.mtx;type=text/x-matrix-market", "-F", "y=@\(dir.path)/y.txt",
                      "-F", "options={\"solver\":\"lsqr\",\"tol\":1e-10};type=application/json", "http://127.0.0.1:\(port)/v1/jobs"])
        }
        #expect(mpStatus == 0)
        let mp = RawResponse(status: 202, headers: [], body: Data(mpBody.utf8))
        try await expectLibraryAnswer(h, mp, a, y)
        let (chStatus, chBody) = try await blocking {
            try curl(["-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/x-svmlight", "--data-binary", "@\(dir.path)/A.svm",
                      "http://127.0.0.1:\(port)/v1/jobs?solver=lsqr&tol=1e-10"])
        }
        #expect(chStatus == 0)
        try await expectLibraryAnswer(h, RawResponse(status: 202, headers: [], body: Data(chBody.utf8)), a, y)
    }
}
