// SolverService/API/Multipart: splitting a multipart/form-data body into its parts (RFC 7578, RFC 2046 §5.1).
import Foundation

/// One part of a `multipart/form-data` body. `body` is a slice of the request body (no copy).
struct MultipartPart {
    var name: String
    /// The file name the client gave — used only to guess the format from its extension, never opened.
    var filename: String?
    var contentType: MediaType?
    var body: Data
}

/// Parses `multipart/form-data`: `--boundary CRLF headers CRLF CRLF content CRLF --boundary … --boundary--`.
///
/// Strict: the first delimiter must appear (after an optional preamble), every part needs a
/// `Content-Disposition: form-data; name="…"`, part headers are at most 8 KiB, at most `maxParts` parts,
/// and the closing delimiter must be present (a truncated upload is refused, not half-read).
enum Multipart {
    static func parse(_ data: Data, boundary: String, maxParts: Int = 16) throws(ServiceError) -> [MultipartPart] {
        func bad(_ m: String) -> ServiceError { ServiceError(.badRequest, "invalid_multipart", "multipart body: \(m)") }
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else { throw bad("the boundary must be 1 to 70 characters") }
        let dash = Data("--\(boundary)".utf8)
        let delimiter = Data("\r\n--\(boundary)".utf8)
        // The first delimiter: at the very start, or after a preamble (then preceded by CRLF).
        var cursor: Data.Index
        if data.starts(with: dash) {
            cursor = data.startIndex + dash.count
        } else if let r = data.range(of: delimiter) {
            cursor = r.upperBound
        } else {
            throw bad("the boundary '\(boundary.prefix(70))' from the Content-Type does not occur in the body")
        }
        var parts: [MultipartPart] = []
        while true {
            // After a delimiter: "--" closes, CRLF starts a part (transport padding spaces allowed).
            while cursor < data.endIndex, data[cursor] == 0x20 || data[cursor] == 0x09 { cursor += 1 }
            if data[cursor..<min(data.endIndex, cursor + 2)] == Data("--".utf8) { return parts }
            guard data[cursor..<min(data.endIndex, cursor + 2)] == Data("\r\n".utf8) else {
                throw bad("expected CRLF after a boundary delimiter")
            }
            cursor += 2
            guard parts.count < maxParts else { throw bad("more than \(maxParts) parts") }
            let headerSearchEnd = min(data.endIndex, cursor + 8192)
            guard let headEnd = data.range(of: Data("\r\n\r\n".utf8), in: cursor..<headerSearchEnd) ??
                    (data[cursor..<min(data.endIndex, cursor + 2)] == Data("\r\n".utf8) ? cursor..<(cursor + 2) : nil) else {
                throw bad("part \(parts.count + 1) has no end of headers within 8 KiB")
            }
            let headText = String(decoding: data[cursor..<headEnd.lowerBound], as: UTF8.self)
            let contentStart = headEnd.upperBound
            guard let next = data.range(of: delimiter, in: contentStart..<data.endIndex) else {
                throw bad("part \(parts.count + 1) is not terminated by the boundary (truncated upload?)")
            }
            var part = try headers(headText, index: parts.count + 1)
            part.body = data[contentStart..<next.lowerBound]
            parts.append(part)
            cursor = next.upperBound
        }
    }

    private static func headers(_ text: String, index: Int) throws(ServiceError) -> MultipartPart {
        var name: String?
        var filename: String?
        var type: MediaType?
        for line in text.components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw ServiceError(.badRequest, "invalid_multipart", "multipart part \(index): malformed header line '\(line.prefix(60))'")
            }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "content-disposition":
                let params = parameters(value)
                guard params.first?.0 == "form-data" else {
                    throw ServiceError(.badRequest, "invalid_multipart", "multipart part \(index): Content-Disposition must be form-data")
                }
                name = params.first { $0.0 == "name" }?.1
                filename = params.first { $0.0 == "filename" }?.1
            case "content-type":
                type = MediaType(value)
            default:
                continue
            }
        }
        guard let name, !name.isEmpty else {
            throw ServiceError(.badRequest, "invalid_multipart", "multipart part \(index): Content-Disposition needs a name")
        }
        return MultipartPart(name: name, filename: filename, contentType: type, body: Data())
    }

    /// `form-data; name="A"; filename="a b.mtx"` → [("form-data", ""), ("name", "A"), ("filename", "a b.mtx")].
    static func parameters(_ value: String) -> [(String, String)] {
        var out: [(String, String)] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var items: [String] = []
        for ch in value {
            if escaped { current.append(ch); escaped = false; continue }
            if ch == "\\" && inQuotes { escaped = true; continue }
            if ch == "\"" { inQuotes.toggle(); continue }
            if ch == ";" && !inQuotes { items.append(current); current = ""; continue }
            current.append(ch)
        }
        items.append(current)
        for item in items {
            let kv = item.split(separator: "=", maxSplits: 1)
            let key = kv.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            out.append((key, kv.count > 1 ? kv[1].trimmingCharacters(in: .whitespaces) : ""))
        }
        return out
    }
}
