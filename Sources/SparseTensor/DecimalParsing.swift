// SparseTensor/DecimalParsing: correctly rounded decimal → Double and decimal → Int for the text readers.
//
// Three tiers, each exact:
// 1. Clinger's fast path (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990):
//    a significand w ≤ 2⁵³ and a power of ten |q| ≤ 22 are both exact doubles, so w·10^q (or w/10^−q) is one
//    correctly rounded IEEE operation.
// 2. The Eisel–Lemire step (D. Lemire, "Number parsing at a gigabyte per second", Software: Practice and
//    Experience 51(8), 2021): w·5^q·2^q with a 128-bit truncation of 5^q; when the truncation error
//    (< 2⁶⁴ units of the 192-bit product) cannot change the rounding, the result is exact. Covers the
//    17-digit values "%.17g" and shortest round-trip writers produce.
// 3. `strtod` for everything else (more than 19 significant digits, subnormal or overflowing results,
//    the rare products whose rounding is ambiguous).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ASCII codes the text readers branch on.
enum ASCII {
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let percent: UInt8 = 0x25
    static let hash: UInt8 = 0x23
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30

    /// Space, tab and carriage return separate tokens; `\r` so that CRLF files read like LF files.
    @inline(__always) static func isBlank(_ c: UInt8) -> Bool { c == space || c == tab || c == carriageReturn }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- zero < 10 }
}

/// Runs of decimal digits, eight at a time (SWAR: one 64-bit load, a mask of the non-digit bytes, three
/// multiplications), so a 17-digit significand costs three steps instead of seventeen dependent multiply-adds.
enum DigitRun {
    /// 10ⁿ for n in 0…8, read through a pointer (`DecimalParser.digitPowers`): a switch compiles to an indirect
    /// jump and a tuple is rebuilt on the stack at every call.
    static let powersOfTen: [UInt64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// The number whose eight decimal digits (values 0…9, most significant first) are the bytes of `x` in
    /// memory order (byte 0 = lowest on a little-endian load).
    ///
    /// ```
    /// bytes d0 … d7  →  d0d1, d2d3, d4d5, d6d7 in bytes 0, 2, 4, 6    (x·10 + x≫8)
    ///                →  high word: d0d1·10⁶ + d2d3·10⁴ + d4d5·10² + d6d7
    /// ```
    @inline(__always) static func value(ofEightDigits x: UInt64) -> UInt64 {
        let pairs = (x &* 10) &+ (x >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let high = (pairs & mask) &* (100 | 1_000_000 << 32)       // d0d1·10⁶ and d4d5·10² in the high word
        let low = ((pairs >> 16) & mask) &* (1 | 10_000 << 32)      // d2d3·10⁴ and d6d7 in the high word
        return (high &+ low) >> 32
    }

    /// Appends the digits starting at `i` to `w` (w·10ⁿ + digits, wrapping), advances `i` past them and
    /// returns how many there were.
    @inline(__always)
    static func accumulate(_ b: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ w: inout UInt64,
                           powers: UnsafePointer<UInt64>) -> Int {
        let start = i
        while i + 8 <= end {
            // Digit bytes become 0…9; any other byte gets its top bit set (by the +0x76, or already had it).
            let x = UInt64(littleEndian: UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self)) ^ 0x3030_3030_3030_3030
            let nonDigits = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
            let n = nonDigits == 0 ? 8 : nonDigits.trailingZeroBitCount >> 3   // leading digits in this word
            if n == 0 { return i - start }
            // Shift the n digits to the top so the word reads as 0…0 d0 … d(n−1).
            let digits = n == 8 ? x : x << UInt64(64 - 8 * n)
            w = w &* powers[n] &+ value(ofEightDigits: digits)
            i += n
            if n < 8 { return i - start }
        }
        while i < end, ASCII.isDigit(b[i]) {
            w = w &* 10 &+ UInt64(b[i] &- ASCII.zero)
            i += 1
        }
        return i - start
    }
}

/// The 128-bit truncations of 5^q for q in `minimumExponent...maximumExponent`, computed once with exact
/// big-integer arithmetic (no table copied from anywhere).
///
/// ```
/// 5^q ≈ F · 2^e,   2¹²⁷ ≤ F < 2¹²⁸,   F ≤ 5^q · 2^−e < F + 1
/// ```
/// `F` is exact for 0 ≤ q ≤ 55 (5⁵⁵ < 2¹²⁸); for q < 0 it is ⌊2^k / 5^−q⌋ with k chosen so F has 128 bits.
enum PowersOfFive {
    static let minimumExponent = -342
    static let maximumExponent = 308
    /// Interleaved (high, low) 64-bit words of F at index `2·(q − minimumExponent)`, and the binary exponent e
    /// of each entry at `q − minimumExponent`.
    static let table: (significands: [UInt64], exponents: [Int32]) = build()

