// LsqBench: lsq's side of the benchmarks (scripts/bench-core, scripts/bench-solvers run it next to the peers).
// Built only when LSQ_BENCHMARKS=1 (see Package.swift), so plain builds never compile it.
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LeastSquares
import SparseTensor

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Median of `repeats` timings of `body` (after one warm-up run).
func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let t = now()
        try body()
        times.append(now() - t)
    }
    return times.sorted()[times.count / 2]
}

func peakRSSBytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) * 1024
}

/// STREAM triad a = b + s·c on both cores: the machine's sustainable memory bandwidth in bytes/s.
func triadBandwidth() -> Double {
    let n = 20_000_000
    var a = [Double](repeating: 0, count: n)
    let b = [Double](repeating: 1, count: n), c = [Double](repeating: 2, count: n)
    let workers = Parallelism.workerCount
    let seconds = median(5) {
        a.withUnsafeMutableBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeBufferPointer { cp in
            let chunk = (n + workers - 1) / workers
            Parallelism.run(workers) { k in
                for i in (k * chunk)..<min(n, (k + 1) * chunk) { ap[i] = bp[i] + 3.0 * cp[i] }
            }
        }}}
    }
    return Double(3 * 8 * n) / seconds
}

/// Linux: returns freed heap to the system and resets the peak-RSS mark (`VmHWM`) to the current RSS,
/// so that `residentPeakBytes()` afterwards is the peak of what follows. Returns the RSS then (0 elsewhere).
func resetPeakRSS() -> Double {
    #if os(Linux)
    // malloc_trim(0) (glibc; not in Swift's Glibc module, hence dlsym).
    if let symbol = dlsym(nil, "malloc_trim") {
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        handle.write(Data("5".utf8))
        try? handle.close()
    }
    return statusBytes("VmRSS")
    #else
    return 0
    #endif
}

/// `VmHWM` (peak RSS since the last reset) on Linux, 0 elsewhere.
func residentPeakBytes() -> Double { statusBytes("VmHWM") }

func statusBytes(_ field: String) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let digits = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""
        return (Double(digits.trimmingCharacters(in: .whitespaces)) ?? 0) * 1024
    }
    return 0
}

func argument(_ name: String, _ args: [String]) -> String? {
    guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))

}

/// `core --matrix FILE [--aat]`: parse, SpMV, SpMVᵀ, bandwidth and (optionally) A·Aᵀ on one matrix file.
func core(_ args: [String]) throws {
    let path = argument("matrix", args)!
    let url = URL(fileURLWithPath: path)
    let bytes = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    var options = ReadOptions()
    options.budget = .unlimited
    var a: CSRMatrix?
    let parse = try median(3) { a = try MatrixIO.readMatrix(at: url, options: options).matrix }
    let A = a!
    var rng = SplitMix64(seed: 1)
    let x = (0..<A.columnCount).map { _ in rng.nextGaussian() }
    let u = (0..<A.rowCount).map { _ in rng.nextGaussian() }
    var sink = 0.0
    let spmv = try median(20) { sink += try A.multiply(x)[0] }
    let spmvT = try median(20) { sink += try A.transposeMultiply(u)[0] }
    let csc = CSCMatrix(A)
    let spmvTcsc = try median(20) { sink += try csc.transposeMultiply(u)[0] }
    var result: [String: Any] = [
        "rows": A.rowCount, "columns": A.columnCount, "nnz": A.nnz, "fileBytes": bytes,
        "parseSeconds": parse, "spmvSeconds": spmv, "spmvTSeconds": spmvT, "spmvTFromCSCSeconds": spmvTcsc,
        "triadBytesPerSecond": triadBandwidth(), "threads": Parallelism.workerCount, "sink": sink.isFinite,
    ]
    if args.contains("--aat") {
        var c = 0
        result["aatNativeSeconds"] = try median(3) { c = try A.product(.aat, options: ProductOptions(budget: .unlimited)).nnz }
        result["aatNnz"] = c
        result["aatUpperSeconds"] = try median(3) {
            c = try A.product(.aat, options: ProductOptions(budget: .unlimited, upperTriangleOnly: true)).nnz
        }
        result["aatUpperNnz"] = c
        result["aatCholmodSeconds"] = try median(1) {
            c = try A.product(.aat, options: ProductOptions(budget: .unlimited, engine: .cholmod)).nnz
        }
        let t = now()
        let estimate = try A.estimateProduct(.aat)
        result["aatEstimateSeconds"] = now() - t
        result["aatEstimatedNnz"] = estimate.nnz
    }
    result["peakRSSBytes"] = peakRSSBytes()
    emit(result)
}

/// `product --matrix FILE [--upper] [--repeat k] [--block-bytes b]`: only A·Aᵀ, timed (for working on the product kernels).
func productOnly(_ args: [String]) throws {
    var options = ReadOptions()
    options.budget = .unlimited
    let A = try MatrixIO.readMatrix(at: URL(fileURLWithPath: argument("matrix", args)!), options: options).matrix
    let upper = args.contains("--upper")
    var c = 0
    let blockBytes = argument("block-bytes", args).flatMap { Int($0) }
    let seconds = try median(Int(argument("repeat", args) ?? "3")!) {
        if let blockBytes {   // the kernel itself, with another mirror block size
            let (l, r) = try A.productOperands(.aat, with: nil)
            c = try SymmetricProductKernel.multiply(l, r, full: !upper, budget: .unlimited, label: "A·Aᵀ",
                                                    blockBytes: blockBytes).nnz
        } else {
            c = try A.product(.aat, options: ProductOptions(budget: .unlimited, upperTriangleOnly: upper)).nnz
        }
    }
    emit(["seconds": seconds, "nnz": c, "upper": upper, "peakRSSBytes": peakRSSBytes()])
}

