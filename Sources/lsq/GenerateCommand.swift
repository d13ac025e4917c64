// lsq/GenerateCommand: `lsq generate` — seed-shaped synthetic problems (A, y, x_true).
import ArgumentParser
import Foundation
import LeastSquares
import SparseTensor

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate a synthetic problem y = A·x_true + σ·noise.",
        discussion: "Writes PREFIX.A.<ext>, PREFIX.y.mtx and PREFIX.x_true.mtx. Same seed, same files.")

    @Option(help: "Rows m.") var rows: Int
    @Option(help: "Columns n.") var cols: Int
    @Option(help: "Density of A (fraction of nonzeros).") var density: Double
    @Option(help: "Density of x_true.") var solutionDensity: Double = 0.02
    @Option(help: "Noise σ added to y.") var noise: Double = 0
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Format of A: mtx, npz, lsqb or tri.") var format: String = "mtx"
    @Option(name: .shortAndLong, help: "Output prefix.") var output: String

    func run() async throws {
        guard let f = MatrixFileFormat(rawValue: format.lowercased()), f != .svmlight else {
            throw CLIFailure.usage("--format: expected mtx, npz, lsqb or tri, got '\(format)'")
        }
        guard rows >= 0, cols >= 0 else { throw CLIFailure.usage("--rows and --cols must be ≥ 0") }
        guard density >= 0, density <= 1 else { throw CLIFailure.usage("--density must be in [0, 1], got \(density)") }
        guard solutionDensity >= 0, solutionDensity <= 1 else {
            throw CLIFailure.usage("--solution-density must be in [0, 1], got \(solutionDensity)")
        }
        guard noise >= 0, noise.isFinite else { throw CLIFailure.usage("--noise must be ≥ 0, got \(noise)") }
        try OutputFile.checkWritable(output + ".A." + f.rawValue)
        do {
            let p = try SyntheticProblem.generate(rows: rows, columns: cols, density: density, solutionDensity: solutionDensity,
                                                  noise: noise, seed: seed)
            try MatrixIO.writeMatrix(p.matrix, to: URL(fileURLWithPath: "\(output).A.\(f.rawValue)"), format: f)
            try MatrixIO.writeVector(p.rhs, to: URL(fileURLWithPath: "\(output).y.mtx"), sparse: false)
            try MatrixIO.writeVector(p.solution.dense(), to: URL(fileURLWithPath: "\(output).x_true.mtx"), sparse: true)
            print("wrote \(output).A.\(f.rawValue) (\(rows) × \(cols), nnz \(p.matrix.nnz)), \(output).y.mtx, \(output).x_true.mtx (nnz \(p.solution.nnz))")
        } catch let e as SolverError {
            throw CLIFailure.badInput(e.description)
        } catch let e as SparseError {
            throw CLIFailure.badInput(e.description)
        }
    }
}
