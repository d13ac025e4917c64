// lsq/MultiplyCommand: `lsq multiply A [B] --aat|--ata|--ab` — products through SuiteSparse or lsq's kernel, refused when too big.
import ArgumentParser
import Dispatch
import Foundation
import SparseTensor

struct MultiplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multiply",
        abstract: "Sparse × sparse products: A·Aᵀ, AᵀA or A·B.",
        discussion: """
        Before computing, the result's nnz is estimated (exactly on a sample of rows) and the command refuses, \
        printing the estimate and the bytes, when the result would exceed the memory budget (--max-memory). \
        --upper keeps one triangle of a symmetric product, which halves the work and the output.
        """)

    @Argument(help: "The matrix A.") var matrix: String
    @Argument(help: "B, for --ab.") var other: String?
    @Flag(help: "Which product.") var kind: ProductChoice = .aat
    @Option(name: .shortAndLong, help: "Write C here (.mtx, .npz, .lsqb, .tri); without it only the summary is printed.")
    var output: String?
    @Flag(help: "Keep only the upper triangle of A·Aᵀ or AᵀA.") var upper = false
    @Option(help: "Drop entries with |c_ij| ≤ this.") var dropTol: Double = 0
    @Option(help: "native (both cores) or cholmod (SuiteSparse).") var engine: String = "native"
    @Flag(help: "Only estimate nnz and bytes; do not multiply.") var estimateOnly = false
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Flag(help: "Deflate a .npz output's arrays, as scipy.sparse.save_npz does by default (smaller, slower).") var compress = false
    @OptionGroup var input: InputOptions

    enum ProductChoice: String, EnumerableFlag {
        case aat, ata, ab
        static func help(for value: ProductChoice) -> ArgumentHelp? {
            switch value {
            case .aat: return "C = A·Aᵀ"
            case .ata: return "C = AᵀA"
            case .ab: return "C = A·B"
            }
        }
    }

    func run() async throws {
        guard let engine = ProductEngine(rawValue: engine.lowercased()) else {
            throw CLIFailure.usage("--engine: expected native or cholmod, got '\(self.engine)'")
        }
        guard dropTol >= 0, dropTol.isFinite else { throw CLIFailure.usage("--drop-tol must be ≥ 0, got \(dropTol)") }
        let product: ProductKind = kind == .aat ? .aat : kind == .ata ? .ata : .ab
        if product == .ab, other == nil { throw CLIFailure.usage("--ab needs a second matrix B") }
        if product != .ab, other != nil { throw CLIFailure.usage("a second matrix is only used with --ab") }
        if upper, product == .ab { throw CLIFailure.usage("--upper applies to --aat and --ata (symmetric products)") }
        // C's format comes from -o's extension (--format is the input's).
        let outputFormat = try output.map {
            try OutputFile.matrixFormat($0, option: "-o", labelsAvailable: false, labelsAdvice: "a product has none (write .mtx, .npz, .lsqb or .tri)")
        }
        let progress = input.quiet ? nil : ProgressReporter()
        let a = try input.load(matrix, progress: progress).matrix
        let b = try other.map { try input.load($0, progress: progress).matrix }

        var options = ProductOptions(budget: try input.budget(), upperTriangleOnly: upper, dropTolerance: dropTol, engine: engine)
        options.seed = 0x5EED
        func describe(_ estimate: ProductEstimate) -> [String: Any] {
            ["product": product.rawValue, "rows": estimate.rowCount, "columns": estimate.columnCount,
             "estimatedNnz": estimate.nnz, "estimatedBytes": estimate.bytes, "estimatedBytes64": estimate.bytes64,
             "flops": estimate.flops, "upper": upper, "engine": engine.rawValue]
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        if estimateOnly {
            let estimate: ProductEstimate
            do { estimate = try a.estimateProduct(product, with: b, options: options) } catch {
                throw CLIFailure.badInput(error.description)
            }
            var summary = describe(estimate)
            summary["estimateSeconds"] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if json { print(JSONOutput.string(summary)) } else { print("\(product.label): \(estimate.summary)") }
            return
        }
        // One call estimates (refusing over budget, with the figures) and multiplies.
        let c: CSRMatrix, estimate: ProductEstimate
        do { (c, estimate) = try a.productWithEstimate(product, with: b, options: options) } catch {
            throw CLIFailure.badInput(error.description)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if let output {
            do { try MatrixIO.writeMatrix(c, to: URL(fileURLWithPath: output), format: outputFormat, compressNPZ: compress) } catch {
                throw CLIFailure.badInput(error.description)
            }
        }
        var summary = describe(estimate)
        summary["nnz"] = c.nnz
        summary["seconds"] = seconds
        summary["output"] = output
        if json {
            print(JSONOutput.string(summary))
        } else {
            print("\(product.label)\(upper ? " (upper triangle)" : ""): \(c.rowCount) × \(c.columnCount), nnz \(c.nnz), "
                  + String(format: "%.3f s (%@ engine); estimate was %.4g nnz", seconds, engine.rawValue, estimate.nnz)
                  + (output.map { ", written to \($0)" } ?? ""))
        }
    }
}
