// Tests of the strict request-head parser: valid heads, every refusal with its status, limits, and a seeded fuzz.
import Foundation
import Testing
@testable import SolverService
import SparseTensor

@Suite("HTTPHeadParser")
struct HTTPHeadParserTests {
    func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        try HTTPHeadParser.parse(Array(text.utf8), limits: limits)
    }

    func refusal(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPParseError? {
        do { _ = try parse(text, limits: limits); return nil } catch { return error }
    }

    @Test func parsesAGetWithQueryAndHeaders() throws {
        let text = "GET /v1/jobs?limit=5&status=queued HTTP/1.1\r\nHost: localhost\r\nAccept:  application/json \r\nX-Empty:\r\n\r\nNEXT"
        let (head, used) = try #require(try parse(text))
        #expect(used == text.utf8.count - 4)
        #expect(head.method == "GET")
        #expect(head.path == "/v1/jobs")
        #expect(head.query == "limit=5&status=queued")
        #expect(head.queryItems?.map(\.value) == ["5", "queued"])
        #expect(head.headers["accept"] == "application/json")
        #expect(head.headers["X-Empty"] == "")
        #expect(head.framing == .none)
        #expect(head.keepAlive)
    }

    @Test func incompleteHeadsNeedMoreBytes() throws {
        let full = "POST /v1/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
        for cut in 0..<full.utf8.count {
            let prefix = String(decoding: Array(full.utf8)[0..<cut], as: UTF8.self)
            #expect(try parse(prefix) == nil, "prefix of \(cut) bytes")
        }
        let (head, _) = try #require(try parse(full))
        #expect(head.framing == .length(3))
    }

    @Test func leadingEmptyLinesAreIgnored() throws {
        let (head, _) = try #require(try parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(head.path == "/")
    }

    @Test func refusesMalformedRequestLines() {
        let cases: [(String, Int, String)] = [
            ("GARBAGE\r\n\r\n", 400, "malformed request line"),
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "single spaces"),
            ("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400, "malformed request line"),
            ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed method"),
            ("GET relative HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request target"),
            ("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400, "fragment"),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 is not supported"),
            ("GET / HTTP/1\r\nHost: a\r\n\r\n", 400, "malformed HTTP version"),
            ("GET / HTTP/1.1\nHost: a\n\n", 400, "bare LF"),
            ("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR"),
            ("GET /\u{7f} HTTP/1.1\r\n\r\n", 400, "invalid byte 0x7f"),
        ]
        for (text, status, fragment) in cases {
            let e = refusal(text)
            #expect(e?.status.code == status, "\(text.debugDescription) → \(String(describing: e))")
            #expect(e?.message.contains(fragment) == true, "\(text.debugDescription): '\(e?.message ?? "")' should mention '\(fragment)'")
        }
    }

    @Test func refusesGarbageBeforeTheHeadIsComplete() {
        // A TLS ClientHello sent to the plain port: refused on its first bytes, no waiting for CRLF CRLF.
        #expect(refusal("\u{16}\u{03}\u{01}")?.status.code == 400)
    }

    @Test func refusesBadHeaderFields() {
        let cases: [(String, Int, String)] = [
            ("GET / HTTP/1.1\r\nHost: a\r\nBad Header: y\r\n\r\n", 400, "invalid character in header field name"),
            ("GET / HTTP/1.1\r\nHost: a\r\nName : y\r\n\r\n", 400, "whitespace between header field name"),
            ("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "no ':'"),
            ("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, "empty field name"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  folded\r\n\r\n", 400, "obsolete line folding"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n", 400, "invalid byte 0x1"),
            ("GET / HTTP/1.1\r\n\r\n", 400, "missing Host"),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12x\r\n\r\n", 400, "invalid Content-Length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "invalid Content-Length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n", 400, "invalid Content-Length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "conflicting Content-Length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both Transfer-Encoding and Content-Length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "'gzip' is not supported"),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "final transfer coding must be 'chunked'"),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "not allowed in HTTP/1.0"),
            ("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417, "unsupported expectation"),
        ]
        for (text, status, fragment) in cases {
            let e = refusal(text)
            #expect(e?.status.code == status, "\(text.debugDescription) → \(String(describing: e))")
            #expect(e?.message.contains(fragment) == true, "\(text.debugDescription): '\(e?.message ?? "")' should mention '\(fragment)'")
        }
    }

    @Test func enforcesSizeLimits() {
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = 64
        limits.maxHeaderBytes = 256
        limits.maxHeaderCount = 5
        limits.maxBodyBytes = 1000
        // The request line limit applies before the line is complete.
        #expect(refusal("GET /" + String(repeating: "a", count: 100), limits: limits)?.status.code == 414)
        // The head limit applies before the blank line arrives.
        let longHeader = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 300)
        #expect(refusal(longHeader, limits: limits)?.status.code == 431)
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + (0..<6).map { "X\($0): v\r\n" }.joined() + "\r\n"
        #expect(refusal(many, limits: limits)?.status.code == 431)
        // A declared body over the limit is refused from the head alone.
        let big = refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", limits: limits)
        #expect(big?.status.code == 413)
        #expect(big?.message == "Content-Length 1001 exceeds the limit of 1000 bytes")
        #expect(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", limits: limits)?.status.code == 413)
        #expect(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", limits: limits) == nil)
    }

    @Test func connectionSemantics() throws {
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?.0.keepAlive == false)
        #expect(try parse("GET / HTTP/1.0\r\n\r\n")?.0.keepAlive == false)
        #expect(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.0.keepAlive == true)
        let expect = try #require(try parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n"))
        #expect(expect.0.expectsContinue)
        #expect(expect.0.framing == .chunked)
        let absolute = try #require(try parse("GET http://example.com/v1/jobs?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(absolute.0.path == "/v1/jobs")
        #expect(absolute.0.query == "x=1")
    }

    /// Mutated requests (seeded) never crash or hang the parser: each either parses or is refused with a 4xx/5xx.
    @Test func fuzzedHeadsAreParsedOrRefused() {
        let seeds = [
            "POST /v1/jobs?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
            "GET /v1/jobs/3f2b8c1e-4d5a-4e6f-8a9b-0c1d2e3f4a5b HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        ].map { Array($0.utf8) }
        var rng = SplitMix64(seed: 20261125)
        let alphabet: [UInt8] = Array("\r\n :/?%0123456789aAzZ-,;\"\t".utf8) + [0, 0x7F, 0x80, 0xFF]
        var parsed = 0, refused = 0, incomplete = 0
        for round in 0..<3000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                default: bytes.remove(at: i)
                }
            }
            do {
                if let (_, used) = try HTTPHeadParser.parse(bytes) {
                    #expect(used <= bytes.count)
                    parsed += 1
                } else {
                    incomplete += 1
                }
            } catch {
                #expect((400...505).contains(error.status.code), "seed round \(round): \(error)")
                #expect(!error.message.isEmpty)
                refused += 1
            }
        }
        #expect(parsed > 0 && refused > 0, "parsed \(parsed), refused \(refused), incomplete \(incomplete)")
    }
}

