// SolverService/API/FastJSON: the API's JSON documents decoded by their own `init(from:)` over a strict, fast parse
// that reads arrays of numbers straight into [Double] and [Int]; JSONDecoder still decides everything else.
import Foundation
import SparseTensor

/// Foundation's `JSONDecoder` takes about 1 µs per array element (each goes through a generic container call): for
/// the 13 KB body of a small solve, ~1.1 ms of the 1.6 ms a `POST /v1/jobs` took (traced in `lsq serve --benchmark`).
/// This path parses a strict subset of JSON (RFC 8259) in one pass — numbers by SparseTensor's correctly rounded
/// `DecimalParser`, arrays of numbers kept as arrays of numbers — and runs the same `init(from:)` over it, so every
/// check and message of the documents stays in one place.
///
/// It never decides differently from JSONDecoder: anything outside the subset (escapes or non-ASCII in strings,
/// duplicate keys, nesting deeper than 64, a number that overflows or underflows to 0), and any value JSONDecoder would convert or refuse
/// (a missing key, a type mismatch, a number that is not an exact `Int`, strings such as "NaN"), makes `decode`
/// return nil, and the caller decodes the body with JSONDecoder instead. The fallback is sticky: one inside a `try?`
/// (VectorDocument tries an object first) still sends the whole body to JSONDecoder.
enum FastJSON {
    /// `T` decoded over the fast parse of `data`, or nil when JSONDecoder must decode it. Errors that `init(from:)`
    /// throws itself (`FieldError`) come through as they are.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T? {
        guard let root = parse(data) else { return nil }
        let state = FastJSONState()
        do {
            let value = try T(from: FastJSONDecoder(value: root, codingPath: [], state: state))
            return state.fellBack ? nil : value
        } catch is FastJSONFallback {
            return nil
        } catch is FastJSONMismatch {
            return nil   // uncaught: JSONDecoder's own message, from JSONDecoder
        } catch {
            if state.fellBack { return nil }
            throw error   // the document's own checks (FieldError), on the values JSONDecoder would have given
        }
    }

    /// The value of a whole document, or nil when it is not in the subset (or not JSON at all).
    static func parse(_ data: Data) -> FastJSONValue? {
        data.withUnsafeBytes { raw -> FastJSONValue? in
            guard let base = raw.baseAddress, raw.count > 0 else { return nil }
            return try? DecimalParser.with { (decimal) throws(SparseError) -> FastJSONValue? in
                var parser = FastJSONParser(b: base.assumingMemoryBound(to: UInt8.self), end: raw.count, decimal: decimal)
                guard let v = parser.value(depth: 0) else { return nil }
                parser.skipSpace()
                return parser.i == parser.end ? v : nil
            }
        } ?? nil
    }
}

/// A parsed JSON value. An array whose elements are all numbers (or that is empty) is `.numbers`.
enum FastJSONValue {
    case null
    case bool(Bool)
    /// The value, and the token as an `Int` when it is integer syntax that fits one.
    case number(Double, integer: Int?)
    case string(String)
    /// The values, and all of them as `Int`s when every token is integer syntax that fits one.
    case numbers([Double], integers: [Int]?)
    case array([FastJSONValue])
    case object([(key: String, value: FastJSONValue)])
}

/// One pass over the bytes; every method returns nil for anything outside the subset.
struct FastJSONParser {
    let b: UnsafePointer<UInt8>
    let end: Int
    let decimal: DecimalParser
    var i = 0
    static let maxDepth = 64

    init(b: UnsafePointer<UInt8>, end: Int, decimal: DecimalParser) {
        self.b = b
        self.end = end
        self.decimal = decimal
    }

