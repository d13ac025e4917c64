// SolverService/Jobs/NPY: NumPy's .npy format (version 1.0) for 1-D little-endian arrays — solutions and product parts.
import Foundation

/// Reads and writes 1-D `.npy` arrays (`<f8`, `<i8`, `<i4`).
///
/// ```
/// "\x93NUMPY" 0x01 0x00 <u16 header length> "{'descr': '<f8', 'fortran_order': False, 'shape': (n,), }" padded with
/// spaces and a final "\n" so that the data starts at a multiple of 64 bytes; then n little-endian values.
/// ```
/// (numpy/lib/format.py, "Format Version 1.0").
enum NPY {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func header(descr: String, count: Int) -> Data {
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(count),), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(dict.utf8.count)
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: dict.utf8)
        return out
    }

    static func encode(_ values: [Double]) -> Data {
        var out = header(descr: "<f8", count: values.count)
        values.withUnsafeBufferPointer { b in
            for v in b { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    static func encode(_ values: [Int]) -> Data {
        var out = header(descr: "<i8", count: values.count)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    static func encode(_ values: [Int32]) -> Data {
        var out = header(descr: "<i4", count: values.count)
        for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    /// The element type, count and data offset of a 1-D array written by `encode`.
    static func layout(_ data: Data) throws -> (descr: String, count: Int, offset: Int) {
        let bytes = [UInt8](data.prefix(10))
        guard bytes.count == 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8), bytes[6] == 1 else {
            throw Failure(description: "not a version 1.0 .npy file")
        }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard data.count >= 10 + headerLength,
              let text = String(data: data.subdata(in: (data.startIndex + 10)..<(data.startIndex + 10 + headerLength)), encoding: .ascii),
              let d = text.range(of: "'descr': '"), let s = text.range(of: "'shape': (") else {
            throw Failure(description: "malformed .npy header")
        }
        let descr = String(text[d.upperBound...].prefix { $0 != "'" })
        guard let count = Int(text[s.upperBound...].prefix { $0 != "," && $0 != ")" }) else {
            throw Failure(description: "malformed .npy shape")
        }
        return (descr, count, 10 + headerLength)
    }

    static func decodeDoubles(_ data: Data) throws -> [Double] {
        let (descr, count, offset) = try layout(data)
        guard descr == "<f8", data.count >= offset + count * 8 else { throw Failure(description: "expected \(count) <f8 values") }
        return data.withUnsafeBytes { raw in
            (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * $0, as: UInt64.self))) }
        }
    }

    static func decodeInts(_ data: Data) throws -> [Int] {
        let (descr, count, offset) = try layout(data)
        guard descr == "<i8", data.count >= offset + count * 8 else { throw Failure(description: "expected \(count) <i8 values") }
        return data.withUnsafeBytes { raw in
            (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * $0, as: Int64.self))) }
        }
    }

    static func decodeInt32s(_ data: Data) throws -> [Int32] {
        let (descr, count, offset) = try layout(data)
        guard descr == "<i4", data.count >= offset + count * 4 else { throw Failure(description: "expected \(count) <i4 values") }
        return data.withUnsafeBytes { raw in
            (0..<count).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Int32.self)) }
        }
    }
}
