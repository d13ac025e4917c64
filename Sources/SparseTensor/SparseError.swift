// SparseTensor/SparseError: the typed errors of the sparse layer, each naming what was wrong and where.
import Foundation

/// Everything that can go wrong when building, reading or multiplying sparse matrices.
///
/// Every case carries enough context for a user to act: the file and line, the entry,
/// the shapes involved, or the bytes that would have been needed.
public enum SparseError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// Two operands whose shapes do not fit, e.g. `A·x` with `x.count != A.columnCount`.
    case dimensionMismatch(operation: String, expected: String, got: String)
    /// An index outside `0..<rowCount` / `0..<columnCount` (0-based, as stored).
    case indexOutOfRange(entry: Int, row: Int, column: Int, rowCount: Int, columnCount: Int)
    /// A NaN or ±Inf value.
    case nonFiniteValue(entry: Int, row: Int, column: Int, value: Double)
    /// Compressed storage whose indices are not strictly increasing within a row (CSR) or column (CSC).
    case unsortedOrDuplicate(outer: String, index: Int, position: Int)
    /// Compressed storage whose offsets are inconsistent (wrong length, decreasing, not ending at nnz).
    case invalidOffsets(reason: String)
    /// A negative dimension or one that exceeds 2³¹−1.
    case invalidDimension(name: String, value: Int)
    /// Arrays whose lengths disagree (rows/columns/values of a COO, indices/values of a vector).
    case inconsistentLengths(reason: String)
    /// A file whose contents do not parse: `file`, 1-based `line` (0 when not line-oriented) and what was expected.
    case malformedFile(file: String, line: Int, reason: String)
    /// A file in a valid but unsupported variant (complex Matrix Market, hermitian, …).
    case unsupportedFormat(file: String, reason: String)
    /// An operation whose result or input would need more memory than the budget allows.
    case exceedsMemoryBudget(what: String, bytes: Double, budget: Int, detail: String)
    /// A file that declares (or holds) more stored entries than `ReadOptions.maxEntries` allows.
    case tooManyEntries(file: String, entries: Int, limit: Int)
    /// An I/O failure (missing file, unreadable, write failure).
    case io(path: String, reason: String)
    /// A failure reported by SuiteSparse: a negative CHOLMOD status, or a positive one (e.g. not positive definite)
    /// that leaves no usable result.
    case suiteSparse(routine: String, status: Int, reason: String)
    /// A long operation stopped because its `CancellationFlag` was set; nothing of its result is kept.
    case cancelled(operation: String)

    public var description: String {
        switch self {
        case let .dimensionMismatch(operation, expected, got):
            return "SparseError. Dimension mismatch in \(operation): expected \(expected), got \(got)"
        case let .indexOutOfRange(entry, row, column, m, n):
            return "SparseError. Index out of range at entry \(entry): (row \(row), column \(column)) is outside the \(m) × \(n) shape (0-based)"
        case let .nonFiniteValue(entry, row, column, value):
            return "SparseError. Non-finite value \(value) at entry \(entry) (row \(row), column \(column)); values must be finite"
        case let .unsortedOrDuplicate(outer, index, position):
            return "SparseError. \(outer) has unsorted or duplicate index \(index) at storage position \(position); compressed storage needs strictly increasing indices"
        case let .invalidOffsets(reason):
            return "SparseError. Invalid offsets: \(reason)"
        case let .invalidDimension(name, value):
            return "SparseError. Invalid dimension \(name) = \(value): must be in 0...\(Int32.max)"
        case let .inconsistentLengths(reason):
            return "SparseError. Inconsistent lengths: \(reason)"
        case let .malformedFile(file, line, reason):
            return line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)"
        case let .unsupportedFormat(file, reason):
            return "\(file): unsupported format: \(reason)"
        case let .exceedsMemoryBudget(what, bytes, budget, detail):
            return "SparseError. \(what) would need \(ByteCount.format(bytes)) but the memory budget is \(ByteCount.format(Double(budget)))\(detail.isEmpty ? "" : " (\(detail))"); raise the budget (--max-memory / LSQ_MAX_MEMORY) or reduce the problem"
        case let .tooManyEntries(file, entries, limit):
            return "SparseError. \(file) has \(entries) stored entries, more than the \(limit) allowed; nothing of its size was read"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .suiteSparse(routine, status, reason):
            return "SuiteSparseError. \(routine) failed with status \(status): \(reason)"
        case let .cancelled(operation):
            return "SparseError. \(operation) was cancelled"
        }
    }

    public var errorDescription: String? { description }
}

/// Human-readable byte counts ("1.5 GB"), decimal units as `--max-memory` parses them.
public enum ByteCount {
    public static func format(_ bytes: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var value = bytes
        var unit = 0
        while abs(value) >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.3g %@", value, units[unit])
    }

    /// Parses "512", "64KB", "1.5GB", "2GiB", "10M" into bytes; nil when malformed.
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let suffixes: [(String, Double)] = [
            ("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("TIB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
            ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("B", 1),
        ]
        for (suffix, factor) in suffixes where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)),
                  v.isFinite, v >= 0, v * factor < 9e18 else { return nil }
            return Int(v * factor)
        }
        guard let v = Double(t), v.isFinite, v >= 0, v < 9e18 else { return nil }
        return Int(v)
    }
}
