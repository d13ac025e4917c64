// lsq/InputOptions: options shared by the commands that read matrices, and the loading that maps errors to exit 1.
import ArgumentParser
import Foundation
import LeastSquares
import SparseTensor

struct InputOptions: ParsableArguments {
    @Option(help: "Input format: mtx, svm, npz, lsqb or tri (default: from the file extension).")
    var format: String?

    @Flag(help: "Read 0-based Matrix Market files (not legal Matrix Market, but some tools write them).")
    var zeroBased = false

    @Option(help: "Memory budget for reading and products, e.g. 8GB (default: half of physical memory, or LSQ_MAX_MEMORY).")
    var maxMemory: String?

    @Flag(name: .shortAndLong, help: "No progress output on stderr.")
    var quiet = false

    func budget() throws -> MemoryBudget {
        guard let text = maxMemory else { return .default }
        guard let bytes = ByteCount.parse(text) else {
            throw CLIFailure.usage("--max-memory: expected a size like 512MB or 8GB, got '\(text)'")
        }
        return MemoryBudget(bytes: bytes)
    }

    func fileFormat(for path: String) throws -> MatrixFileFormat {
        if let format {
            guard let f = MatrixFileFormat(rawValue: format.lowercased()) else {
                throw CLIFailure.usage("--format: expected one of \(MatrixFileFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(format)'")
            }
            return f
        }
        guard let f = MatrixFileFormat.infer(fromPath: path) else {
            throw CLIFailure.badInput("\(path): cannot tell the format from the extension; pass --format (mtx, svm, npz, lsqb, tri)")
        }
        return f
    }

    /// Reads a matrix file, reporting parse progress; any failure is exit 1 naming the file.
    func load(_ path: String, progress: ProgressReporter?) throws -> LoadedMatrix {
        let format = try fileFormat(for: path)
        var options = ReadOptions()
        options.budget = try budget()
        options.zeroBased = zeroBased
        if let progress { options.progress = { read, total in progress.bytes(read, of: total) } }
        do {
            let loaded = try MatrixIO.readMatrix(at: URL(fileURLWithPath: path), format: format, options: options)
            progress?.finishLine()
            return loaded
        } catch {
            progress?.finishLine()
            throw CLIFailure.badInput(error.description)
        }
    }

    func loadVector(_ path: String) throws -> [Double] {
        var options = ReadOptions()
        options.budget = try budget()
        options.zeroBased = zeroBased
        do { return try MatrixIO.readVector(at: URL(fileURLWithPath: path), options: options) } catch {
            throw CLIFailure.badInput(error.description)
        }
    }
}

/// Writes JSON for `--json` outputs: sorted keys, finite numbers only (NaN/Inf become null).
enum JSONOutput {
    static func string(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: sanitize(object) as Any, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func sanitize(_ value: Any?) -> Any {
        switch value {
        case nil: return NSNull()
        case let d as Double: return d.isFinite ? d : NSNull()
        case let a as [Any]: return a.map { sanitize($0) }
        case let o as [String: Any]: return o.mapValues { sanitize($0) }
        case let v?: return v
        }
    }

    static func report(_ report: SolveReport) -> [String: Any] {
        var o: [String: Any] = [
            "solver": report.solver.rawValue, "choiceReason": report.choiceReason, "iterations": report.iterations,
            "stopReason": report.stopReason.rawValue, "stopMessage": report.stopReason.description,
            "converged": report.stopReason.converged, "objective": report.objective, "residualNorm": report.residualNorm,
            "optimalityNorm": report.optimalityNorm, "nnzX": report.nnzX, "setupSeconds": report.setupSeconds,
            "solveSeconds": report.solveSeconds, "diagnostics": report.diagnostics,
        ]
        if let g = report.dualityGap { o["dualityGap"] = g }
        if let r = report.rank { o["rank"] = r }
        if let a = report.normEstimate { o["normEstimate"] = a }
        if let c = report.conditionEstimate { o["conditionEstimate"] = c }
        return o
    }
}
