// SolverService/HTTP/ChunkedDecoder: incremental decoding of `Transfer-Encoding: chunked` (RFC 9112 §7.1).

/// Decodes a chunked body as bytes arrive — a pure state machine, so it can be fuzzed.
///
/// ```
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// last-chunk   = 1*("0") [ chunk-ext ] CRLF
/// ```
/// Limits: a chunk-size line (with extensions) of at most `maxLineBytes`, at most 15 significant hex digits
/// (leading zeros are not counted; no overflow), trailers of at most `maxTrailerBytes` (they are read and dropped), and a decoded
/// total of at most `maxBodyBytes` (`413`, decided from the chunk size before its data is read).
public struct ChunkedDecoder: Sendable {
    enum State: Sendable, Equatable {
        case size          // reading "hex[;ext]" up to CRLF
        case data(Int)     // bytes of chunk data left
        case dataCR        // expecting CR after the data
        case dataLF        // expecting LF after the data
        case trailer       // reading trailer lines until an empty one
        case done
    }

    private(set) var state = State.size
    private var line: [UInt8] = []
    private var trailerBytes = 0
    /// Decoded bytes so far.
    public private(set) var total = 0
    public let maxBodyBytes: Int
    public let maxLineBytes: Int
    public let maxTrailerBytes: Int

    public init(maxBodyBytes: Int, maxLineBytes: Int = 1024, maxTrailerBytes: Int = 8 * 1024) {
        self.maxBodyBytes = maxBodyBytes
        self.maxLineBytes = maxLineBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// The last chunk and the trailer section have been read.
    public var isFinished: Bool { state == .done }

    /// Consumes bytes from `input`, appending decoded data to `output`.
    /// - Returns: how many input bytes were used; fewer than `input.count` only once finished
    ///   (the rest belongs to the next request).
    public mutating func decode(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) throws(HTTPParseError) -> Int {
        var i = 0
        while i < input.count {
            switch state {
            case .done:
                return i
            case .size:
                let b = input[i]
                i += 1
                if b == 10 {
                    guard line.last == 13 else { throw HTTPParseError(.badRequest, "chunk size line must end in CRLF") }
                    line.removeLast()
                    try startChunk()
                    line.removeAll(keepingCapacity: true)
                } else {
                    if line.last == 13 { throw HTTPParseError(.badRequest, "bare CR in a chunk size line") }
                    line.append(b)
                    if line.count > maxLineBytes {
                        throw HTTPParseError(.badRequest, "chunk size line longer than \(maxLineBytes) bytes")
                    }
                }
            case let .data(left):
                let take = min(left, input.count - i)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                state = left - take == 0 ? .dataCR : .data(left - take)
            case .dataCR:
                guard input[i] == 13 else { throw HTTPParseError(.badRequest, "chunk data longer than its declared size (missing CRLF)") }
                i += 1
                state = .dataLF
            case .dataLF:
                guard input[i] == 10 else { throw HTTPParseError(.badRequest, "chunk data must be followed by CRLF") }
                i += 1
                state = .size
            case .trailer:
                let b = input[i]
                i += 1
                trailerBytes += 1
                if trailerBytes > maxTrailerBytes {
                    throw HTTPParseError(.headerFieldsTooLarge, "chunked trailer section larger than \(maxTrailerBytes) bytes")
                }
                if b == 10 {
                    guard line.last == 13 else { throw HTTPParseError(.badRequest, "trailer line must end in CRLF") }
                    if line.count == 1 { state = .done; return i }
                    line.removeAll(keepingCapacity: true)
                } else {
                    if line.last == 13 { throw HTTPParseError(.badRequest, "bare CR in the trailer section") }
                    line.append(b)
                }
            }
        }
        return i
    }

    /// Convenience for tests and fuzzing.
    public mutating func decode(_ input: [UInt8], into output: inout [UInt8]) throws(HTTPParseError) -> Int {
        let r: Result<Int, HTTPParseError> = input.withUnsafeBufferPointer { buffer in
            do throws(HTTPParseError) { return .success(try decode(buffer, into: &output)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    private mutating func startChunk() throws(HTTPParseError) {
        // chunk-size [ BWS ";" chunk-ext ]: the extensions are ignored.
        let sizePart = line.prefix { $0 != 59 && $0 != 32 && $0 != 9 }
        guard !sizePart.isEmpty else { throw HTTPParseError(.badRequest, "missing chunk size") }
        // Leading zeros are allowed (RFC 9112 §7.1) and do not count towards the 15 significant digits (2⁶⁰).
        let fits = sizePart.drop { $0 == 0x30 }.count <= 15
        var size = 0
        for d in sizePart {
            let v: Int
            switch d {
            case 0x30...0x39: v = Int(d - 0x30)
            case 0x41...0x46: v = Int(d - 0x41 + 10)
            case 0x61...0x66: v = Int(d - 0x61 + 10)
            default: throw HTTPParseError(.badRequest, "invalid chunk size '\(String(decoding: sizePart, as: UTF8.self).prefix(32))': expected hex digits")
            }
            if fits { size = size * 16 + v }
        }
        guard fits else { throw HTTPParseError(.contentTooLarge, "chunk size has more than 15 significant hex digits") }
        let rest = line.dropFirst(sizePart.count).drop { $0 == 32 || $0 == 9 }
        if let f = rest.first, f != 59 { throw HTTPParseError(.badRequest, "malformed chunk extension") }
        if size == 0 {
            state = .trailer
            line.removeAll(keepingCapacity: true)
            return
        }
        guard total + size <= maxBodyBytes else {
            throw HTTPParseError(.contentTooLarge, "chunked body exceeds the limit of \(maxBodyBytes) bytes")
        }
        total += size
        state = .data(size)
    }
}