/// `parse --matrix FILE [--repeat k]`: only the read into CSR, timed (for working on the readers).
func parseOnly(_ args: [String]) throws {
    var options = ReadOptions()
    options.budget = .unlimited
    let url = URL(fileURLWithPath: argument("matrix", args)!)
    var nnz = try MatrixIO.readMatrix(at: url, options: options).matrix.nnz   // warm-up
    var times: [Double] = []
    for _ in 0..<Int(argument("repeat", args) ?? "5")! {
        let t = now()
        nnz = try MatrixIO.readMatrix(at: url, options: options).matrix.nnz
        times.append(now() - t)
    }
    emit(["seconds": times.sorted()[times.count / 2], "allSeconds": times, "nnz": nnz])
}

/// `generate --rows m --cols n --density d --seed s --out FILE`: write a benchmark matrix (and y, x_true beside it).
func generate(_ args: [String]) throws {
    let m = Int(argument("rows", args)!)!, n = Int(argument("cols", args)!)!
    let d = Double(argument("density", args)!)!, seed = UInt64(argument("seed", args) ?? "1")!
    let sd = Double(argument("solution-density", args) ?? "0.02")!, noise = Double(argument("noise", args) ?? "0.01")!
    let out = argument("out", args)!
    let p = try SyntheticProblem.generate(rows: m, columns: n, density: d, solutionDensity: sd, noise: noise, seed: seed)
    let format = MatrixFileFormat.infer(fromPath: out) ?? .matrixMarket
    try MatrixIO.writeMatrix(p.matrix, to: URL(fileURLWithPath: out), format: format)
    let base = URL(fileURLWithPath: out).deletingPathExtension().path
    try MatrixIO.writeVector(p.rhs, to: URL(fileURLWithPath: base + ".y.npy"), sparse: false)
    emit(["rows": m, "columns": n, "nnz": p.matrix.nnz, "file": out])
}

/// `solve --matrix FILE --rhs FILE.npy --solver K [--l1 λ] [--l2 λ] [--tol t] [--epochs e] [--max-iter k] [--eta0 η]
/// [--schedule s]`: one solve, timed, with the true objective and (for CD) duality gap.
func solve(_ args: [String]) throws {
    let residentAtStart = statusBytes("VmRSS")
    let a = try MatrixIO.readMatrix(at: URL(fileURLWithPath: argument("matrix", args)!),
                                    options: { var o = ReadOptions(); o.budget = .unlimited; return o }()).matrix
    let y = try MatrixIO.readVector(at: URL(fileURLWithPath: argument("rhs", args)!))
    let baseline = peakRSSBytes()
    var options = SolverOptions()
    options.solver = SolverKind(rawValue: argument("solver", args)!)!
    options.tolerance = Double(argument("tol", args) ?? "1e-8")!
    options.epochs = argument("epochs", args).flatMap { Int($0) }
    options.maxIterations = argument("max-iter", args).flatMap { Int($0) }
    options.initialLearningRate = argument("eta0", args).flatMap { Double($0) }
    if let s = argument("schedule", args) { options.learningRate = LearningRateSchedule(rawValue: s)! }
    options.seed = 7
    let regularization = Regularization(l1: Double(argument("l1", args) ?? "0")!, l2: Double(argument("l2", args) ?? "0")!)
    let problem = try LeastSquaresProblem(matrix: a, rhs: y, regularization: regularization)
    // `peakRSSBytes` is the solve's own peak: the reader's transient buffers are returned and the mark
    // reset first (Linux). The process's peak until then (the reader's) is `readPeakRSSBytes`.
    let residentBefore = resetPeakRSS()
    // --repeat k: k solves in this process, the median time reported (each solve allocates afresh).
    let repeats = max(1, argument("repeat", args).flatMap { Int($0) } ?? 1)
    var times: [Double] = [], setups: [Double] = []
    var last: Solution?
    // The peak is each solve's own (the mark reset, and freed memory returned, before every one), the largest of them.
    var peak = 0.0
    for k in 0..<repeats {
        if k > 0 {
            last = nil
            _ = resetPeakRSS()
        }
        let t = now()
        last = try LeastSquaresSolver.solve(problem, options: options)
        times.append(now() - t)
        setups.append(last!.report.setupSeconds)
        peak = max(peak, peakRSSBytes())
    }
    let solution = last!
    // The median run's time, and that same run's setup time.
    let median = times.indices.sorted { times[$0] < times[$1] }[times.count / 2]
    let seconds = times[median]
    let r = solution.report
    var out: [String: Any] = [
        "solver": r.solver.rawValue, "seconds": seconds, "iterations": r.iterations, "stopReason": r.stopReason.rawValue,
        "objective": problem.objective(solution.x), "residualNorm": r.residualNorm, "nnzX": r.nnzX,
        "peakRSSBytes": peak, "readPeakRSSBytes": baseline,
        "csrBytes": StorageBytes.compressed(outer: a.rowCount, nnz: Double(a.nnz)),
    ]
    if let g = r.dualityGap { out["dualityGap"] = g }
    out["setupSeconds"] = setups[median]
    out["residentAtStartBytes"] = residentAtStart
    out["residentBeforeSolveBytes"] = residentBefore
    if repeats > 1 { out["allSeconds"] = times }
    out["diagnostics"] = r.diagnostics
    emit(out)
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "core": try core(args)
    case "product": try productOnly(args)
    case "parse": try parseOnly(args)
    case "generate": try generate(args)
    case "solve": try solve(args)
    default:
        FileHandle.standardError.write(Data("usage: LsqBench core --matrix FILE [--aat] | generate --rows m --cols n --density d --out FILE\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("LsqBench: \(error)\n".utf8))
    exit(1)
}
