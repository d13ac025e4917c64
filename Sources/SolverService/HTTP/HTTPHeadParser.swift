// SolverService/HTTP/HTTPHeadParser: strict RFC 9112 parsing of a request line and header section from raw bytes.

/// Parses a request head from bytes received so far — a pure function, so it can be fuzzed.
///
/// ```
/// request-line = method SP request-target SP HTTP-version CRLF
/// field-line   = field-name ":" OWS field-value OWS CRLF
/// head         = *CRLF request-line *( field-line ) CRLF
/// ```
/// Strict where RFC 9112 allows a choice: lines end in CRLF (a bare CR or LF is a `400`), no
/// whitespace before the colon, no obsolete line folding, no control characters in values,
/// `Content-Length` must be digits (repeats must agree), `Transfer-Encoding` with `Content-Length`
/// is refused (request smuggling), only `chunked` is implemented (`501` otherwise), HTTP/1.1 needs
/// exactly one `Host`. Limits: `414` for a request line over `maxRequestLineBytes`, `431` for a head
/// over `maxHeaderBytes` or with more than `maxHeaderCount` fields, `413` for a declared body over
/// `maxBodyBytes` (decided here, before any body byte is read), `417` for an unknown expectation,
/// `505` for a version other than 1.0/1.1.
public enum HTTPHeadParser {
    private static let cr: UInt8 = 13, lf: UInt8 = 10, sp: UInt8 = 32, ht: UInt8 = 9, colon: UInt8 = 58

