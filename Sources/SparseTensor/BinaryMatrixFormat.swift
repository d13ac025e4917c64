// SparseTensor/BinaryMatrixFormat: `.lsqb`, lsq's binary CSR dump for fast reloads of huge matrices.
//
// ```
// offset  size         content (little-endian)
// 0       8            magic "LSQB\r\n\x1A\n" (a text-mode transfer or a truncated download breaks it visibly)
// 8       4            version (1)
// 12      4            flags (0; reserved)
// 16      8 × 3        rows, columns, nnz (Int64)
// 40      24           reserved (0)
// 64      8·(rows+1)   row offsets (Int64)
// …       4·nnz        column indices (Int32), then zero padding to a multiple of 8
// …       8·nnz        values (Float64)
// ```
// The file size must be exactly what the header implies, so truncation is caught before anything is allocated.
// Each array is read with one bulk read straight into its storage, then the CSR invariants are validated.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum BinaryMatrixFormat {
    static let magic: [UInt8] = [0x4C, 0x53, 0x51, 0x42, 0x0D, 0x0A, 0x1A, 0x0A]
    static let version: UInt32 = 1
    static let headerSize = 64

    struct Layout {
        var rows: Int, columns: Int, nnz: Int
        var offsetsStart: Int { headerSize }
        var indicesStart: Int { headerSize + 8 * (rows + 1) }
        var valuesStart: Int { (indicesStart + 4 * nnz + 7) / 8 * 8 }
        var totalSize: Int { valuesStart + 8 * nnz }
    }

    private static func parseHeader(_ h: UnsafeRawBufferPointer, fileSize: Int, name: String,
                                    options: ReadOptions) throws(SparseError) -> Layout {
        let budget = options.budget
        guard h.count >= headerSize, h.starts(with: magic) else {
            throw .malformedFile(file: name, line: 0, reason: "not an .lsqb file (expected the magic bytes 'LSQB\\r\\n\\x1A\\n' and a 64-byte header)")
        }
        let v = UInt32(littleEndian: h.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard v == version else {
            throw .unsupportedFormat(file: name, reason: ".lsqb version \(v) (this build reads version \(version))")
        }
        let flags = UInt32(littleEndian: h.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard flags == 0 else { throw .unsupportedFormat(file: name, reason: ".lsqb flags \(flags) (this build knows none)") }
        let m = Int(Int64(littleEndian: h.loadUnaligned(fromByteOffset: 16, as: Int64.self)))
        let n = Int(Int64(littleEndian: h.loadUnaligned(fromByteOffset: 24, as: Int64.self)))
        let nnz = Int(Int64(littleEndian: h.loadUnaligned(fromByteOffset: 32, as: Int64.self)))
        guard m >= 0, m <= Int(Int32.max), n >= 0, n <= Int(Int32.max) else {
            throw .malformedFile(file: name, line: 0, reason: "header: shape \(m) × \(n) is outside 0...\(Int32.max)")
        }
        guard nnz >= 0 else { throw .malformedFile(file: name, line: 0, reason: "header: negative nnz \(nnz)") }
        try options.checkEntries(nnz, file: name)
        try budget.check(StorageBytes.compressed(outer: m, nnz: Double(nnz)), for: "reading \(name) (\(m) × \(n), \(nnz) entries)")
        let expected = Double(headerSize) + 8 * Double(m + 1) + 12 * Double(nnz) + 8
        guard expected < Double(Int.max) else {
            throw .malformedFile(file: name, line: 0, reason: "header: nnz \(nnz) is impossibly large")
        }
        let layout = Layout(rows: m, columns: n, nnz: nnz)
        guard fileSize == layout.totalSize else {
            throw .malformedFile(file: name, line: 0,
                                 reason: "size \(fileSize) bytes, but a \(m) × \(n) matrix with \(nnz) entries needs exactly \(layout.totalSize) (truncated or corrupt?)")
        }
        return layout
    }

    private static func validated(_ s: CompressedStorage, name: String) throws(SparseError) -> CSRMatrix {
        do {
            try s.validate(rowMajor: true)
        } catch {
            throw .malformedFile(file: name, line: 0, reason: "corrupt .lsqb contents: \(error.description)")
        }
        return CSRMatrix(storage: s)
    }

    /// Reads with one `pread` loop per array, straight into the arrays' storage.
    static func read(path: String, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let (fd, info) = try openForReading(path)
        defer { close(fd) }
        let fileSize = Int(info.st_size)
        var header = [UInt8](repeating: 0, count: headerSize)
        let got = try header.typedMutableBytes { (raw) throws(SparseError) -> Int in
            try readFully(fd, raw, at: 0, path: path)
        }
        let layout = try Array(header.prefix(got)).typedBytes { (raw) throws(SparseError) -> Layout in
            try parseHeader(raw, fileSize: fileSize, name: path, options: options)
        }
        func load<T>(_ count: Int, at offset: Int, _: T.Type) throws(SparseError) -> [T] {
            var failure: SparseError?
            let array = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                do throws(SparseError) {
                    let n = try readFully(fd, UnsafeMutableRawBufferPointer(buffer), at: offset, path: path)
                    if n != count * MemoryLayout<T>.stride {
                        failure = .malformedFile(file: path, line: 0, reason: "truncated while reading (got \(n) of \(count * MemoryLayout<T>.stride) bytes)")
                        initialized = 0
                        return
                    }
                    initialized = count
                } catch {
                    failure = error
                    initialized = 0
                }
            }
            if let failure { throw failure }
            return array
        }
        var offsets: [Int] = try load(layout.rows + 1, at: layout.offsetsStart, Int.self)
        var indices: [Int32] = try load(layout.nnz, at: layout.indicesStart, Int32.self)
        var values: [Double] = try load(layout.nnz, at: layout.valuesStart, Double.self)
        options.progress?(fileSize, fileSize)
        fixEndianness(&offsets, &indices, &values)
        return try validated(CompressedStorage(unchecked: layout.rows, layout.columns, offsets, indices, values), name: path)
    }

    /// Reads from memory (uploads).
    static func read(_ raw: UnsafeRawBufferPointer, name: String, options: ReadOptions) throws(SparseError) -> CSRMatrix {
        let layout = try parseHeader(raw, fileSize: raw.count, name: name, options: options)
        func load<T>(_ count: Int, at offset: Int, _: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { memcpy(buffer.baseAddress!, raw.baseAddress! + offset, count * MemoryLayout<T>.stride) }
                initialized = count
            }
        }
        var offsets: [Int] = load(layout.rows + 1, at: layout.offsetsStart, Int.self)
        var indices: [Int32] = load(layout.nnz, at: layout.indicesStart, Int32.self)
        var values: [Double] = load(layout.nnz, at: layout.valuesStart, Double.self)
        fixEndianness(&offsets, &indices, &values)
        return try validated(CompressedStorage(unchecked: layout.rows, layout.columns, offsets, indices, values), name: name)
    }

    /// The file is little-endian; swap on a big-endian host.
    private static func fixEndianness(_ offsets: inout [Int], _ indices: inout [Int32], _ values: inout [Double]) {
        #if _endian(big)
        for k in offsets.indices { offsets[k] = Int(Int64(littleEndian: Int64(offsets[k]))) }
        for k in indices.indices { indices[k] = Int32(littleEndian: indices[k]) }
        for k in values.indices { values[k] = Double(bitPattern: UInt64(littleEndian: values[k].bitPattern)) }
        #endif
    }

    /// `pread` until `buffer` is full or the file ends; returns the bytes read.
    private static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int,
                                  path: String) throws(SparseError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30), off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: "read failed: \(errnoDescription())")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func write(_ a: CSRMatrix, to url: URL) throws(SparseError) {
        let layout = Layout(rows: a.rowCount, columns: a.columnCount, nnz: a.nnz)
        var header = [UInt8](repeating: 0, count: headerSize)
        header.replaceSubrange(0..<8, with: magic)
        header.withUnsafeMutableBytes { h in
            h.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
            h.storeBytes(of: Int64(layout.rows).littleEndian, toByteOffset: 16, as: Int64.self)
            h.storeBytes(of: Int64(layout.columns).littleEndian, toByteOffset: 24, as: Int64.self)
            h.storeBytes(of: Int64(layout.nnz).littleEndian, toByteOffset: 32, as: Int64.self)
        }
        try writeAtomically(to: url) { (w) throws(SparseError) in
            try w.write(header)
            #if _endian(big)
            try w.write(a.rowOffsets.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) })
            try w.write(a.columnIndices.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
            try w.write([UInt8](repeating: 0, count: layout.valuesStart - layout.indicesStart - 4 * layout.nnz))
            try w.write(a.values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            #else
            try writeArray(a.rowOffsets, w)
            try writeArray(a.columnIndices, w)
            try w.write([UInt8](repeating: 0, count: layout.valuesStart - layout.indicesStart - 4 * layout.nnz))
            try writeArray(a.values, w)
            #endif
        }
    }

    private static func writeArray<T>(_ array: [T], _ w: AtomicFileWriter) throws(SparseError) {
        let result: Result<Void, SparseError> = array.withUnsafeBytes { raw in
            do throws(SparseError) { try w.writeRaw(raw); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }
}
