// SparseTensor/NPY: numpy's `.npy` array format (NEP 1, "A simple file format for NumPy arrays"), versions 1.0–3.0.
//
// ```
// \x93NUMPY  major minor  header_len (u16 LE for 1.x, u32 LE for 2.x/3.x)
// {'descr': '<f8', 'fortran_order': False, 'shape': (3,), }   ← Python literal, space-padded, '\n'-terminated
// raw little-endian data, C order
// ```
// Supported element types: little-endian (or byte-order-free) floats f4/f8, signed i1–i8, unsigned u1–u8, bool b1,
// and byte strings `S`/unicode `U` for scipy's `format` entry. Big-endian, structured and object arrays are rejected.
import Foundation

/// A parsed `.npy` header.
struct NPYHeader: Equatable {
    enum Kind: Character { case float = "f", signed = "i", unsigned = "u", bool = "b", bytes = "S", unicode = "U" }
    var kind: Kind
    var itemSize: Int
    var fortranOrder: Bool
    var shape: [Int]
    /// Offset of the data from the start of the `.npy` bytes.
    var dataOffset: Int
    /// Elements stored most significant byte first ('>', as numpy writes on request or on big-endian machines).
    var bigEndian = false

    /// Number of elements (1 for a 0-d array), nil on overflow.
    var elementCount: Int? {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    var descr: String { "\(kind == .bytes || kind == .bool || itemSize == 1 ? "|" : bigEndian ? ">" : "<")\(kind.rawValue)\(itemSize)" }
}

enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// Parses the header. `what` names the array in messages ("array 'indptr'", or the file itself).
    static func parseHeader(_ raw: UnsafeRawBufferPointer, file: String, what: String) throws(SparseError) -> NPYHeader {
        func fail(_ reason: String) -> SparseError { .malformedFile(file: file, line: 0, reason: "\(what): \(reason)") }
        guard raw.count >= 10, raw.starts(with: magic) else {
            throw fail("not a .npy array (expected the magic bytes \\x93NUMPY)")
        }
        let major = raw[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(raw[8]) | Int(raw[9]) << 8
            headerStart = 10
        case 2, 3:
            guard raw.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
            headerStart = 12
        default:
            throw .unsupportedFormat(file: file, reason: "\(what): .npy format version \(major).\(raw[7]) (supported: 1.0, 2.0, 3.0)")
        }
        guard headerStart + headerLength <= raw.count else {
            throw fail("truncated .npy header: it declares \(headerLength) bytes but only \(raw.count - headerStart) follow")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[headerStart..<(headerStart + headerLength)]), as: UTF8.self)
        let dict = try parseDictionary(text, fail: fail)
        guard let descrValue = dict["descr"] else { throw fail("the header has no 'descr' (element type): \(text.prefix(120))") }
        guard case let .string(descr) = descrValue else {
            throw .unsupportedFormat(file: file, reason: "\(what): structured dtype \(text.prefix(120)) (expected a plain numeric type such as '<f8')")
        }
        guard let fortranValue = dict["fortran_order"], case let .bool(fortran) = fortranValue else {
            throw fail("the header has no 'fortran_order': \(text.prefix(120))")
        }
        guard let shapeValue = dict["shape"], case let .tuple(shape) = shapeValue else {
            throw fail("the header has no 'shape' tuple: \(text.prefix(120))")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative dimension in shape \(shape)") }
        // descr: byte order, kind, size.
        var chars = Array(descr)
        guard chars.count >= 2 else { throw fail("element type '\(descr)' is not understood") }
        let order = chars.removeFirst()
        guard let kind = NPYHeader.Kind(rawValue: chars.removeFirst()), let size = Int(String(chars)), size > 0 else {
            throw .unsupportedFormat(file: file, reason: "\(what): element type '\(descr)' (supported: floats '<f4'/'<f8', integers '<i1'…'<i8'/'<u1'…'<u8', bool '|b1', strings)")
        }
        guard order == "<" || order == "|" || order == "=" || order == ">" else {
            throw fail("element type '\(descr)' has an unknown byte-order mark '\(order)'")
        }
        switch kind {
        case .float: guard size == 4 || size == 8 else { throw .unsupportedFormat(file: file, reason: "\(what): float of \(size) bytes ('\(descr)'); use float32 or float64") }
        case .signed, .unsigned: guard [1, 2, 4, 8].contains(size) else { throw fail("integer of \(size) bytes ('\(descr)')") }
        case .bool: guard size == 1 else { throw fail("bool of \(size) bytes ('\(descr)')") }
        case .bytes: break
        case .unicode: break
        }
        let itemSize = kind == .unicode ? 4 * size : size
        guard !(order == ">" && kind == .unicode) else {
            throw .unsupportedFormat(file: file, reason: "\(what): big-endian unicode string '\(descr)'; save it as '<U' or bytes")
        }
        return NPYHeader(kind: kind, itemSize: itemSize, fortranOrder: fortran, shape: shape,
                         dataOffset: headerStart + headerLength, bigEndian: order == ">" && size > 1)
    }

