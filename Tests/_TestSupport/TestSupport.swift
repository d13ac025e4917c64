// _TestSupport: references and fixtures shared by the test targets (no stable API).
import Foundation
import SparseTensor

/// Paths of the repository, its `data/` and the real matrices in `../shared/data`.
public enum Fixtures {
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/_TestSupport/TestSupport.swift → root
        return url
    }()

    /// `../shared/data` beside the clone (CI puts shared/ there); `LSQ_SHARED_DATA` overrides.
    public static let sharedData: URL = {
        if let p = ProcessInfo.processInfo.environment["LSQ_SHARED_DATA"] { return URL(fileURLWithPath: p) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    public static func shared(_ name: String) -> URL { sharedData.appendingPathComponent(name) }
    public static func data(_ name: String) -> URL { repositoryRoot.appendingPathComponent("data").appendingPathComponent(name) }

    /// A fresh temporary directory, removed by the caller or left for inspection; the first call of a test process
    /// removes those that earlier runs left more than an hour ago.
    public static func temporaryDirectory() -> URL {
        _ = staleDirectoriesRemoved
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lsq-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static let staleDirectoriesRemoved: Bool = {
        let fm = FileManager.default
        let root = fm.temporaryDirectory
        let cutoff = Date().addingTimeInterval(-3600)
        for name in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where name.hasPrefix("lsq-test-") {
            let url = root.appendingPathComponent(name)
            if let modified = try? fm.attributesOfItem(atPath: url.path)[.modificationDate] as? Date, modified < cutoff {
                try? fm.removeItem(at: url)
            }
        }
        return true
    }()
}

/// Dense references for small matrices.
public enum DenseReference {
    public static func multiply(_ a: [[Double]], _ x: [Double]) -> [Double] {
        a.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    public static func transpose(_ a: [[Double]], columns n: Int) -> [[Double]] {
        (0..<n).map { j in a.map { $0[j] } }
    }

    public static func multiply(_ a: [[Double]], _ b: [[Double]], columns n: Int) -> [[Double]] {
        a.map { row in
            (0..<n).map { j in
                var s = 0.0
                for k in 0..<row.count where row[k] != 0 { s += row[k] * b[k][j] }
                return s
            }
        }
    }

    /// Solves the dense least-squares problem min ‖b − A·x‖² + λ‖x‖² by the normal equations with
    /// Gaussian elimination and partial pivoting (small, well-conditioned test problems only).
    public static func ridge(_ a: [[Double]], _ b: [Double], lambda: Double = 0) -> [Double] {
        let n = a.first?.count ?? 0
        let gram = (0..<n).map { i in (0..<n).map { j in a.reduce(0) { $0 + $1[i] * $1[j] } + (i == j ? lambda : 0) } }
        let rhs = (0..<n).map { i in zip(a, b).reduce(0) { $0 + $1.0[i] * $1.1 } }
        return solve(gram, rhs)
    }

    /// Solves the small square system G·x = r by Gauss–Jordan elimination with partial pivoting
    /// (well-conditioned test systems only).
    public static func solve(_ gram: [[Double]], _ rhs: [Double]) -> [Double] {
        let n = rhs.count
        var g = gram
        for i in 0..<n { g[i].append(rhs[i]) }
        for c in 0..<n {
            let p = (c..<n).max { abs(g[$0][c]) < abs(g[$1][c]) }!
            g.swapAt(c, p)
            for r in 0..<n where r != c {
                let f = g[r][c] / g[c][c]
                if f != 0 { for k in c...n { g[r][k] -= f * g[c][k] } }
            }
        }
        return (0..<n).map { g[$0][n] / g[$0][$0] }
    }
}

/// max |a − b| / max(1, max |b|): one number for comparing vectors; +∞ when a difference is not finite
/// (a NaN or an infinity in either vector), so that a comparison `< tolerance` fails on it.
public func relativeError(_ tst: [Double], _ ref: [Double]) -> Double {
    precondition(tst.count == ref.count, "length \(tst.count) vs \(ref.count)")
    var num = 0.0, den = 1.0
    for i in 0..<ref.count {
        let d = abs(tst[i] - ref[i])
        guard d.isFinite else { return .infinity }
        num = max(num, d)
        den = max(den, abs(ref[i]))
    }
    return num / den
}

/// A small random matrix with its dense copy.
public func randomSmall(rows m: Int, columns n: Int, density: Double, seed: UInt64) -> (CSRMatrix, [[Double]]) {
    let a = RandomSparse.matrix(rows: m, columns: n, density: density, seed: seed)
    return (a, a.dense())
}