    /// JSON whitespace: space, tab, LF, CR.
    mutating func skipSpace() {
        while i < end, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) -> FastJSONValue? {
        skipSpace()
        guard i < end, depth <= Self.maxDepth else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string().map { .string($0) }
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        default: return number().map { .number($0.value, integer: $0.integer) }
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - i >= n else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, finite.
    mutating func number() -> (value: Double, integer: Int?)? {
        let start = i
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if i < end, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, isDigit(b[i]) else { return nil }
        if b[i] == 0x30 {
            i += 1
        } else {
            while i < end, isDigit(b[i]) { i += 1 }
        }
        let integerEnd = i
        if i < end, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < end, isDigit(b[i]) else { return nil }
            while i < end, isDigit(b[i]) { i += 1 }
        }
        if i < end, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < end, isDigit(b[i]) else { return nil }
            while i < end, isDigit(b[i]) { i += 1 }
        }
        let tokenEnd = i
        var j = start
        guard let v = decimal.parseDouble(b, &j, tokenEnd), j == tokenEnd, v.isFinite else { return nil }
        // A nonzero decimal that rounds to 0 (1e-400): JSONDecoder refuses it as not representable.
        if v == 0 {
            for k in start..<tokenEnd {
                let c = b[k]
                if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
                if c >= 0x31 && c <= 0x39 { return nil }
            }
        }
        var integer: Int?
        if integerEnd == tokenEnd {
            let negative = b[start] == UInt8(ascii: "-")
            let digitsStart = negative ? start + 1 : start
            if tokenEnd - digitsStart <= 18 {
                var n = 0
                for k in digitsStart..<tokenEnd { n = n * 10 + Int(b[k] - 0x30) }
                integer = negative ? -n : n
            } else {
                integer = Int(String(decoding: UnsafeBufferPointer(start: b + start, count: tokenEnd - start), as: UTF8.self))
            }
        }
        return (v, integer)
    }

    /// A string of printable ASCII without escapes.
    mutating func string() -> String? {
        i += 1
        let start = i
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(start: b + start, count: i - start), as: UTF8.self)
                i += 1
                return s
            }
            guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else { return nil }
            i += 1
        }
        return nil
    }

    mutating func array(depth: Int) -> FastJSONValue? {
        i += 1
        var doubles: [Double] = []
        var integers: [Int]? = []
        skipSpace()
        if i < end, b[i] == UInt8(ascii: "]") {
            i += 1
            return .numbers([], integers: [])
        }
        // Numbers, while every element is one.
        while true {
            skipSpace()
            guard i < end else { return nil }
            let c = b[i]
            guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else { break }
            guard let n = number() else { return nil }
            doubles.append(n.value)
            if let k = n.integer { integers?.append(k) } else { integers = nil }
            skipSpace()
            guard i < end else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") {
                i += 1
                return .numbers(doubles, integers: integers)
            }
            return nil
        }
        // Some other element: a general array from here on.
        var elements = doubles.indices.map { FastJSONValue.number(doubles[$0], integer: integers?[$0]) }
        while true {
            guard let v = value(depth: depth + 1) else { return nil }
            elements.append(v)
            skipSpace()
            guard i < end else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") {
                i += 1
                return .array(elements)
            }
            return nil
        }
    }

    mutating func object(depth: Int) -> FastJSONValue? {
        i += 1
        var members: [(key: String, value: FastJSONValue)] = []
        var keys = Set<String>()
        skipSpace()
        if i < end, b[i] == UInt8(ascii: "}") {
            i += 1
            return .object([])
        }
        while true {
            skipSpace()
            guard i < end, b[i] == UInt8(ascii: "\""), let key = string(), keys.insert(key).inserted else { return nil }
            skipSpace()
            guard i < end, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            guard let v = value(depth: depth + 1) else { return nil }
            members.append((key, v))
            skipSpace()
            guard i < end else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") {
                i += 1
                return .object(members)
            }
            return nil
        }
    }
}

/// Raised where JSONDecoder must take over; recorded in the state so that a `try?` cannot hide it.
struct FastJSONFallback: Error {}

/// Raised where JSONDecoder would throw too (a keyed container asked of a non-object).
struct FastJSONMismatch: Error {}

final class FastJSONState {
    var fellBack = false

    func fallback() -> FastJSONFallback {
        fellBack = true
        return FastJSONFallback()
    }
}

