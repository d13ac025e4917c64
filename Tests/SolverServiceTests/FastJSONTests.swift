// SolverServiceTests/FastJSONTests: the fast JSON path decodes exactly what JSONDecoder decodes, and hands over the rest.
import Foundation
import Testing
@testable import SolverService
import SparseTensor

@Suite("Fast JSON decoding")
struct FastJSONTests {
    /// Every shape the API's documents use: numeric arrays, optional scalars, a nested object, a UInt64.
    struct Probe: Decodable, Equatable {
        struct Nested: Decodable, Equatable {
            var name: String
            var flag: Bool?
        }
        var values: [Double]
        var indices: [Int]
        var tol: Double?
        var count: Int?
        var seed: UInt64?
        var mode: String
        var nested: Nested?
        var empty: [Double]?
    }

    /// Fast path result and JSONDecoder result (nil when that one throws).
    func both<T: Decodable>(_ type: T.Type, _ text: String) throws -> (fast: T?, reference: T?) {
        let data = Data(text.utf8)
        return (try FastJSON.decode(type, from: data), try? APIJSON.decoder().decode(type, from: data))
    }

    @Test("valid documents: the fast path decodes them, to the same values as JSONDecoder, bit for bit")
    func sameValues() throws {
        var rng = SplitMix64(seed: 99)
        for trial in 0..<200 {
            // Numbers written every way JSON allows: integers, fractions, exponents, shortest and 17 digits, ±0.
            var numbers: [String] = []
            for k in 0..<50 {
                let magnitude = pow(10, Double(Int(rng.next() % 40)) - 20)
                let v = (rng.nextUnit() * 2 - 1) * magnitude
                switch k % 6 {
                case 0: numbers.append("\(v)")
                case 1: numbers.append(String(format: "%.17g", v))
                case 2: numbers.append(String(format: "%.3e", v).replacingOccurrences(of: "e+", with: "E"))
                case 3: numbers.append("\(Int(rng.next() % 2_000_001) - 1_000_000)")
                case 4: numbers.append(k % 12 == 4 ? "-0" : "0.0")
                default: numbers.append(String(format: "%.25f", v))
                }
            }
            let indices = (0..<(trial % 7)).map { _ in "\(Int(rng.next() % 1_000_000))" }
            let text = """
            {"values": [\(numbers.joined(separator: trial % 2 == 0 ? "," : " ,\n\t"))], "indices":[\(indices.joined(separator: ","))],
             "tol": 1e-10, "count": \(trial), "seed": \(rng.next() >> 1), "mode": "lsqr", "nested": {"name": "x y", "flag": false},
             "empty": [ ]}
            """
            let (fast, reference) = try both(Probe.self, text)
            let f = try #require(fast, "the fast path handed over a valid document: \(text.prefix(200))")
            let r = try #require(reference)
            #expect(f == r)
            #expect(f.values.map { $0.bitPattern } == r.values.map { $0.bitPattern })
        }
        // Optional fields absent or null.
        let sparse = try both(Probe.self, #"{"values":[1,2],"indices":[],"mode":"cd","tol":null}"#)
        #expect(sparse.fast != nil && sparse.fast == sparse.reference)
    }

    @Test("outside the subset, or where JSONDecoder converts or refuses: handed over (nil), never a different answer",
          arguments: [
              #"{"values":[1],"indices":[1.0],"mode":"a"}"#,               // 1.0 as Int: JSONDecoder's call
              #"{"values":[1],"indices":[1e2],"mode":"a"}"#,
              #"{"values":["NaN"],"indices":[],"mode":"a"}"#,             // NaN as a string (nonconforming floats)
              #"{"values":[1],"indices":[],"mode":"a\u0062"}"#,           // an escape
              #"{"values":[1],"indices":[],"mode":"é"}"#,                 // non-ASCII
              #"{"values":[1],"indices":[],"mode":"a","mode":"b"}"#,      // a duplicate key
              #"{"values":[1],"indices":[],"mode":"a","seed":18446744073709551615}"#, // UInt64 beyond Int
              #"{"values":[1e400],"indices":[],"mode":"a"}"#,             // not finite
              #"{"values":[1e-400],"indices":[],"mode":"a"}"#,            // a nonzero that rounds to 0
              #"{"values":[2e-324],"indices":[],"mode":"a"}"#,
              #"{"values":[01],"indices":[],"mode":"a"}"#,                // not JSON
              #"{"values":[1,],"indices":[],"mode":"a"}"#,
              #"{"values":[1],"indices":[],"mode":"a"} x"#,
              #"{"values":[1],"indices":[],"mode":5}"#,                   // a type mismatch
              #"{"values":[1],"indices":[]}"#,                            // a missing key
              #"[1, 2]"#,
          ])
    func handedOver(_ text: String) throws {
        let (fast, _) = try both(Probe.self, text)
        #expect(fast == nil)
    }

    @Test("a problem document decodes the same both ways; the API's error messages are unchanged")
    func problemDocuments() throws {
        let body = #"{"A": {"format": "coo", "shape": [3, 2], "rows": [0, 1, 2], "cols": [0, 1, 1], "values": [1.5, -2e-3, 4]}, "y": [1, 2, 3], "options": {"solver": "lsqr", "tol": 1e-12, "maxIter": 50, "seed": 7, "columnScaling": true}}"#
        let fast = try #require(try FastJSON.decode(SolveDocument.self, from: Data(body.utf8)))
        let reference = try APIJSON.decoder().decode(SolveDocument.self, from: Data(body.utf8))
        #expect(fast.A.rows == reference.A.rows && fast.A.cols == reference.A.cols && fast.A.values == reference.A.values)
        #expect(fast.A.rowCount == 3 && fast.A.columnCount == 2)
        guard case let .dense(fy) = fast.y, case let .dense(ry) = reference.y else {
            Issue.record("y should be dense")
            return
        }
        #expect(fy == ry)
        #expect(fast.options.tol == 1e-12 && fast.options.maxIter == 50 && fast.options.seed == 7 && fast.options.columnScaling == true)
        #expect(fast.options.solver == reference.options.solver)
        let sparseY = try #require(try FastJSON.decode(SolveDocument.self, from: Data(#"{"A": {"format": "csr", "shape": [2, 2], "indptr": [0, 1, 2], "indices": [0, 1], "values": [1, 2]}, "y": {"indices": [1], "values": [3]}}"#.utf8)))
        guard case let .sparse(i, v) = sparseY.y else {
            Issue.record("y should be sparse")
            return
        }
        #expect(i == [1] && v == [3])
        // The document's own checks throw the same FieldError through the fast path.
        for bad in [#"{"A": {"format": "coo", "shape": [3, 2], "rows": [0], "cols": [0], "values": [1]}, "y": [1, 2, 3], "extra": 1}"#,
                    #"{"A": {"format": "dok", "shape": [3, 2], "values": []}, "y": []}"#,
                    #"{"A": {"format": "coo", "shape": [3, 2], "rows": [0], "cols": [0], "values": [1]}, "y": {"indices": [0, 1], "values": [1]}}"#] {
            let viaFast: String
            do { _ = try decodeDocument(SolveDocument.self, from: Data(bad.utf8)); viaFast = "no error" } catch { viaFast = error.message }
            let viaReference: String
            do { _ = try APIJSON.decoder().decode(SolveDocument.self, from: Data(bad.utf8)); viaReference = "no error" } catch let e as FieldError {
                viaReference = "\(e.path): \(e.message)"
            } catch { viaReference = "\(error)" }
            #expect(viaFast == viaReference, "\(bad)")
        }
    }

    @Test("random and mutated documents: whenever the fast path answers, JSONDecoder gives the same answer")
    func neverDisagrees() throws {
        var rng = SplitMix64(seed: 4242)
        func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
        // Mostly valid pieces (so that many documents decode), sometimes an edge case or a wrong one.
        func often() -> Bool { rng.next() % 8 != 0 }
        func number() -> String {
            if often() { return pick(["0", "-0", "1", "-17", "3.25", "1e5", "2E-3", "-0.0e+0", "123456789012345678", "1.5e+07",
                                      "\(rng.nextUnit())", "\(Int(rng.next() % 1000))", "\(-rng.nextUnit() * 1e-300)"]) }
            return pick(["1234567890123456789012", "9007199254740993", "1e-320", "4.9e-324", "1e-400", "1.7976931348623157e308",
                         "1e309", "01", "1.", ".5", "+1", "1e", "0x10", "NaN", "-"])
        }
        func array(integers: Bool) -> String {
            let n = Int(rng.next() % 5)
            let sep = often() ? pick([",", " , ", ",\n"]) : pick([",,", " "])
            return "[" + (0..<n).map { _ in
                often() ? (integers ? "\(Int(rng.next() % 100_000))" : number()) : pick([number(), "\"x\"", "null", "true", "1.0"])
            }.joined(separator: sep) + "]"
        }
        func value(_ key: String) -> String {
            switch key {
            case "values", "empty": return often() ? array(integers: false) : pick(["null", "{}", number()])
            case "indices": return often() ? array(integers: true) : pick([array(integers: false), "null", number()])
            case "tol": return often() ? number() : pick(["null", "\"1\"", "[1]"])
            case "count", "seed": return often() ? "\(Int(rng.next() % 1_000_000))" : pick([number(), "null", "-5", "1.0", "[1]"])
            case "mode": return often() ? pick(["\"lsqr\"", "\"a b\"", "\"\""]) : pick(["\"\\u0041\"", "5", "null", "\"é\""])
            default: return pick(["{\"name\": \"n\", \"flag\": true}", "{\"name\": \"n\"}", "{\"flag\": false}", "null", "[]"])
            }
        }
        let keys = ["values", "indices", "tol", "count", "seed", "mode", "nested", "empty", "extra"]
        var answered = 0
        for _ in 0..<3000 {
            var members: [String] = []
            for key in keys where ["values", "indices", "mode"].contains(key) ? often() : rng.next() % 2 == 0 {
                members.append("\"\(key)\": \(value(key))")
            }
            if rng.next() % 10 == 0 { members.append("\"mode\": \"again\"") }
            var text = "{" + members.shuffled(using: &rng).joined(separator: pick([",", ", ", ",\n\t"])) + "}"
            // Sometimes a byte is changed, dropped or repeated.
            if rng.next() % 6 == 0, !text.isEmpty {
                var bytes = Array(text.utf8)
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = pick(Array("{}[]\",:0-e. a".utf8))
                case 1: bytes.remove(at: at)
                default: bytes.insert(bytes[at], at: at)
                }
                text = String(decoding: bytes, as: UTF8.self)
            }
            let (fast, reference) = try both(Probe.self, text)
            if let fast {
                answered += 1
                #expect(reference != nil && fast == reference!, "\(text)")
                #expect(fast.values.map { $0.bitPattern } == reference?.values.map { $0.bitPattern }, "\(text)")
            }
        }
        #expect(answered > 200, "the generator should produce documents the fast path decodes")
    }
}
