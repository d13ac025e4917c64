// End-to-end tests of the `lsq` binary: happy paths compared with the library, bad input, usage errors, limits, Ctrl-C.
import Foundation
import LeastSquares
import SparseTensor
import Testing
import _TestSupport

@Suite("lsq CLI", .serialized)
struct CLITests {
    let dir = Fixtures.temporaryDirectory()

    /// A small overdetermined problem written to `dir`.
    func writeProblem(rows: Int = 300, columns: Int = 60, density: Double = 0.1, seed: UInt64 = 3) throws -> (String, String, SyntheticProblem) {
        let p = try SyntheticProblem.generate(rows: rows, columns: columns, density: density, solutionDensity: 0.2,
                                              noise: 0.01, seed: seed)
        let a = dir.appendingPathComponent("A.mtx"), y = dir.appendingPathComponent("y.mtx")
        try MatrixIO.writeMatrix(p.matrix, to: a)
        try MatrixIO.writeVector(p.rhs, to: y, sparse: false)
        return (a.path, y.path, p)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    @Test("--help documents the exit codes and --tol")
    func help() throws {
        let root = try CLI.run(["--help"])
        #expect(root.status == 0)
        for code in ["0 ", "1 ", "2 ", "3 "] { #expect(root.stdout.contains("\n  \(code)")) }
        let solve = try CLI.run(["solve", "--help"])
        #expect(solve.status == 0)
        #expect(solve.stdout.contains("atol = btol"))
        #expect(solve.stdout.contains("--keep-partial"))
    }

    @Test("solve writes the same x as the library, and --json carries the report", arguments: ["lsqr", "lsmr", "qr", "cd"])
    func solveMatchesLibrary(solver: String) throws {
        let (a, y, p) = try writeProblem()
        let out = path("x-\(solver).mtx")
        let r = try CLI.run(["solve", a, y, "-o", out, "--solver", solver, "--tol", "1e-12", "--json", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let report = try #require(CLI.json(r.stdout), "stdout was: \(r.stdout)")
        for key in ["solver", "iterations", "stopReason", "objective", "residualNorm", "nnzX", "solveSeconds"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["solver"] as? String == solver)
        let x = try MatrixIO.readVector(at: URL(fileURLWithPath: out))
        var options = SolverOptions()
        options.solver = SolverKind(rawValue: solver)!
        options.tolerance = 1e-12
        let reference = try LeastSquaresSolver.solve(LeastSquaresProblem(matrix: p.matrix, rhs: p.rhs), options: options)
        #expect(relativeError(x, reference.x) < 1e-6, "x differs from the library's")
        #expect(abs((report["objective"] as? Double ?? .nan) - reference.report.objective) <= 1e-8 * max(1, reference.report.objective))
    }

    @Test("solve prints a readable report by default, and writes .npy and .json solutions")
    func solveReportAndFormats() throws {
        let (a, y, _) = try writeProblem()
        let r = try CLI.run(["solve", a, y, "--quiet", "-o", path("x.npy")])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("solver"))
        #expect(r.stdout.contains("objective"))
        #expect(try MatrixIO.readVector(at: URL(fileURLWithPath: path("x.npy"))).count == 60)
        let j = try CLI.run(["solve", a, y, "--quiet", "-o", path("x.json"), "--solver", "cd", "--l1", "5"])
        #expect(j.status == 0, "stderr: \(j.stderr)")
        let object = try #require(CLI.json(try String(contentsOfFile: path("x.json"), encoding: .utf8)))
        #expect(object["length"] as? Int == 60 || (object["x"] as? [Any])?.count == 60)
    }

    @Test("multiply writes the library's product; info and convert work; generate is deterministic")
    func otherSubcommands() throws {
        let (a, _, p) = try writeProblem()
        let m = try CLI.run(["multiply", a, "--aat", "-o", path("C.mtx"), "--quiet"])
        #expect(m.status == 0, "stderr: \(m.stderr)")
        let c = try MatrixIO.readMatrix(at: URL(fileURLWithPath: path("C.mtx"))).matrix
        let reference = try p.matrix.product(.aat, options: ProductOptions(budget: .unlimited))
        #expect(c.columnIndices == reference.columnIndices)
        #expect(relativeError(c.values, reference.values) < 1e-14)
        let upper = try CLI.run(["multiply", a, "--aat", "--upper", "--json", "--quiet"])
        #expect(upper.status == 0)
        #expect((CLI.json(upper.stdout)?["nnz"] as? Int).map { $0 < reference.nnz } == true)

        let info = try CLI.run(["info", a, "--json", "--quiet"])
        #expect(info.status == 0)
        let object = try #require(CLI.json(info.stdout))
        #expect(object["rows"] as? Int == 300 && object["columns"] as? Int == 60 && object["nnz"] as? Int == p.matrix.nnz)
        #expect(try CLI.run(["info", a, "--quiet"]).stdout.contains("A·Aᵀ"))

        #expect(try CLI.run(["convert", a, path("A.npz"), "--quiet"]).status == 0)
        #expect(try CLI.run(["convert", path("A.npz"), path("B.mtx"), "--quiet"]).status == 0)
        #expect(try MatrixIO.readMatrix(at: URL(fileURLWithPath: path("B.mtx"))).matrix == p.matrix)
        // --compress deflates the .npz (smaller), read back the same.
        #expect(try CLI.run(["convert", a, path("Z.npz"), "--compress", "--quiet"]).status == 0)
        #expect(try MatrixIO.readMatrix(at: URL(fileURLWithPath: path("Z.npz"))).matrix == p.matrix)
        let sizes = try [path("A.npz"), path("Z.npz")].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
        #expect(sizes[1] < sizes[0], "\(sizes)")

        for run in ["g1", "g2"] {
            let g = try CLI.run(["generate", "--rows", "50", "--cols", "20", "--density", "0.2", "--seed", "9", "-o", path(run)])
            #expect(g.status == 0, "stderr: \(g.stderr)")
        }
        let g1 = try Data(contentsOf: URL(fileURLWithPath: path("g1.A.mtx")))
        let g2 = try Data(contentsOf: URL(fileURLWithPath: path("g2.A.mtx")))
        #expect(g1 == g2)
    }

    @Test("Output formats come from the output's name, SVMlight output needs labels, and both are checked before any work")
    func outputFormats() throws {
        let (a, y, p) = try writeProblem()
        // multiply: --format is the input's; C's format is -o's extension.
        let dat = path("A.dat")
        try FileManager.default.copyItem(atPath: a, toPath: dat)
        let m = try CLI.run(["multiply", dat, "--format", "mtx", "--aat", "-o", path("C.npz"), "--quiet"])
        #expect(m.status == 0, "stderr: \(m.stderr)")
        let reference = try p.matrix.product(.aat, options: ProductOptions(budget: .unlimited))
        #expect(try MatrixIO.readMatrix(at: URL(fileURLWithPath: path("C.npz")), format: .npz).matrix.columnIndices == reference.columnIndices)
        let svmProduct = try CLI.run(["multiply", a, "--aat", "-o", path("C.svm"), "--quiet"])
        #expect(svmProduct.status == 2 && svmProduct.stderr.contains("label"), "stderr: \(svmProduct.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("C.svm")))

        // convert to SVMlight: refused without labels before reading, written with --labels, and svm → svm keeps them.
        let noLabels = try CLI.run(["convert", a, path("A.svm"), "--quiet"])
        #expect(noLabels.status == 2 && noLabels.stderr.contains("--labels"), "stderr: \(noLabels.stderr)")
        let withLabels = try CLI.run(["convert", a, path("A.svm"), "--labels", y, "--quiet"])
        #expect(withLabels.status == 0, "stderr: \(withLabels.stderr)")
        let svm = try MatrixIO.readMatrix(at: URL(fileURLWithPath: path("A.svm")))
        #expect(svm.matrix == p.matrix)
        #expect(relativeError(try #require(svm.labels), p.rhs) < 1e-15)
        #expect(try CLI.run(["convert", path("A.svm"), path("B.svm"), "--quiet"]).status == 0)
        #expect(try MatrixIO.readMatrix(at: URL(fileURLWithPath: path("B.svm"))).labels == svm.labels)
        let shortLabels = path("short.y.mtx")
        try MatrixIO.writeVector([1, 2], to: URL(fileURLWithPath: shortLabels), sparse: false)
        let mismatch = try CLI.run(["convert", a, path("C2.svm"), "--labels", shortLabels, "--quiet"])
        #expect(mismatch.status == 1 && mismatch.stderr.contains("300"), "stderr: \(mismatch.stderr)")

        // solve -o: an unknown extension fails before the solve; .txt is written.
        let bogus = try CLI.run(["solve", a, y, "--solver", "lsqr", "-o", path("x.bogus"), "--quiet"])
        #expect(bogus.status == 1 && bogus.stderr.contains("x.bogus") && !bogus.stderr.contains("objective"), "stderr: \(bogus.stderr)")
        let txt = try CLI.run(["solve", a, y, "--solver", "lsqr", "-o", path("x.txt"), "--quiet"])
        #expect(txt.status == 0, "stderr: \(txt.stderr)")
        #expect(try MatrixIO.readVector(at: URL(fileURLWithPath: path("x.txt"))).count == 60)

        // --zero-based applies to y too.
        let zeroY = path("y0.mtx")
        var text = "%%MatrixMarket matrix coordinate real general\n300 1 300\n"
        for i in 0..<300 { text += "\(i) 0 \(p.rhs[i])\n" }
        try text.write(toFile: zeroY, atomically: true, encoding: .utf8)
        let zeroA = path("A0.mtx")
        var aText = "%%MatrixMarket matrix coordinate real general\n300 60 \(p.matrix.nnz)\n"
        for r in 0..<300 {
            for q in p.matrix.rowOffsets[r]..<p.matrix.rowOffsets[r + 1] { aText += "\(r) \(p.matrix.columnIndices[q]) \(p.matrix.values[q])\n" }
        }
        try aText.write(toFile: zeroA, atomically: true, encoding: .utf8)
        let zero = try CLI.run(["solve", zeroA, zeroY, "--zero-based", "--solver", "lsqr", "--json", "--quiet"])
        let one = try CLI.run(["solve", a, y, "--solver", "lsqr", "--json", "--quiet"])
        #expect(zero.status == 0, "stderr: \(zero.stderr)")
        #expect(CLI.json(zero.stdout)?["objective"] as? Double == CLI.json(one.stdout)?["objective"] as? Double)
    }

    @Test("Bad input: exit 1, the file named, nothing written at the output path")
    func badInput() throws {
        let (a, y, _) = try writeProblem()
        let out = path("never.mtx")
        let missing = try CLI.run(["solve", path("nope.mtx"), y, "-o", out])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.mtx"))

        let garbage = path("garbage.mtx")
        try "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n2 x 2.0\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["solve", garbage, y, "-o", out])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("garbage.mtx") && bad.stderr.contains("4"), "stderr: \(bad.stderr)")

        let shortY = path("short.mtx")
        try MatrixIO.writeVector([1, 2, 3], to: URL(fileURLWithPath: shortY), sparse: false)
        let mismatch = try CLI.run(["solve", a, shortY, "-o", out])
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("3") && mismatch.stderr.contains("300"), "stderr: \(mismatch.stderr)")

        let noY = try CLI.run(["solve", a, "-o", out])
        #expect(noY.status == 1)

        let nan = path("nan.mtx")
        try "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n".write(toFile: nan, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["info", nan]).status == 1)

        // Reading A fits in 100 KB, its 300 × 300 A·Aᵀ does not: refused with the estimate.
        let tooBig = try CLI.run(["multiply", a, "--aat", "-o", out, "--max-memory", "100KB"])
        #expect(tooBig.status == 1)
        #expect(tooBig.stderr.contains("A·Aᵀ") && tooBig.stderr.contains("nnz"), "stderr: \(tooBig.stderr)")
        let tinyBudget = try CLI.run(["solve", a, y, "-o", out, "--max-memory", "1KB"])
        #expect(tinyBudget.status == 1)
        #expect(tinyBudget.stderr.contains("A.mtx") && tinyBudget.stderr.contains("budget"), "stderr: \(tinyBudget.stderr)")

        let noDir = try CLI.run(["solve", a, y, "-o", path("no/such/dir/x.mtx")])
        #expect(noDir.status == 1)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("Usage errors exit 2")
    func usageErrors() throws {
        let (a, y, _) = try writeProblem()
        for args in [["solve", a, y, "--bogus"], ["solve", a, y, "--solver", "magic"], ["solve", a, y, "--tol", "-1"],
                     ["frobnicate"], ["multiply", a, "--ab"], ["solve", a, y, "--l1", "-2"], ["solve"],
                     ["serve", "--header-timeout", "inf"], ["serve", "--idle-timeout", "1e11"], ["serve", "--retention", "-1"],
                     ["serve", "--job-time-limit", "0"], ["serve", "--shutdown-grace", "nan"]] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args): status \(r.status), stderr \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
    }

    @Test("A limit stops the solver without reaching the tolerance: exit 3, x still written")
    func limitExit3() throws {
        let (a, y, _) = try writeProblem()
        let r = try CLI.run(["solve", a, y, "--solver", "lsqr", "--max-iter", "1", "--tol", "1e-14", "-o", path("x1.mtx"), "--json"])
        #expect(r.status == 3, "stderr: \(r.stderr)")
        #expect(CLI.json(r.stdout)?["stopReason"] as? String == "iterationLimit")
        #expect(FileManager.default.fileExists(atPath: path("x1.mtx")))
        // A limit the solver does not count by is named on stderr, not silently ignored.
        let unused = try CLI.run(["solve", a, y, "--solver", "cd", "--max-iter", "5", "--quiet"])
        #expect(unused.status == 0 && unused.stderr.contains("--max-iter is not used by cd"), "stderr: \(unused.stderr)")
        let used = try CLI.run(["solve", a, y, "--solver", "cd", "--epochs", "5", "--quiet"])
        #expect(!used.stderr.contains("not used"), "stderr: \(used.stderr)")
    }

    @Test("Ctrl-C cancels cleanly: exit 130, x written only with --keep-partial")
    func interrupt() throws {
        let (a, y, _) = try writeProblem(rows: 20000, columns: 4000, density: 0.005, seed: 5)
        for keep in [false, true] {
            let out = path("partial-\(keep).mtx")
            var args = ["solve", a, y, "--solver", "sgd", "--epochs", "100000", "--tol", "1e-300", "-o", out, "--json"]
            if keep { args.append("--keep-partial") }
            let r = try CLI.run(args, interruptAfter: 2.5, timeout: 60)
            #expect(r.status == 130, "stderr: \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: out) == keep)
            #expect(CLI.json(r.stdout)?["stopReason"] as? String == "cancelled")
        }
    }
}