extension FastJSONValue {
    /// The value as `T`: the scalars and numeric arrays JSONDecoder would give for it, any other `Decodable` through its
    /// `init(from:)`; a fallback for everything JSONDecoder would convert or refuse.
    func decode<T: Decodable>(_ type: T.Type, path: [any CodingKey], state: FastJSONState) throws -> T {
        guard Self.isScalarOrArray(T.self) else {
            return try T(from: FastJSONDecoder(value: self, codingPath: path, state: state))
        }
        switch self {
        case let .numbers(values, integers):
            if T.self == [Double].self { return values as! T }
            if T.self == [Int].self, let integers { return integers as! T }
        case let .number(v, integer):
            if T.self == Double.self { return v as! T }
            if T.self == Int.self, let integer { return integer as! T }
            if T.self == UInt64.self, let integer, integer >= 0 { return UInt64(integer) as! T }
        case let .bool(v):
            if T.self == Bool.self { return v as! T }
        case let .string(s):
            if T.self == String.self { return s as! T }
        case .object, .null, .array:
            break
        }
        throw state.fallback()
    }

    /// Types this path decodes only from the cases above (everything else of theirs is JSONDecoder's).
    private static func isScalarOrArray(_ type: Any.Type) -> Bool {
        type == Double.self || type == Int.self || type == UInt64.self || type == Bool.self || type == String.self
            || type == [Double].self || type == [Int].self
    }
}

struct FastJSONDecoder: Decoder {
    let value: FastJSONValue
    let codingPath: [any CodingKey]
    let state: FastJSONState
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        // Not an object: JSONDecoder throws here too (a type mismatch), so this alone is no reason to hand over;
        // if nothing catches it, `FastJSON.decode` hands the body over to get JSONDecoder's own message.
        guard case let .object(members) = value else { throw FastJSONMismatch() }
        return KeyedDecodingContainer(FastJSONKeyedContainer<Key>(members: members, codingPath: codingPath, state: state))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw state.fallback() }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        FastJSONSingleValueContainer(value: value, codingPath: codingPath, state: state)
    }
}

struct FastJSONKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: FastJSONValue)]
    let codingPath: [any CodingKey]
    let state: FastJSONState

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { members.contains { $0.key == key.stringValue } }

    private func member(_ key: Key) throws -> FastJSONValue {
        guard let m = members.first(where: { $0.key == key.stringValue }) else { throw state.fallback() }
        return m.value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try member(key).decode(type, path: codingPath + [key], state: state)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(key).decode(type, path: codingPath + [key], state: state) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(key).decode(type, path: codingPath + [key], state: state) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(key).decode(type, path: codingPath + [key], state: state) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(key).decode(type, path: codingPath + [key], state: state) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(key).decode(type, path: codingPath + [key], state: state) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw state.fallback() }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { throw state.fallback() }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { throw state.fallback() }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { throw state.fallback() }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { throw state.fallback() }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { throw state.fallback() }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { throw state.fallback() }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { throw state.fallback() }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { throw state.fallback() }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        guard case let .object(m) = try member(key) else { throw state.fallback() }
        return KeyedDecodingContainer(FastJSONKeyedContainer<NestedKey>(members: m, codingPath: codingPath + [key], state: state))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw state.fallback() }
    func superDecoder() throws -> any Decoder { throw state.fallback() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw state.fallback() }
}

struct FastJSONSingleValueContainer: SingleValueDecodingContainer {
    let value: FastJSONValue
    let codingPath: [any CodingKey]
    let state: FastJSONState

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try value.decode(type, path: codingPath, state: state) }
    func decode(_ type: Bool.Type) throws -> Bool { try value.decode(type, path: codingPath, state: state) }
    func decode(_ type: String.Type) throws -> String { try value.decode(type, path: codingPath, state: state) }
    func decode(_ type: Double.Type) throws -> Double { try value.decode(type, path: codingPath, state: state) }
    func decode(_ type: Int.Type) throws -> Int { try value.decode(type, path: codingPath, state: state) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try value.decode(type, path: codingPath, state: state) }
    func decode(_ type: Float.Type) throws -> Float { throw state.fallback() }
    func decode(_ type: Int8.Type) throws -> Int8 { throw state.fallback() }
    func decode(_ type: Int16.Type) throws -> Int16 { throw state.fallback() }
    func decode(_ type: Int32.Type) throws -> Int32 { throw state.fallback() }
    func decode(_ type: Int64.Type) throws -> Int64 { throw state.fallback() }
    func decode(_ type: UInt.Type) throws -> UInt { throw state.fallback() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { throw state.fallback() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { throw state.fallback() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { throw state.fallback() }
}
