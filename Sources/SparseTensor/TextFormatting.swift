// SparseTensor/TextFormatting: numbers → ASCII for the text writers, formatted in parallel blocks, written in order.
import Foundation

enum TextFormatting {
    /// Appends the decimal digits of `v`.
    @inline(__always)
    static func appendInt(_ v: Int, to out: inout [UInt8]) {
        if v < 0 {
            out.append(ASCII.minus)
            appendUnsigned(v.magnitude, to: &out)
        } else {
            appendUnsigned(UInt(v), to: &out)
        }
    }

    @inline(__always)
    static func appendUnsigned(_ v: UInt, to out: inout [UInt8]) {
        if v < 10 {
            out.append(ASCII.zero &+ UInt8(v))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
        var n = 0
        var x = v
        withUnsafeMutableBytes(of: &digits) { scratch in
            while x > 0 {
                scratch[23 - n] = ASCII.zero &+ UInt8(x % 10)
                x /= 10
                n += 1
            }
            out.append(contentsOf: scratch[(24 - n)...])
        }
    }

    /// Appends `v` so that reading it back gives exactly `v`: integers below 2⁵³ as integers, everything else
    /// as Swift's shortest round-trip representation (e.g. `0.1`, `1e-07`, `-2.5e+300`), which strtod,
    /// numpy and scipy all read exactly.
    @inline(__always)
    static func appendDouble(_ v: Double, to out: inout [UInt8]) {
        if v.rounded(.towardZero) == v, abs(v) < 0x1p53 {
            appendInt(Int(v), to: &out)
        } else {
            out.append(contentsOf: v.description.utf8)
        }
    }

    /// Formats `count` items in pieces of about `weightPerPiece` (using `offsets` for weights when given,
    /// e.g. row offsets so that each piece holds a similar number of nonzeros), several pieces at a time
    /// in parallel, and writes every piece in order.
    static func writeInPieces(to writer: AtomicFileWriter, count: Int, offsets: [Int]? = nil, weightPerPiece: Int = 1 << 18,
                              _ format: (Range<Int>, inout [UInt8]) -> Void) throws(SparseError) {
        guard count > 0 else { return }
        // Piece boundaries.
        var bounds = [0]
        if let offsets {
            var start = 0
            while start < count {
                let target = offsets[start] + weightPerPiece
                var lo = start + 1, hi = count
                while lo < hi {  // first row whose end offset reaches the target
                    let mid = (lo + hi) / 2
                    if offsets[mid] < target { lo = mid + 1 } else { hi = mid }
                }
                start = max(start + 1, lo)
                bounds.append(min(start, count))
            }
        } else {
            var start = 0
            while start < count {
                start = min(count, start + weightPerPiece)
                bounds.append(start)
            }
        }
        let pieces = bounds.count - 1
        let group = max(1, Parallelism.workerCount)
        var first = 0
        while first < pieces {
            let n = min(group, pieces - first)
            var outputs = [[UInt8]](repeating: [], count: n)
            outputs.withUnsafeMutableBufferPointer { out in
                Parallelism.run(n) { k in
                    var buffer: [UInt8] = []
                    format(bounds[first + k]..<bounds[first + k + 1], &buffer)
                    out[k] = buffer
                }
            }
            for buffer in outputs {
                try buffer.withRawBytes { (raw) throws(SparseError) in try writer.writeRaw(raw) }
            }
            first += n
        }
    }
}

extension Array where Element == UInt8 {
    /// Typed-throwing `withUnsafeBytes`.
    func withRawBytes(_ body: (UnsafeRawBufferPointer) throws(SparseError) -> Void) throws(SparseError) {
        let result: Result<Void, SparseError> = self.withUnsafeBytes { raw in
            do throws(SparseError) { try body(raw); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }
}
