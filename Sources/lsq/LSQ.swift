// lsq/LSQ: the root command, exit-code mapping, and the documented exit codes.
import ArgumentParser
import Foundation

@main
struct LSQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsq",
        abstract: "Sparse linear least squares: min ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖².",
        discussion: """
        Reads Matrix Market (.mtx), SVMlight (.svm/.libsvm), scipy .npz, lsq binary (.lsqb) \
        and CSparse triplet (.tri) files.

        EXIT CODES
          0    solved to tolerance (or the command succeeded)
          1    bad input: missing/unreadable file, bad format, shape mismatch,
               over the memory budget
          2    usage error (unknown option, bad value)
          3    stopped at an iteration, epoch, time or condition (--conlim) limit before the tolerance
          130  interrupted (Ctrl-C)
        """,
        version: "0.1.0",
        subcommands: [SolveCommand.self, MultiplyCommand.self, InfoCommand.self, ConvertCommand.self,
                      GenerateCommand.self, ServeCommand.self])

    /// Parses and runs, mapping errors to the documented exit codes (ArgumentParser's usage code 64 becomes 2).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("lsq: error: \(failure.message)\n".utf8))
            Foundation.exit(failure.code)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let exitCode = Self.exitCode(for: error)
            let message = Self.fullMessage(for: error)
            if exitCode == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message.isEmpty ? "" : message + "\n").utf8))
            Foundation.exit(exitCode == .validationFailure ? 2 : (exitCode == .failure ? 1 : exitCode.rawValue))
        }
    }
}

/// An error that ends the command with a message on stderr and a documented exit code.
struct CLIFailure: Error {
    var message: String
    var code: Int32

    static func badInput(_ message: String) -> CLIFailure { CLIFailure(message: message, code: 1) }
    static func usage(_ message: String) -> CLIFailure { CLIFailure(message: message, code: 2) }
}
