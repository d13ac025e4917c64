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

    /// The `Accept` ranges with their q-values (a missing or empty header accepts anything).
    static func ranges(_ header: String?) -> [(MediaType, Double)] {
        guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else { return [(MediaType("*/*")!, 1)] }
        return header.split(separator: ",").compactMap { item in
            guard let m = MediaType(String(item)) else { return nil }
            let q = Double(m.parameters["q"] ?? "1") ?? 1
            return (m, min(1, max(0, q)))
        }
    }

    /// The offer (essences in server preference order) with the highest q-value, where each offer takes
    /// the q of the most specific range that matches it (so `application/json;q=0, */*` excludes JSON).
    static func negotiate(_ header: String?, offers: [String]) -> String? {
        let ranges = ranges(header)
        var best: (String, Double)?
        for offer in offers {
            let o = offer.split(separator: "/").map(String.init)
            var match: (specificity: Int, q: Double)?
            for (m, q) in ranges {
                let specificity: Int
                if m.type == o[0], m.subtype == o[1] { specificity = 2 }
                else if m.type == o[0], m.subtype == "*" { specificity = 1 }
                else if m.type == "*" { specificity = 0 }
                else { continue }
                if match == nil || specificity > match!.specificity { match = (specificity, q) }
            }
            if let match, match.q > 0, best == nil || match.q > best!.1 { best = (offer, match.q) }
        }
        return best?.0
    }
}
