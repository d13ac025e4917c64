// lsq/OutputFile: writing x and matrices atomically, by extension.
import Foundation
import SparseTensor

enum OutputFile {
    /// Fails early (exit 1) when the output's directory does not exist, before any work is done.
    static func checkWritable(_ path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIFailure.badInput("\(path): the directory \(dir) does not exist")
        }
    }

    /// x as .mtx (coordinate when at most half is nonzero, else array), .npy, or .json
    /// (`{"length": n, "indices": […], "values": […]}` when sparse, `{"x": […]}` when dense).
    static func writeSolution(_ x: [Double], to path: String) throws {
        let nnz = x.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        let sparse = nnz * 2 <= x.count
        let url = URL(fileURLWithPath: path)
        switch url.pathExtension.lowercased() {
        case "json":
            let object: [String: Any]
            if sparse {
                let s = SparseVector(dense: x)
                object = ["length": x.count, "indices": s.indices, "values": s.values]
            } else {
                object = ["x": x]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [])
            do { try data.write(to: url, options: .atomic) } catch {
                throw CLIFailure.badInput("\(path): cannot write: \(error.localizedDescription)")
            }
        case "mtx", "mm", "npy":
            do { try MatrixIO.writeVector(x, to: url, sparse: sparse) } catch { throw CLIFailure.badInput(error.description) }
        default:
            throw CLIFailure.badInput("\(path): unknown output extension; use .mtx, .npy or .json")
        }
    }
}
