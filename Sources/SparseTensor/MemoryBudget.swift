// SparseTensor/MemoryBudget: the byte limit every allocation sized by user input is checked against first.
import Foundation

/// A limit on the bytes an operation may allocate for data whose size comes from input
/// (a file header's nnz, a product's estimated nnz, a factorization's fill).
///
/// The default is half of physical memory, overridable with the `LSQ_MAX_MEMORY`
/// environment variable (e.g. `8GB`) or explicitly. Half leaves room for the inputs
/// that are already resident and for the operating system.
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public var bytes: Int
    /// Bytes of the budget already taken by data that stays allocated meanwhile, and what holds them
    /// (`holding(_:by:)`): every check counts them in and names them, so a refusal quotes the whole budget.
    public private(set) var held: Double = 0
    public private(set) var heldBy: [String] = []

    public init(bytes: Int) { self.bytes = max(0, bytes) }

    /// This budget while `bytes` more stay allocated by `what` (A's copies during a factorization, say).
    public func holding(_ bytes: Double, by what: String) -> MemoryBudget {
        var b = self
        guard bytes > 0 else { return b }
        b.held += bytes
        b.heldBy.append("\(ByteCount.format(bytes)) held by \(what)")
        return b
    }

    /// Bytes left for new allocations.
    public var available: Double { max(0, Double(bytes) - held) }

    /// Half of physical memory, or `LSQ_MAX_MEMORY` when set and valid.
    public static var `default`: MemoryBudget {
        if let text = ProcessInfo.processInfo.environment["LSQ_MAX_MEMORY"], let b = ByteCount.parse(text) {
            return MemoryBudget(bytes: b)
        }
        return MemoryBudget(bytes: Int(ProcessInfo.processInfo.physicalMemory / 2))
    }

    /// Effectively no limit (for tests of the limit logic itself, or callers that guard elsewhere).
    public static let unlimited = MemoryBudget(bytes: Int.max)

    /// Throws `exceedsMemoryBudget` when `bytes` (possibly astronomically large, hence `Double`) exceeds the budget.
    /// With bytes `held`, the need is `bytes` plus those, and the detail names them.
    public func check(_ bytes: Double, for what: @autoclosure () -> String, detail: @autoclosure () -> String = "") throws(SparseError) {
        let need = bytes + held
        guard need.isFinite, need <= Double(self.bytes) else {
            let parts = [detail()].filter { !$0.isEmpty } + (heldBy.isEmpty ? [] : ["with \(heldBy.joined(separator: " and ")) meanwhile"])
            throw .exceedsMemoryBudget(what: what(), bytes: need, budget: self.bytes, detail: parts.joined(separator: "; "))
        }
    }

    public var description: String { ByteCount.format(Double(bytes)) }
}

/// Bytes of the storage formats, used for budget checks before allocating.
public enum StorageBytes {
    /// CSR/CSC: 8-byte offsets, 4-byte indices, 8-byte values.
    public static func compressed(outer: Int, nnz: Double) -> Double { Double(outer + 1) * 8 + nnz * 12 }
    /// COO triplets: two 4-byte indices and an 8-byte value.
    public static func coordinate(nnz: Double) -> Double { nnz * 16 }
    /// CHOLMOD's `cholmod_l_*` compressed form: 8-byte offsets and indices, 8-byte values.
    public static func cholmod(outer: Int, nnz: Double) -> Double { Double(outer + 1) * 8 + nnz * 16 }
}