    /// Little-endian 32-bit limbs; just enough arithmetic for this table.
    private static func build() -> (significands: [UInt64], exponents: [Int32]) {
        let count = maximumExponent - minimumExponent + 1
        var significands = [UInt64](repeating: 0, count: 2 * count)
        var exponents = [Int32](repeating: 0, count: count)

        func bitLength(_ x: [UInt32]) -> Int {
            guard let top = x.lastIndex(where: { $0 != 0 }) else { return 0 }
            return top * 32 + (32 - x[top].leadingZeroBitCount)
        }
        /// Bit `i` of x (0 = least significant).
        func bit(_ x: [UInt32], _ i: Int) -> UInt64 {
            let limb = i / 32
            return limb < x.count ? UInt64((x[limb] >> UInt32(i % 32)) & 1) : 0
        }
        func times5(_ x: inout [UInt32]) {
            var carry: UInt64 = 0
            for k in 0..<x.count {
                let t = UInt64(x[k]) * 5 + carry
                x[k] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            if carry != 0 { x.append(UInt32(carry)) }
        }
        func greaterOrEqual(_ a: [UInt32], _ b: [UInt32]) -> Bool {
            for k in stride(from: max(a.count, b.count) - 1, through: 0, by: -1) {
                let x = k < a.count ? a[k] : 0, y = k < b.count ? b[k] : 0
                if x != y { return x > y }
            }
            return true
        }
        func subtract(_ a: inout [UInt32], _ b: [UInt32]) {  // a −= b, a ≥ b
            var borrow: Int64 = 0
            for k in 0..<a.count {
                var t = Int64(a[k]) - (k < b.count ? Int64(b[k]) : 0) - borrow
                borrow = t < 0 ? 1 : 0
                if t < 0 { t += 1 << 32 }
                a[k] = UInt32(t)
            }
        }
        func shiftLeft1(_ a: inout [UInt32]) {
            var carry: UInt32 = 0
            for k in 0..<a.count {
                let next = a[k] >> 31
                a[k] = a[k] << 1 | carry
                carry = next
            }
            if carry != 0 { a.append(carry) }
        }

        // q ≥ 0: the top 128 bits of 5^q.
        var power: [UInt32] = [1]
        for q in 0...maximumExponent {
            if q > 0 { times5(&power) }
            let b = bitLength(power)
            var hi: UInt64 = 0, lo: UInt64 = 0
            for i in 0..<128 {
                let source = b - 1 - i  // bit of 5^q that lands at position 127 − i of F
                let v: UInt64 = source >= 0 ? bit(power, source) : 0
                if i < 64 { hi |= v << UInt64(63 - i) } else { lo |= v << UInt64(127 - i) }
            }
            let index = q - minimumExponent
            significands[2 * index] = hi
            significands[2 * index + 1] = lo
            exponents[index] = Int32(b - 128)
        }
        // q < 0: F = ⌊2^(b+127) / 5^p⌋ where 5^p has b bits, so 2¹²⁷ < F < 2¹²⁸.
        // Binary long division; the first quotient bit is 1 with remainder 2^b − 5^p, then 127 more bits.
        power = [1]
        for p in 1...(-minimumExponent) {
            times5(&power)
            let b = bitLength(power)
            var remainder = [UInt32](repeating: 0, count: b / 32 + 1)
            remainder[b / 32] = 1 << UInt32(b % 32)  // 2^b
            subtract(&remainder, power)
            var hi: UInt64 = 1 << 63, lo: UInt64 = 0
            for i in 1..<128 {
                shiftLeft1(&remainder)
                if greaterOrEqual(remainder, power) {
                    subtract(&remainder, power)
                    if i < 64 { hi |= 1 << UInt64(63 - i) } else { lo |= 1 << UInt64(127 - i) }
                }
            }
            let index = -p - minimumExponent
            significands[2 * index] = hi
            significands[2 * index + 1] = lo
            exponents[index] = Int32(-(b + 127))
        }
        return (significands, exponents)
    }
}

/// Pointers to the power tables, fetched once per parsing task so the hot loop does no lazy-initialisation check.
package struct DecimalParser {
    let significands: UnsafePointer<UInt64>
    let exponents: UnsafePointer<Int32>
    let powersOfTen: UnsafePointer<Double>
    let digitPowers: UnsafePointer<UInt64>

    /// Runs `body` with a parser whose tables stay valid for the duration.
    package static func with<R>(_ body: (DecimalParser) throws(SparseError) -> R) throws(SparseError) -> R {
        let (s, e) = PowersOfFive.table
        let t = exactPowersOfTen, d = DigitRun.powersOfTen
        let result: Result<R, SparseError> = s.withUnsafeBufferPointer { sp in
            e.withUnsafeBufferPointer { ep in
                t.withUnsafeBufferPointer { tp in
                    d.withUnsafeBufferPointer { dp in
                        do throws(SparseError) {
                            return .success(try body(DecimalParser(significands: sp.baseAddress!, exponents: ep.baseAddress!,
                                                                   powersOfTen: tp.baseAddress!, digitPowers: dp.baseAddress!)))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
            }
        }
        return try result.get()
    }

    /// Exact powers of ten 10⁰…10²² (every one is a double).
    static let exactPowersOfTen: [Double] = (0...22).map { k in
        var p = 1.0
        for _ in 0..<k { p *= 10 }
        return p
    }

    /// Parses a decimal floating-point token starting at `i`: `[+-]digits[.digits][(e|E)[+-]digits]`,
    /// or `[+-].digits…`. On success `i` is just past the token; on failure returns nil and `i` is unspecified.
    /// The result may be ±Inf when the decimal overflows (callers reject non-finite values); NaN/Inf spellings fail.
    @inline(__always)
    package func parseDouble(_ b: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) -> Double? {
        let start = i
        var negative = false
        if i < end, b[i] == ASCII.minus || b[i] == ASCII.plus {
            negative = b[i] == ASCII.minus
            i += 1
        }
        // Digits accumulate with wrapping arithmetic; w is only used when there are at most 19 significant ones.
        var w: UInt64 = 0
        let integerStart = i
        var digitCount = DigitRun.accumulate(b, &i, end, &w, powers: digitPowers)
        var q = 0                // decimal exponent of w
        if i < end, b[i] == ASCII.dot {
            i += 1
            let fractionDigits = DigitRun.accumulate(b, &i, end, &w, powers: digitPowers)
            q = -fractionDigits
            digitCount += fractionDigits
        }
        let sawDigit = digitCount > 0
        var truncated = false    // more than 19 significant digits: w is not exact
        if digitCount > 19 {
            // Leading zeros (before or after the point) are not significant: count again without them.
            var k = integerStart
            var leading = 0
            while k < i, b[k] == ASCII.zero || b[k] == ASCII.dot {
                if b[k] == ASCII.zero { leading += 1 }
                k += 1
            }
            if digitCount - leading > 19 {
                truncated = true
            }
        }
        guard sawDigit else { return nil }
        if i < end, b[i] | 0x20 == 0x65 {  // 'e' or 'E'
            i += 1
            var negativeExponent = false
            if i < end, b[i] == ASCII.minus || b[i] == ASCII.plus {
                negativeExponent = b[i] == ASCII.minus
                i += 1
            }
            guard i < end, ASCII.isDigit(b[i]) else { return nil }
            var e = 0
            while i < end, ASCII.isDigit(b[i]) {
                if e < 100_000 { e = e * 10 + Int(b[i] &- ASCII.zero) }
                i += 1
            }
            q += negativeExponent ? -e : e
        }
        if !truncated {
            if w == 0 { return negative ? -0.0 : 0.0 }
            // 1. Clinger: both operands exact, one rounding.
            if w <= 1 << 53, q >= -22, q <= 22 {
                let v = Double(w)
                let r = q >= 0 ? v * powersOfTen[q] : v / powersOfTen[-q]
                return negative ? -r : r
            }
            // 2. Eisel–Lemire.
            if let r = eiselLemire(w, q) { return negative ? -r : r }
        }
        // 3. strtod on the token's bytes (w wrapped around when truncated).
        return DecimalParser.strtodFallback(b + start, i - start)
    }

    /// Parses `digits` (no sign) at `i` as an index. Returns nil when there is no digit or more than 18
    /// (indices never need that many; 18 digits cannot overflow `Int`).
    @inline(__always)
    func parseUnsigned(_ b: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) -> Int? {
        var v: UInt64 = 0
        let n = DigitRun.accumulate(b, &i, end, &v, powers: digitPowers)
        return n > 0 && n <= 18 ? Int(v) : nil
    }

    /// w·10^q correctly rounded to a normal double, or nil when the 128-bit approximation of 5^q leaves the
    /// rounding undecided or the result is subnormal/overflows. `w` is nonzero and exact (at most 19 digits).
    @inline(__always)
    func eiselLemire(_ w: UInt64, _ q: Int) -> Double? {
        guard q >= PowersOfFive.minimumExponent, q <= PowersOfFive.maximumExponent else { return nil }
        let index = q - PowersOfFive.minimumExponent
        let fHi = significands[2 * index], fLo = significands[2 * index + 1]
        let lz = w.leadingZeroBitCount
        let wn = w << UInt64(lz)                        // 2⁶³ ≤ wn < 2⁶⁴
        // P = wn·F as three words p2:p1:p0, 2¹⁹⁰ ≤ P < 2¹⁹²; the true product lies in [P, P + 2⁶⁴) when F is truncated.
        let a = wn.multipliedFullWidth(by: fHi)
        let c = wn.multipliedFullWidth(by: fLo)
        let (p1, carry) = a.low.addingReportingOverflow(c.high)
        let p2 = a.high &+ (carry ? 1 : 0)
        let p0 = c.low
        let s = UInt64(9 + Int(p2 >> 63))               // bits of p2 below the 54 kept (53 + round bit)
        let lowMask: UInt64 = (1 << s) &- 1
        let exact = q >= 0 && q <= 55
        // An error below 2⁶⁴ can only reach the kept bits (or cross the half-way point) through a run of ones.
        if !exact, p2 & lowMask == lowMask, p1 == .max { return nil }
        let m54 = p2 >> s                               // 2⁵³ ≤ m54 < 2⁵⁴
        var m53 = m54 >> 1
        var e2 = 128 + Int(s) + Int(exponents[index]) + q - lz + 1   // value ≈ m53 · 2^e2
        if m54 & 1 == 1 {
            let restIsZero = p2 & lowMask == 0 && p1 == 0 && p0 == 0
            if exact && restIsZero {
                m53 += m53 & 1                           // exact tie: round half to even
            } else {
                m53 += 1                                 // above half (an inexact F only errs low)
            }
            if m53 == 1 << 53 { m53 >>= 1; e2 += 1 }
        }
        let biased = e2 + 52 + 1023
        guard biased >= 1, biased <= 2046 else { return nil }
        return Double(bitPattern: UInt64(biased) << 52 | (m53 & ((1 << 52) - 1)))
    }

    /// `strtod` on `count` bytes (copied and NUL-terminated). Returns nil when strtod does not consume them all.
    static func strtodFallback(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer -> Double? in
            guard let base = buffer.baseAddress else { return nil }
            for k in 0..<count { base[k] = CChar(bitPattern: p[k]) }
            base[count] = 0
            var endPointer: UnsafeMutablePointer<CChar>?
            let v = strtod(base, &endPointer)
            guard let e = endPointer, e - base == count else { return nil }
            return v
        }
    }
}

/// Parsing of whole `String` tokens (headers, diagnostics); not on the hot path.
enum TokenText {
    /// A full token as Double via the same exact parser; nil unless the whole token is a number.
    static func double(_ token: Substring) -> Double? {
        var bytes = Array(token.utf8)
        let count = bytes.count
        guard count > 0 else { return nil }
        return try? DecimalParser.with { (parser) throws(SparseError) -> Double? in
            bytes.withUnsafeMutableBufferPointer { buffer -> Double? in
                var i = 0
                guard let v = parser.parseDouble(UnsafePointer(buffer.baseAddress!), &i, count), i == count else { return nil }
                return v
            }
        } ?? nil
    }

    /// Whether the token spells NaN or infinity (any case, optional sign), as Python, numpy and C print them.
    static func isNonFiniteSpelling(_ token: Substring) -> Bool {
        var t = token.lowercased()
        if t.hasPrefix("+") || t.hasPrefix("-") { t.removeFirst() }
        return ["nan", "inf", "infinity", "nan(ind)", "1.#inf", "1.#qnan"].contains(t) || t.hasPrefix("nan(")
    }
}
