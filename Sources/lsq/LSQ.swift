// lsq/LSQ: the root command; subcommands live one per file.
import ArgumentParser

@main
struct LSQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsq",
        abstract: "Sparse linear least squares: min ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖².",
        subcommands: [ServeCommand.self])
}
