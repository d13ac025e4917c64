// SolverService/API/MediaType: Content-Type parsing and Accept negotiation (RFC 9110 §8.3, §12.5.1).

/// A media type `type/subtype; name=value`, lower-cased, with its parameters.
struct MediaType: Equatable, Sendable {
    var type: String
    var subtype: String
    var parameters: [String: String]

    var essence: String { "\(type)/\(subtype)" }

    init?(_ text: String) {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        let essence = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
        let ts = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard ts.count == 2, !ts[0].isEmpty, !ts[1].isEmpty,
              ts.allSatisfy({ $0.utf8.allSatisfy(HTTPHeadParser.isTokenChar) }) else { return nil }
        type = String(ts[0])
        subtype = String(ts[1])
        parameters = [:]
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            var value = kv[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[kv[0].trimmingCharacters(in: .whitespaces).lowercased()] = value
        }
    }

    /// The entries of an `Accept` header, best first (by q, then by specificity), q = 0 removed.
    static func accepted(_ header: String?) -> [MediaType] {
        guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else { return [MediaType("*/*")!] }
        var entries: [(MediaType, Double, Int)] = []
        for (k, item) in header.split(separator: ",").enumerated() {
            guard let m = MediaType(String(item)) else { continue }
            let q = Double(m.parameters["q"] ?? "1") ?? 1
            guard q > 0 else { continue }
            entries.append((m, q, k))
        }
        func specificity(_ m: MediaType) -> Int { m.type == "*" ? 0 : (m.subtype == "*" ? 1 : 2) }
        return entries.sorted { a, b in
            if a.1 != b.1 { return a.1 > b.1 }
            if specificity(a.0) != specificity(b.0) { return specificity(a.0) > specificity(b.0) }
            return a.2 < b.2
        }.map(\.0)
    }

    /// The first of `offers` (essences, in server preference order) the `Accept` header allows.
    static func negotiate(_ header: String?, offers: [String]) -> String? {
        for want in accepted(header) {
            for offer in offers {
                let o = offer.split(separator: "/")
                if want.type == "*" || (want.type == o[0] && (want.subtype == "*" || want.subtype == o[1])) { return offer }
            }
        }
        return nil
    }
}
