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
    @OptionGroup var input: InputOptions

    func run() async throws {
        let outFormat: MatrixFileFormat
        if let to {
            guard let f = MatrixFileFormat(rawValue: to.lowercased()) else {
                throw CLIFailure.usage("--to: expected one of \(MatrixFileFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(to)'")
            }
            outFormat = f
        } else {
            guard let f = MatrixFileFormat.infer(fromPath: outputPath) else {
                throw CLIFailure.usage("\(outputPath): cannot tell the output format from the extension; pass --to")
            }
            outFormat = f
        }
        try OutputFile.checkWritable(outputPath)
        let loaded = try input.load(inputPath, progress: input.quiet ? nil : ProgressReporter())
        do {
            try MatrixIO.writeMatrix(loaded.matrix, to: URL(fileURLWithPath: outputPath), format: outFormat)
            if let labels = loaded.labels {
                let yPath = URL(fileURLWithPath: outputPath).deletingPathExtension().path + ".y.mtx"
                try MatrixIO.writeVector(labels, to: URL(fileURLWithPath: yPath), sparse: false)
                if !input.quiet { FileHandle.standardError.write(Data("labels written to \(yPath)\n".utf8)) }
            }
        } catch { throw CLIFailure.badInput(error.description) }
        let a = loaded.matrix
        print("\(inputPath) → \(outputPath): \(a.rowCount) × \(a.columnCount), nnz \(a.nnz)")
    }
}