    enum Literal { case string(String), bool(Bool), tuple([Int]), other }

    /// The Python dict literal numpy writes: `{'key': value, …}` with string, bool and int-tuple values.
    private static func parseDictionary(_ text: String, fail: (String) -> SparseError) throws(SparseError) -> [String: Literal] {
        var s = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard s.first == "{", s.last == "}" else { throw fail("the header is not a Python dict: \(text.prefix(120))") }
        s = s.dropFirst().dropLast()
        var result: [String: Literal] = [:]
        func skipSpaces() { while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() } }
        func readQuoted() -> String? {
            guard let q = s.first, q == "'" || q == "\"" else { return nil }
            s.removeFirst()
            guard let close = s.firstIndex(of: q) else { return nil }
            let value = String(s[..<close])
            s = s[s.index(after: close)...]
            return value
        }
        while true {
            skipSpaces()
            if s.isEmpty { break }
            guard let key = readQuoted() else { throw fail("cannot read a key in the header \(text.prefix(120))") }
            skipSpaces()
            guard s.first == ":" else { throw fail("expected ':' after '\(key)' in the header") }
            s.removeFirst()
            skipSpaces()
            if s.first == "'" || s.first == "\"" {
                guard let v = readQuoted() else { throw fail("unterminated string in the header") }
                result[key] = .string(v)
            } else if s.hasPrefix("True") {
                s = s.dropFirst(4)
                result[key] = .bool(true)
            } else if s.hasPrefix("False") {
                s = s.dropFirst(5)
                result[key] = .bool(false)
            } else if s.first == "(" {
                guard let close = s.firstIndex(of: ")") else { throw fail("unterminated tuple in the header") }
                let inner = s[s.index(after: s.startIndex)..<close]
                s = s[s.index(after: close)...]
                var dims: [Int] = []
                for part in inner.split(separator: ",") {
                    let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
                    if t.isEmpty { continue }
                    guard let d = Int(t) else { throw fail("shape entry '\(t)' is not an integer (or is too large)") }
                    dims.append(d)
                }
                result[key] = .tuple(dims)
            } else {
                // Lists (structured dtypes) and anything else: skip to the next top-level comma.
                var depth = 0
                while let c = s.first {
                    if c == "[" || c == "(" { depth += 1 }
                    if c == "]" || c == ")" { depth -= 1 }
                    if c == "," && depth == 0 { break }
                    s.removeFirst()
                }
                result[key] = .other
            }
            skipSpaces()
            if s.first == "," { s.removeFirst() }
        }
        return result
    }

    /// Checks the data is all there and its conversion fits the budget (`bytesPerElement` of output per element).
    static func checkData(_ raw: UnsafeRawBufferPointer, _ h: NPYHeader, file: String, what: String,
                          budget: MemoryBudget, bytesPerElement: Double) throws(SparseError) -> Int {
        guard let count = h.elementCount else {
            throw .exceedsMemoryBudget(what: "reading \(file) (\(what) of shape \(h.shape))", bytes: .infinity,
                                       budget: budget.bytes, detail: "the element count overflows a 64-bit integer")
        }
        try budget.check(Double(count) * bytesPerElement, for: "reading \(file) (\(what) of shape \(h.shape))")
        let needed = count.multipliedReportingOverflow(by: h.itemSize)
        guard !needed.overflow, raw.count - h.dataOffset >= needed.partialValue else {
            throw .malformedFile(file: file, line: 0,
                                 reason: "\(what): truncated: shape \(h.shape) of \(h.descr) needs \(count * h.itemSize) bytes of data, found \(raw.count - h.dataOffset)")
        }
        return count
    }

    /// The `size`-byte word of element `k`, in the machine's byte order.
    @inline(__always)
    static func word<T: FixedWidthInteger>(_ p: UnsafeRawPointer, _ k: Int, _ h: NPYHeader, as: T.Type) -> T {
        let raw = p.loadUnaligned(fromByteOffset: MemoryLayout<T>.size * k, as: T.self)
        return h.bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
    }

    /// Element `k` as a Double (floats exactly, integers converted; a u8 beyond Int64 too).
    @inline(__always)
    static func element(_ p: UnsafeRawPointer, _ k: Int, _ h: NPYHeader) -> Double {
        switch (h.kind, h.itemSize) {
        case (.float, 8): return Double(bitPattern: word(p, k, h, as: UInt64.self))
        case (.float, _): return Double(Float(bitPattern: word(p, k, h, as: UInt32.self)))
        case (.unsigned, 8): return Double(word(p, k, h, as: UInt64.self))
        default: return Double(integer(p, k, h) ?? 0)  // every other numeric kind fits Int
        }
    }

    /// Element `k` as an integer (nil for a u8 beyond Int64).
    @inline(__always)
    static func integer(_ p: UnsafeRawPointer, _ k: Int, _ h: NPYHeader) -> Int? {
        switch (h.kind, h.itemSize) {
        case (.signed, 8): return Int(word(p, k, h, as: Int64.self))
        case (.signed, 4): return Int(word(p, k, h, as: Int32.self))
        case (.signed, 2): return Int(word(p, k, h, as: Int16.self))
        case (.signed, _): return Int(p.load(fromByteOffset: k, as: Int8.self))
        case (.unsigned, 8): let v = word(p, k, h, as: UInt64.self)
            return v <= UInt64(Int.max) ? Int(v) : nil
        case (.unsigned, 4): return Int(word(p, k, h, as: UInt32.self))
        case (.unsigned, 2): return Int(word(p, k, h, as: UInt16.self))
        case (.unsigned, _), (.bool, _): return Int(p.load(fromByteOffset: k, as: UInt8.self))
        default: return nil
        }
    }

    /// All elements as Doubles (numeric kinds only), each required finite.
    static func doubles(_ raw: UnsafeRawBufferPointer, _ h: NPYHeader, file: String, what: String,
                        budget: MemoryBudget) throws(SparseError) -> [Double] {
        guard h.kind != .bytes, h.kind != .unicode else {
            throw .malformedFile(file: file, line: 0, reason: "\(what): expected numbers, found strings ('\(h.descr)')")
        }
        let count = try checkData(raw, h, file: file, what: what, budget: budget, bytesPerElement: 8)
        let p = raw.baseAddress! + h.dataOffset
        var out = [Double](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            if h.kind == .float && h.itemSize == 8 && !h.bigEndian {
                if count > 0 { memcpy(o.baseAddress!, p, count * 8) }
            } else {
                for k in 0..<count { o[k] = element(p, k, h) }
            }
        }
        if let bad = out.firstIndex(where: { !$0.isFinite }) {
            throw .malformedFile(file: file, line: 0, reason: "\(what): element \(bad) is \(out[bad]); values must be finite")
        }
        return out
    }

    /// All elements as integers (integer kinds only).
    static func integers(_ raw: UnsafeRawBufferPointer, _ h: NPYHeader, file: String, what: String,
                         budget: MemoryBudget) throws(SparseError) -> [Int] {
        guard h.kind == .signed || h.kind == .unsigned else {
            throw .malformedFile(file: file, line: 0, reason: "\(what): expected integers, found '\(h.descr)'")
        }
        let count = try checkData(raw, h, file: file, what: what, budget: budget, bytesPerElement: 8)
        let p = raw.baseAddress! + h.dataOffset
        var out = [Int](repeating: 0, count: count)
        for k in 0..<count {
            guard let v = integer(p, k, h) else {
                throw .malformedFile(file: file, line: 0, reason: "\(what): element \(k) does not fit a 64-bit signed integer")
            }
            out[k] = v
        }
        return out
    }

    /// Indices into `0..<limit` as 32-bit integers, checked.
    static func indices(_ raw: UnsafeRawBufferPointer, _ h: NPYHeader, file: String, what: String, limit: Int,
                        limitName: String, budget: MemoryBudget) throws(SparseError) -> [Int32] {
        guard h.kind == .signed || h.kind == .unsigned else {
            throw .malformedFile(file: file, line: 0, reason: "\(what): expected integer indices, found '\(h.descr)'")
        }
        let count = try checkData(raw, h, file: file, what: what, budget: budget, bytesPerElement: 4)
        let p = raw.baseAddress! + h.dataOffset
        var out = [Int32](repeating: 0, count: count)
        var bad = -1
        out.withUnsafeMutableBufferPointer { o in
            for k in 0..<count {
                guard let v = integer(p, k, h), v >= 0, v < limit else { bad = k; return }
                o[k] = Int32(truncatingIfNeeded: v)
            }
        }
        if bad >= 0 {
            let v = integer(p, bad, h).map(String.init) ?? "out of range"
            throw .malformedFile(file: file, line: 0,
                                 reason: "\(what): element \(bad) is \(v), outside 0..<\(limit) (\(limitName))")
        }
        return out
    }

    /// A string (scipy's `format`: `|S3` or `<U3`, 0-d).
    static func string(_ raw: UnsafeRawBufferPointer, _ h: NPYHeader, file: String, what: String) throws(SparseError) -> String {
        guard h.kind == .bytes || h.kind == .unicode, h.elementCount == 1,
              raw.count - h.dataOffset >= h.itemSize else {
            throw .malformedFile(file: file, line: 0, reason: "\(what): expected a single string such as b'csr', found '\(h.descr)' of shape \(h.shape)")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: raw[h.dataOffset..<(h.dataOffset + h.itemSize)])
        if h.kind == .bytes {
            return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        for k in 0..<(h.itemSize / 4) {
            let v = bytes.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)
            if v == 0 { break }
            if let s = Unicode.Scalar(UInt32(littleEndian: v)) { scalars.append(s) }
        }
        return String(scalars)
    }

    // MARK: - Writing

    /// A version 1.0 header (2.0 when longer than 65535 bytes), padded with spaces to a multiple of 64 bytes.
    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        var prefix = 10
        if dict.count + 11 > 65535 { prefix = 12 }
        let total = (prefix + dict.count + 1 + 63) / 64 * 64
        dict.append(contentsOf: [UInt8](repeating: ASCII.space, count: total - prefix - dict.count - 1))
        dict.append(ASCII.newline)
        var out = magic
        if prefix == 10 {
            out += [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)]
        } else {
            out += [2, 0] + (0..<4).map { UInt8((dict.count >> (8 * $0)) & 0xFF) }
        }
        return out + dict
    }

    /// A 1-D float64 array.
    static func writeVector(_ x: [Double], to url: URL) throws(SparseError) {
        try writeAtomically(to: url) { (w) throws(SparseError) in
            try w.write(header(descr: "<f8", shape: [x.count]))
            let result: Result<Void, SparseError> = x.withUnsafeBytes { raw in
                do throws(SparseError) { try w.writeRaw(raw); return .success(()) } catch { return .failure(error) }
            }
            try result.get()
        }
    }

    /// A dense vector from a 1-D array, or a 2-D one with a single row or column.
    static func readVector(_ raw: UnsafeRawBufferPointer, name: String, options: ReadOptions) throws(SparseError) -> [Double] {
        let h = try parseHeader(raw, file: name, what: "array")
        let isVector = h.shape.count == 1 || (h.shape.count == 2 && (h.shape[0] == 1 || h.shape[1] == 1))
        guard isVector else {
            throw .malformedFile(file: name, line: 0, reason: "expected a 1-D array (or a single row or column), found shape \(h.shape)")
        }
        return try doubles(raw, h, file: name, what: "array", budget: options.budget)
    }
}

