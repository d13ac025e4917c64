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

    /// The extensions `writeSolution` knows.
    static let solutionExtensions = ["mtx", "mm", "npy", "txt", "json"]

    private static func unknownSolutionExtension(_ path: String) -> CLIFailure {
        CLIFailure.badInput("\(path): unknown output extension; use .mtx, .npy, .txt or .json")
    }

    /// Fails early (exit 1) when x could not be written at `path`: no such directory, or an extension
    /// `writeSolution` does not know — before a solve that may take hours.
    static func checkSolutionPath(_ path: String) throws {
        try checkWritable(path)
        guard solutionExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased()) else {
            throw unknownSolutionExtension(path)
        }
    }

    /// The format of a matrix output, from `explicit` (the value of `option`) or else the path's extension;
    /// checked before any work. SVMlight only when `labelsAvailable` (a row's label is part of that format).
    static func matrixFormat(_ path: String, explicit: String? = nil, option: String = "--to",
                             labelsAvailable: Bool, labelsAdvice: String) throws -> MatrixFileFormat {
        let format: MatrixFileFormat
        if let explicit {
            guard let f = MatrixFileFormat(rawValue: explicit.lowercased()) else {
                throw CLIFailure.usage("\(option): expected one of \(MatrixFileFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(explicit)'")
            }
            format = f
        } else {
            guard let f = MatrixFileFormat.infer(fromPath: path) else {
                throw CLIFailure.usage("\(path): cannot tell the output format from the extension (.mtx, .npz, .lsqb, .tri, .svm)"
                                       + (option == "--to" ? "; pass --to" : ""))
            }
            format = f
        }
        if format == .svmlight && !labelsAvailable {
            throw CLIFailure.usage("\(path): SVMlight output needs a label per row; \(labelsAdvice)")
        }
        try checkWritable(path)
        return format
    }

    /// x as .mtx (coordinate when at most half is nonzero, else array), .npy, .txt (one number a line) or .json
    /// (`{"length": n, "indices": […], "values": […]}` when sparse, `{"x": […]}` when dense).
    static func writeSolution(_ x: [Double], to path: String) throws {
        let nnz = x.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        let sparse = nnz * 2 <= x.count
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.lowercased()
        guard solutionExtensions.contains(ext) else { throw unknownSolutionExtension(path) }
        switch ext {
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
        default:  // mtx, mm, npy, txt
            do { try MatrixIO.writeVector(x, to: url, sparse: sparse) } catch { throw CLIFailure.badInput(error.description) }
        }
    }
}
