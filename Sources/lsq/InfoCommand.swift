// lsq/InfoCommand: `lsq info A` — shape, sparsity statistics, memory, and product size estimates.
import ArgumentParser
import Foundation
import SparseTensor

struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Shape, nnz, density, row/column statistics, value range, memory and product estimates.")

    @Argument(help: "The matrix A.") var matrix: String
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var input: InputOptions

    static func stats(_ counts: [Int]) -> [String: Any] {
        guard !counts.isEmpty else { return ["min": 0, "max": 0, "mean": 0.0, "empty": 0] }
        let total = counts.reduce(0, +)
        return ["min": counts.min()!, "max": counts.max()!, "mean": Double(total) / Double(counts.count),
                "empty": counts.filter { $0 == 0 }.count]
    }

    func run() async throws {
        let loaded = try input.load(matrix, progress: input.quiet ? nil : ProgressReporter())
        let a = loaded.matrix
        let rowCounts = (0..<a.rowCount).map { a.rowOffsets[$0 + 1] - a.rowOffsets[$0] }
        let columnCounts = a.storage.innerCounts()
        let values = a.values
        let density = a.rowCount == 0 || a.columnCount == 0 ? 0 : Double(a.nnz) / (Double(a.rowCount) * Double(a.columnCount))
        var options = ProductOptions(budget: .unlimited)
        options.estimateSampleRows = 1000
        let aat = try? a.estimateProduct(.aat, options: options)
        let ata = try? a.estimateProduct(.ata, options: options)
        var info: [String: Any] = [
            "file": matrix, "rows": a.rowCount, "columns": a.columnCount, "nnz": a.nnz, "density": density,
            "rowNnz": Self.stats(rowCounts), "columnNnz": Self.stats(columnCounts),
            "csrBytes": StorageBytes.compressed(outer: a.rowCount, nnz: Double(a.nnz)),
            "cscBytes": StorageBytes.compressed(outer: a.columnCount, nnz: Double(a.nnz)),
            "hasLabels": loaded.labels != nil,
        ]
        if let mn = values.min(), let mx = values.max() {
            info["valueRange"] = ["min": mn, "max": mx, "minAbsNonzero": values.lazy.filter { $0 != 0 }.map(abs).min() ?? 0]
        }
        if let aat { info["aat"] = ["estimatedNnz": aat.nnz, "estimatedBytes": aat.bytes, "flops": aat.flops, "exact": aat.isExact] }
        if let ata { info["ata"] = ["estimatedNnz": ata.nnz, "estimatedBytes": ata.bytes, "flops": ata.flops, "exact": ata.isExact] }
        if json { print(JSONOutput.string(info)); return }
        func line(_ name: String, _ s: [String: Any]) -> String {
            String(format: "%@ nnz   min %d, max %d, mean %.3g, empty %d", name, s["min"] as! Int, s["max"] as! Int,
                   s["mean"] as! Double, s["empty"] as! Int)
        }
        var out = ["file         \(matrix)",
                   "shape        \(a.rowCount) × \(a.columnCount)",
                   String(format: "nnz          %d (density %.3g)", a.nnz, density),
                   line("row   ", Self.stats(rowCounts)), line("column", Self.stats(columnCounts))]
        if let r = info["valueRange"] as? [String: Double] {
            out.append(String(format: "values       min %.6g, max %.6g, min |nonzero| %.3g", r["min"]!, r["max"]!, r["minAbsNonzero"]!))
        }
        out.append("memory       CSR \(ByteCount.format(info["csrBytes"] as! Double)), CSC \(ByteCount.format(info["cscBytes"] as! Double))")
        if let aat { out.append("A·Aᵀ         \(aat.summary)") }
        if let ata { out.append("AᵀA          \(ata.summary)") }
        if loaded.labels != nil { out.append("labels       y present (SVMlight)") }
        print(out.joined(separator: "\n"))
    }
}