/// 1-D `.npy` arrays held in memory, for code in this package that stores arrays as `.npy` bytes
/// (the service's solution and product results). Same header writer and checked readers as the files above.
package enum NPYArray {
    package static func encode(_ values: [Double]) -> Data {
        var out = Data(NPY.header(descr: "<f8", shape: [values.count]))
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    package static func encode(_ values: [Int]) -> Data {
        var out = Data(NPY.header(descr: "<i8", shape: [values.count]))
        values.map { Int64($0).littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    package static func encode(_ values: [Int32]) -> Data {
        var out = Data(NPY.header(descr: "<i4", shape: [values.count]))
        values.map(\.littleEndian).withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    /// True when `data` is a 1-D array whose header parses and whose data is exactly all there
    /// (a file cut short, or padded, is not complete).
    package static func isComplete(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            guard let h = try? NPY.parseHeader(raw, file: "", what: "array"), h.shape.count == 1,
                  let count = h.elementCount else { return false }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: h.itemSize)
            return !overflow && raw.count == h.dataOffset + bytes
        }
    }

    package static func decodeDoubles(_ data: Data, name: String) throws(SparseError) -> [Double] {
        try read(data) { (raw) throws(SparseError) in
            try NPY.doubles(raw, try NPY.parseHeader(raw, file: name, what: "array"), file: name, what: "array", budget: .unlimited)
        }
    }

    package static func decodeInts(_ data: Data, name: String) throws(SparseError) -> [Int] {
        try read(data) { (raw) throws(SparseError) in
            try NPY.integers(raw, try NPY.parseHeader(raw, file: name, what: "array"), file: name, what: "array", budget: .unlimited)
        }
    }

    package static func decodeInt32s(_ data: Data, name: String) throws(SparseError) -> [Int32] {
        try read(data) { (raw) throws(SparseError) in
            try NPY.indices(raw, try NPY.parseHeader(raw, file: name, what: "array"), file: name, what: "array",
                            limit: Int(Int32.max) + 1, limitName: "32-bit indices", budget: .unlimited)
        }
    }

    private static func read<T>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(SparseError) -> T) throws(SparseError) -> T {
        let result: Result<T, SparseError> = data.withUnsafeBytes { raw in
            do throws(SparseError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