    /// Looks for a complete head at the start of `bytes`.
    /// - Returns: nil when more bytes are needed (and the limits still allow them); otherwise the head
    ///   and how many bytes it used (the body, or the next request, starts there).
    /// - Throws: `HTTPParseError` as soon as the bytes cannot begin a valid head.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        let n = bytes.count
        // RFC 9112 §2.2: ignore at least one empty line before the request line.
        var start = 0
        while start < n, bytes[start] == cr || bytes[start] == lf {
            if bytes[start] == lf { throw HTTPParseError(.badRequest, "bare LF before the request line; lines must end in CRLF") }
            guard start + 1 < n else { return nil }
            guard bytes[start + 1] == lf else { throw HTTPParseError(.badRequest, "bare CR before the request line") }
            start += 2
            if start > limits.maxHeaderBytes { throw HTTPParseError(.headerFieldsTooLarge, "too many empty lines before the request line") }
        }
        // The request line: validate the bytes seen so far, so garbage (e.g. TLS) is refused at once.
        var lineEnd = -1
        var i = start
        while i < n {
            let b = bytes[i]
            if b == cr {
                guard i + 1 < n else { break }
                guard bytes[i + 1] == lf else { throw HTTPParseError(.badRequest, "bare CR in the request line") }
                lineEnd = i
                break
            }
            if b == lf { throw HTTPParseError(.badRequest, "bare LF in the request line; lines must end in CRLF") }
            if b < 0x20 || b >= 0x7F {
                throw HTTPParseError(.badRequest, "invalid byte 0x\(String(b, radix: 16)) in the request line (offset \(i - start))")
            }
            i += 1
            if i - start > limits.maxRequestLineBytes {
                throw HTTPParseError(.uriTooLong, "request line longer than \(limits.maxRequestLineBytes) bytes")
            }
        }
        if lineEnd < 0 {
            if n - start > limits.maxRequestLineBytes {
                throw HTTPParseError(.uriTooLong, "request line longer than \(limits.maxRequestLineBytes) bytes")
            }
            return nil
        }
        // The end of the header section: the first empty line after the request line.
        var headEnd = -1  // index of the CRLF that ends the section (the empty line)
        var p = lineEnd + 2
        var lineStart = p
        while p < n {
            if bytes[p] == cr {
                guard p + 1 < n else { break }
                guard bytes[p + 1] == lf else { throw HTTPParseError(.badRequest, "bare CR in a header field") }
                if p == lineStart { headEnd = p; break }
                p += 2
                lineStart = p
                continue
            }
            if bytes[p] == lf { throw HTTPParseError(.badRequest, "bare LF in the header section; lines must end in CRLF") }
            p += 1
            if p - start > limits.maxHeaderBytes {
                throw HTTPParseError(.headerFieldsTooLarge, "header section larger than \(limits.maxHeaderBytes) bytes")
            }
        }
        if headEnd < 0 {
            if n - start > limits.maxHeaderBytes {
                throw HTTPParseError(.headerFieldsTooLarge, "header section larger than \(limits.maxHeaderBytes) bytes")
            }
            return nil
        }
        var head = try requestLine(UnsafeBufferPointer(rebasing: bytes[start..<lineEnd]))
        head.headers = try fields(UnsafeBufferPointer(rebasing: bytes[(lineEnd + 2)..<headEnd]), limits: limits)
        try resolveSemantics(&head, limits: limits)
        return (head, headEnd + 2)
    }

    /// Convenience for tests and fuzzing.
    public static func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        let r: Result<(HTTPRequestHead, Int)?, HTTPParseError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(HTTPParseError) { return .success(try parse(buffer, limits: limits)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    // MARK: - Request line

    static func isTokenChar(_ b: UInt8) -> Bool {
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    private static func requestLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> HTTPRequestHead {
        let parts = line.split(separator: sp, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw HTTPParseError(.badRequest, "malformed request line: expected 'METHOD SP target SP HTTP/1.1' with single spaces")
        }
        guard parts[0].allSatisfy(isTokenChar) else {
            throw HTTPParseError(.badRequest, "malformed method: only token characters are allowed")
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let versionText = String(decoding: parts[2], as: UTF8.self)
        let version: HTTPVersion
        switch versionText {
        case "HTTP/1.1": version = .http11
        case "HTTP/1.0": version = .http10
        default:
            let v = Array(parts[2])
            if v.count == 8, versionText.hasPrefix("HTTP/"), (0x30...0x39).contains(v[5]), v[6] == 0x2E, (0x30...0x39).contains(v[7]) {
                throw HTTPParseError(.httpVersionNotSupported, "\(versionText) is not supported; use HTTP/1.1")
            }
            throw HTTPParseError(.badRequest, "malformed HTTP version '\(versionText.prefix(32))'")
        }
        var origin = target
        if target == "*" {
            guard method == "OPTIONS" else { throw HTTPParseError(.badRequest, "'*' is only a valid target for OPTIONS") }
        } else if !target.hasPrefix("/") {
            // absolute-form (RFC 9112 §3.2.2): a server must accept it; keep only path and query.
            let lower = target.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw HTTPParseError(.badRequest, "malformed request target: expected a path starting with '/'")
            }
            let afterScheme = target[target.index(target.startIndex, offsetBy: lower.hasPrefix("http://") ? 7 : 8)...]
            if let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                origin = afterScheme[slash] == "/" ? String(afterScheme[slash...]) : "/" + afterScheme[slash...]
            } else {
                origin = "/"
            }
        }
        if origin.contains("#") { throw HTTPParseError(.badRequest, "a request target must not contain a fragment ('#')") }
        return HTTPRequestHead(method: method, target: origin, version: version)
    }

    // MARK: - Header fields

    private static func fields(_ section: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        guard !section.isEmpty else { return headers }
        // The section is a series of "line CRLF" (the final CRLF of the last line is included).
        var lineStart = 0
        var count = 0
        var k = 0
        while k < section.count {
            guard section[k] == cr else { k += 1; continue }
            let line = UnsafeBufferPointer(rebasing: section[lineStart..<k])
            count += 1
            if count > limits.maxHeaderCount {
                throw HTTPParseError(.headerFieldsTooLarge, "more than \(limits.maxHeaderCount) header fields")
            }
            let (name, value) = try field(line)
            headers.add(name, value)
            k += 2
            lineStart = k
        }
        return headers
    }

    private static func field(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first else { throw HTTPParseError(.badRequest, "empty header line") }
        if first == sp || first == ht {
            throw HTTPParseError(.badRequest, "obsolete line folding (a header line starting with whitespace) is not accepted")
        }
        guard let c = line.firstIndex(of: colon) else {
            throw HTTPParseError(.badRequest, "malformed header line: no ':' after the field name")
        }
        guard c > 0 else { throw HTTPParseError(.badRequest, "malformed header line: empty field name") }
        for j in 0..<c where !isTokenChar(line[j]) {
            let name = String(decoding: line[0..<c], as: UTF8.self).prefix(64)
            if (j..<c).allSatisfy({ line[$0] == sp || line[$0] == ht }) {
                throw HTTPParseError(.badRequest, "whitespace between header field name '\(name.trimmingCharacters(in: .whitespaces))' and ':' is not allowed")
            }
            throw HTTPParseError(.badRequest, "invalid character in header field name '\(name)'")
        }
        var a = c + 1, b = line.count
        while a < b, line[a] == sp || line[a] == ht { a += 1 }
        while b > a, line[b - 1] == sp || line[b - 1] == ht { b -= 1 }
        let name = String(decoding: line[0..<c], as: UTF8.self)
        for j in a..<b {
            let v = line[j]
            if v == ht || v == sp || (v >= 0x21 && v != 0x7F) { continue }
            throw HTTPParseError(.badRequest, "invalid byte 0x\(String(v, radix: 16)) in the value of header field '\(name.prefix(64))'")
        }
        return (name, String(decoding: line[a..<b], as: UTF8.self))
    }

    // MARK: - Framing and connection semantics

    private static func resolveSemantics(_ head: inout HTTPRequestHead, limits: HTTPLimits) throws(HTTPParseError) {
        let h = head.headers
        if head.version == .http11 {
            let hosts = h.values("Host")
            guard !hosts.isEmpty else { throw HTTPParseError(.badRequest, "missing Host header (required by HTTP/1.1)") }
            guard hosts.count == 1 else { throw HTTPParseError(.badRequest, "more than one Host header") }
        }
        let te = h.tokens("Transfer-Encoding")
        let lengths = h.values("Content-Length")
        if !h.values("Transfer-Encoding").isEmpty {
            guard lengths.isEmpty else {
                throw HTTPParseError(.badRequest, "both Transfer-Encoding and Content-Length are present; send only one")
            }
            guard head.version == .http11 else { throw HTTPParseError(.badRequest, "Transfer-Encoding is not allowed in HTTP/1.0") }
            guard te.last == "chunked" else {
                throw HTTPParseError(.badRequest, "the final transfer coding must be 'chunked', got '\(h.values("Transfer-Encoding").joined(separator: ", ").prefix(64))'")
            }
            guard te.count == 1 else {
                throw HTTPParseError(.notImplemented, "transfer coding '\(te.dropLast().joined(separator: ", ").prefix(64))' is not supported; only 'chunked' is")
            }
            head.framing = .chunked
        } else if !lengths.isEmpty {
            var declared: Int?
            for text in lengths {
                guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw HTTPParseError(.badRequest, "invalid Content-Length '\(text.prefix(32))': expected a decimal number of bytes")
                }
                let digits = text.drop { $0 == "0" }
                let value = digits.count > 18 ? Int.max : (Int(digits) ?? 0)
                if let d = declared, d != value {
                    throw HTTPParseError(.badRequest, "conflicting Content-Length values")
                }
                declared = value
            }
            let n = declared ?? 0
            if n > limits.maxBodyBytes {
                let shown = n == Int.max ? String(lengths[0].prefix(32)) : String(n)
                throw HTTPParseError(.contentTooLarge, "Content-Length \(shown) exceeds the limit of \(limits.maxBodyBytes) bytes")
            }
            head.framing = .length(n)
        }
        let expectations = h.values("Expect")
        if !expectations.isEmpty {
            guard expectations.count == 1, expectations[0].lowercased() == "100-continue" else {
                throw HTTPParseError(.expectationFailed, "unsupported expectation '\(expectations.joined(separator: ", ").prefix(64))'; only '100-continue' is")
            }
            head.expectsContinue = head.version == .http11
        }
        let connection = h.tokens("Connection")
        head.keepAlive = head.version == .http11 ? !connection.contains("close") : connection.contains("keep-alive")
    }
}

import Foundation