@Suite("ChunkedDecoder")
struct ChunkedDecoderTests {
    func decodeAll(_ text: String, split: Int? = nil, max: Int = 1 << 20) throws(HTTPParseError) -> ([UInt8], Int, Bool) {
        var d = ChunkedDecoder(maxBodyBytes: max)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var used = 0
        let step = split ?? bytes.count
        var start = 0
        while start < bytes.count, !d.isFinished {
            let piece = Array(bytes[start..<min(bytes.count, start + step)])
            let n = try d.decode(piece, into: &out)
            used += n
            start += step
            if n < piece.count { break }
        }
        return (out, used, d.isFinished)
    }

    @Test func decodesChunksExtensionsAndTrailers() throws {
        let body = "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT"
        let (out, used, done) = try decodeAll(body)
        #expect(String(decoding: out, as: UTF8.self) == "Wikipedia in\r\n\r\nchunks.")
        #expect(done)
        #expect(used == body.utf8.count - 4)  // "NEXT" belongs to the next request
        for split in 1...7 {
            let (o, _, d) = try decodeAll(body, split: split)
            #expect(o == out && d, "split \(split)")
        }
        // Sizes padded with zeros (as some proxies send them) are sizes, however many zeros.
        let (padded, _, paddedDone) = try decodeAll("0000000000000000004\r\nWiki\r\n00000000000000000000\r\n\r\n")
        #expect(String(decoding: padded, as: UTF8.self) == "Wiki" && paddedDone)
    }

    @Test func refusesMalformedChunks() {
        let cases: [(String, Int)] = [
            ("X\r\nabc\r\n0\r\n\r\n", 400),              // not hex
            ("\r\n", 400),                                // missing size
            ("3\r\nabcd\r\n0\r\n\r\n", 400),             // data longer than declared
            ("3\nabc\r\n0\r\n\r\n", 400),                // bare LF
            ("3 x\r\nabc\r\n0\r\n\r\n", 400),            // junk after the size
            ("1000000000000000\r\n", 413),               // 16 significant hex digits
            ("00X\r\nabc\r\n0\r\n\r\n", 400),            // not hex, after zeros
            ("401\r\n", 413),                            // over the 1 KiB limit in this test
        ]
        for (text, status) in cases {
            do {
                _ = try decodeAll(text, max: 1024)
                Issue.record("\(text.debugDescription) was accepted")
            } catch {
                #expect(error.status.code == status, "\(text.debugDescription): \(error)")
            }
        }
    }
}

@Suite("MediaType")
struct MediaTypeTests {
    @Test func parsesAndNegotiates() throws {
        let m = try #require(MediaType("Multipart/Form-Data; boundary=\"abc\"; charset=UTF-8"))
        #expect(m.essence == "multipart/form-data")
        #expect(m.parameters["boundary"] == "abc")
        #expect(MediaType("nonsense") == nil)
        let offers = ["application/json", "text/x-matrix-market", "application/x-npy"]
        #expect(MediaType.negotiate(nil, offers: offers) == "application/json")
        #expect(MediaType.negotiate("application/x-npy", offers: offers) == "application/x-npy")
        #expect(MediaType.negotiate("text/*;q=0.5, application/x-npy;q=0.9", offers: offers) == "application/x-npy")
        #expect(MediaType.negotiate("text/*", offers: offers) == "text/x-matrix-market")
        #expect(MediaType.negotiate("image/png", offers: offers) == nil)
        #expect(MediaType.negotiate("application/json;q=0, */*;q=0.1", offers: offers) == "text/x-matrix-market")
    }
}
