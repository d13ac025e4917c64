// lsq/ProgressReporter: progress on stderr — a live bar with rate and ETA on a terminal, plain periodic lines otherwise.
import Foundation
import LeastSquares
import SparseTensor
import Synchronization

/// Writes progress to stderr. On a terminal: one line redrawn in place (≤ 10 times a second) with a bar,
/// rate and ETA when the total is known. Otherwise (logs, pipes): a plain line every `interval` seconds.
final class ProgressReporter: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let interval: Double
    private let state = Mutex<(last: Double, drawn: Bool, start: Double)>((ProgressReporter.now(), false, ProgressReporter.now()))

    init(interval: Double = 2) { self.interval = interval }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private func emit(_ text: String, force: Bool = false) {
        let t = Self.now()
        let shouldWrite: Bool = state.withLock { s in
            let gap = isTerminal ? 0.1 : interval
            guard force || t - s.last >= gap else { return false }
            s.last = t
            s.drawn = isTerminal
            return true
        }
        guard shouldWrite else { return }
        let line = isTerminal ? "\r\u{1B}[2K" + text : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    private static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = max(0, min(width, Int(fraction * Double(width))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    private static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        if s < 60 { return String(format: "%.0fs", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) / 60) % 60)
    }

    /// Parsing progress: bytes read of total.
    func bytes(_ read: Int, of total: Int) {
        let elapsed = Self.now() - state.withLock { $0.start }
        let rate = Double(read) / max(elapsed, 1e-9)
        let fraction = total > 0 ? Double(read) / Double(total) : 0
        let eta = rate > 0 ? Double(total - read) / rate : .nan
        emit("reading \(Self.bar(fraction)) \(ByteCount.format(Double(read)))/\(ByteCount.format(Double(total))) "
             + "\(ByteCount.format(rate))/s ETA \(Self.duration(eta))")
    }

    /// Solver progress.
    func solver(_ p: SolverProgress, label: String) {
        let rate = Double(p.iteration) / max(p.elapsedSeconds, 1e-9)
        var text = String(format: "%@ iter %d  f=%.6g  ‖r‖=%.4g  %.3g it/s  %@", label, p.iteration, p.objective,
                          p.residualNorm, rate, Self.duration(p.elapsedSeconds))
        if let f = p.fractionOfLimit, f > 0 {
            text = Self.bar(f) + " " + text + "  ETA≤" + Self.duration(p.elapsedSeconds * (1 - f) / f)
        }
        emit(text)
    }

    /// Message line (always printed, ends a drawn bar first).
    func note(_ text: String) {
        finishLine()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Ends an in-place line so following output starts clean.
    func finishLine() {
        let drawn = state.withLock { s in let d = s.drawn; s.drawn = false; s.last = Self.now(); return d }
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
