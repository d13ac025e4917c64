// lsq/ServeCommand: PLACEHOLDER, replaced by the service issue (this file is overwritten whole).
import ArgumentParser

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP solver service.")
    func run() async throws { throw ValidationError("lsq serve is not built yet") }
}
