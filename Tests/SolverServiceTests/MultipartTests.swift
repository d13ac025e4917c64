// Tests of the multipart/form-data splitter: parts, parameters, and refusals of malformed bodies.
import Foundation
import Testing
@testable import SolverService

@Suite("Multipart")
struct MultipartTests {
    @Test func splitsPartsWithTheirNamesTypesAndBytes() throws {
        let binary = Data([0, 13, 10, 45, 45, 255])  // CR LF "--" inside a part is fine
        var body = Data("ignored preamble\r\n--xyz\r\nContent-Disposition: form-data; name=\"A\"; filename=\"a; b.mtx\"\r\nContent-Type: text/x-matrix-market\r\n\r\n".utf8)
        body.append(binary)
        body.append(Data("\r\n--xyz\r\nContent-Disposition: form-data; name=\"y\"\r\n\r\n1\n2\r\n--xyz--\r\nepilogue".utf8))
        let parts = try Multipart.parse(body, boundary: "xyz")
        #expect(parts.map(\.name) == ["A", "y"])
        #expect(parts[0].filename == "a; b.mtx")
        #expect(parts[0].contentType?.essence == "text/x-matrix-market")
        #expect(parts[0].body == binary)
        #expect(String(decoding: parts[1].body, as: UTF8.self) == "1\n2")
        #expect(parts[1].contentType == nil)
    }

    @Test func refusesMalformedBodies() {
        let cases: [(String, String)] = [
            ("no boundary at all", "does not occur in the body"),
            ("--xyz\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\ntruncated", "not terminated by the boundary"),
            ("--xyz\r\nContent-Type: text/plain\r\n\r\nx\r\n--xyz--", "needs a name"),
            ("--xyz\r\nContent-Disposition: attachment; name=\"A\"\r\n\r\nx\r\n--xyz--", "must be form-data"),
            ("--xyzJUNK\r\n", "expected CRLF after a boundary delimiter"),
            ("--xyz\r\nBroken header\r\n\r\nx\r\n--xyz--", "malformed header line"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try Multipart.parse(Data(text.utf8), boundary: "xyz")
                Issue.record("\(text.debugDescription) was accepted")
            } catch {
                #expect(error.status.code == 400 && error.message.contains(fragment), "\(text.debugDescription): \(error.message)")
            }
        }
        let many = (0..<17).map { "--xyz\r\nContent-Disposition: form-data; name=\"p\($0)\"\r\n\r\nx\r\n" }.joined() + "--xyz--"
        do { _ = try Multipart.parse(Data(many.utf8), boundary: "xyz"); Issue.record("17 parts accepted") } catch {
            #expect(error.message.contains("more than 16 parts"))
        }
    }
}
