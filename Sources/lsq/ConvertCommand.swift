// lsq/ConvertCommand: `lsq convert IN OUT` — between the supported matrix formats.
import ArgumentParser
import Foundation
import SparseTensor

struct ConvertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert", abstract: "Convert a matrix between Matrix Market, SVMlight, .npz, .lsqb and .tri.",
        discussion: "Formats come from the extensions (or --format for the input, --to for the output). SVMlight labels, if any, are written to OUT's name with .y.mtx when the output format cannot hold them.")

    @Argument(help: "Input file.") var inputPath: String
    @Argument(help: "Output file.") var outputPath: String
    @Option(help: "Output format (default: from OUT's extension).") var to: String?
    @Option(help: "Labels y (a vector file, one per row) for SVMlight output from a format without them.") var labels: String?
    @Flag(help: "Deflate a .npz output's arrays, as scipy.sparse.save_npz does by default (smaller, slower).") var compress = false
    @OptionGroup var input: InputOptions

    func run() async throws {
        let inFormat = try input.fileFormat(for: inputPath)
        let outFormat = try OutputFile.matrixFormat(
            outputPath, explicit: to, labelsAvailable: labels != nil || inFormat == .svmlight,
            labelsAdvice: "\(inputPath) carries none: pass --labels y.mtx")
        let loaded = try input.load(inputPath, progress: input.quiet ? nil : ProgressReporter())
        let y = try labels.map { try input.loadVector($0) } ?? loaded.labels
        do {
            if outFormat == .svmlight, let y {
                try MatrixIO.writeSVMLight(loaded.matrix, labels: y, to: URL(fileURLWithPath: outputPath))
            } else {
                try MatrixIO.writeMatrix(loaded.matrix, to: URL(fileURLWithPath: outputPath), format: outFormat, compressNPZ: compress)
                if let y {
                    let yPath = URL(fileURLWithPath: outputPath).deletingPathExtension().path + ".y.mtx"
                    try MatrixIO.writeVector(y, to: URL(fileURLWithPath: yPath), sparse: false)
                    if !input.quiet { FileHandle.standardError.write(Data("labels written to \(yPath)\n".utf8)) }
                }
            }
        } catch { throw CLIFailure.badInput(error.description) }
        let a = loaded.matrix
        print("\(inputPath) → \(outputPath): \(a.rowCount) × \(a.columnCount), nnz \(a.nnz)")
    }
}
