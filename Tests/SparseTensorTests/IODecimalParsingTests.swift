// SparseTensorTests/IODecimalParsingTests: the text readers' decimal → Double parser against glibc's strtod, bit for bit.
import Foundation
import Testing
@testable import SparseTensor
#if canImport(Glibc)
import Glibc
#endif

@Suite("Decimal parsing")
struct IODecimalParsingTests {
    /// strtod's answer: the independent reference.
    static func reference(_ s: String) -> Double { strtod(s, nil) }

    static func check(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let ours = TokenText.double(Substring(s))
        let ref = reference(s)
        #expect(ours?.bitPattern == ref.bitPattern,
                "'\(s)': parsed \(String(describing: ours)) (bits \(ours.map { String($0.bitPattern, radix: 16) } ?? "-")), strtod \(ref) (bits \(String(ref.bitPattern, radix: 16)))",
                sourceLocation: sourceLocation)
    }

    @Test("Hard cases: ties, 2⁵³ + 1, extremes, subnormals, overflow, many digits")
    func hardCases() {
        let cases = [
            "0", "-0", "0.0", "+1", "1", "-1", "1.", ".5", "-.5", "1e0", "1E+0", "1e-0", "0e10",
            "0.1", "0.2", "0.3", "1e23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308",
            "1.7976931348623159e308", "2e308", "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324",
            "5e-324", "2.4703282292062328e-324", "1e-400", "9007199254740992", "9007199254740993", "9007199254740994",
            "9007199254740995", "18014398509481985", "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124", "1.00000000000000011102230246251565404236316680908203126",
            "123456789012345678901234567890", "0.000000000000000000000000000001234567890123456789",
            "3.14159265358979323846264338327950288419716939937510", "1.2345678901234567e-5", "6.405448565670314E-1",
            "1.9318352386099447E-1", "-1.23456789E205", "1E-300", "99999999999999999999", "1e22", "1e-22", "123e20",
            "4503599627370497.5", "2.5", "0.5e1", "00000.00001", "1234567890123456789", "12345678901234567890",
            "9.999999999999999e22", "1.0000000000000001", "0.99999999999999994", "0.99999999999999995",
            "18446744073709551616", "36893488147419103232e-5", "0.00000000000000000000000000000000001", "0000000000000000000000000000001.5",
            "1844674407370955161600000000", "-18446744073709551616.000000000000000000000000e-400",
        ]
        for s in cases { Self.check(s) }
    }

    @Test("Random doubles printed as %.17g, %.16e, %.15g, %.20g, %a-free shortest and %.3f")
    func randomDoubles() {
        var rng = SplitMix64(seed: 42)
        var buffer = [CChar](repeating: 0, count: 64)
        for k in 0..<20_000 {
            // Uniform over bit patterns (all magnitudes) half the time, uniform in [−1, 1) otherwise.
            var v = k % 2 == 0 ? Double(bitPattern: rng.next()) : rng.nextUnit() * 2 - 1
            if !v.isFinite { v = 1.5 }
            for format in ["%.17g", "%.16e", "%.15g", "%.20g", "%.3f", "%.19e"] {
                _ = format.withCString { f in withVaList([v]) { vsnprintf(&buffer, 64, f, $0) } }
                Self.check(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            Self.check(v.description)
        }
    }

    @Test("Random digit strings with random exponents (including near-halfway significands)")
    func randomDigitStrings() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let digits = 1 + Int(rng.next() % 19)
            var s = ""
            for d in 0..<digits { s.append(Character(String(d == 0 ? 1 + rng.next() % 9 : rng.next() % 10))) }
            if rng.next() % 3 == 0 { s += String(repeating: "0", count: Int(rng.next() % 5)) + "5" }  // halfway-ish tails
            let e = Int(rng.next() % 700) - 360
            Self.check("\(s)e\(e)")
            Self.check("0.\(s)e\(e / 2)")
        }
    }

    @Test("Eight-at-a-time digit runs stop at every possible non-digit byte, at every offset")
    func digitRuns() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<3000 {
            let count = Int(rng.next() % 21)
            var bytes = (0..<count).map { _ in UInt8(0x30 + rng.next() % 10) }
            var stop = UInt8(truncatingIfNeeded: rng.next())
            while ASCII.isDigit(stop) { stop = UInt8(truncatingIfNeeded: rng.next()) }
            bytes.append(stop)
            bytes += (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var expected: UInt64 = 0
            for d in bytes[0..<count] { expected = expected &* 10 &+ UInt64(d - 0x30) }
            bytes.withUnsafeBufferPointer { p in
                var i = 0, w: UInt64 = 0
                let n = DigitRun.powersOfTen.withUnsafeBufferPointer { powers in
                    DigitRun.accumulate(p.baseAddress!, &i, p.count, &w, powers: powers.baseAddress!)
                }
                #expect(n == count && i == count && w == expected, "\(bytes): n \(n), w \(w), expected \(expected)")
            }
        }
    }

    @Test("Rejects what is not a number")
    func rejects() {
        for s in ["", "-", "+", ".", "e5", "1e", "1e+", "abc", "1.2.3", "nan", "inf", "-inf", "0x1p3", "1,5", "1 2"] {
            #expect(TokenText.double(Substring(s)) == nil, "'\(s)' should not parse")
        }
        #expect(TokenText.isNonFiniteSpelling("NaN"))
        #expect(TokenText.isNonFiniteSpelling("-Infinity"))
        #expect(!TokenText.isNonFiniteSpelling("1e5"))
    }

    @Test("The 128-bit powers of five match exact values for small exponents")
    func powerTable() {
        let (s, e) = PowersOfFive.table
        // 5^1 = 5 = 0b101 → F = 5·2^125, e = −125.
        let i1 = 1 - PowersOfFive.minimumExponent
        #expect(s[2 * i1] == 5 << 61 && s[2 * i1 + 1] == 0 && e[i1] == -125)
        // 5^0 = 1 → F = 2^127.
        let i0 = -PowersOfFive.minimumExponent
        #expect(s[2 * i0] == 1 << 63 && s[2 * i0 + 1] == 0 && e[i0] == -127)
        // 5^−1 = 0.2 = 0.0011 0011… → F = ⌊2^(3+127)/5⌋ = 0xCCCC…CCCC, e = −130.
        let im1 = -1 - PowersOfFive.minimumExponent
        #expect(s[2 * im1] == 0xCCCC_CCCC_CCCC_CCCC && s[2 * im1 + 1] == 0xCCCC_CCCC_CCCC_CCCC && e[im1] == -130)
    }
}
