import ArgumentParser
import Foundation
import Emulators
import Hub
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Check the flows, then run the hub: HTTP server, workers, schedules, connectors."
    )

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    @Flag(help: "Use local emulators of Prodamus, Telegram, Zoom and OpenAI (the default when no credentials are set).")
    var sandbox = false

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { HubLogHandler(label: $0, level: level) }
        var environment = ProcessInfo.processInfo.environment
        var emulators: Sandbox?
        if sandbox || Self.sandboxNeeded(environment) {
            // The sandbox sets no HUB_* variable, so the public URL is the one the hub will have.
            let started = try await Sandbox.start(siteURL: try HubSettings(environment: environment).publicURL)
            environment.merge(started.environment) { _, sandboxValue in sandboxValue }
            FileHandle.standardOutput.write(Data((started.summary + "\n").utf8))
            emulators = started
        }
        let settings = try HubSettings(environment: environment)
        let runtime: HubRuntime
        do {
            runtime = try await HubRuntime(settings: settings)
        } catch let error as StartupError {
            FileHandle.standardError.write(Data("\(error)\nhub: refusing to start until the errors above are fixed\n".utf8))
            throw ExitCode(1)
        }
        try await runtime.run { port in
            FileHandle.standardOutput.write(Data("Session Hub is listening on http://\(settings.listenHost):\(port) (database: \(settings.databaseDescription))\n".utf8))
        }
        await emulators?.stop()
    }

    /// True when the environment has no real Prodamus or Telegram credentials (and `HUB_SANDBOX` is not `off`).
    static func sandboxNeeded(_ environment: [String: String]) -> Bool {
        environment["HUB_SANDBOX"] != "off"
            && (environment["PRODAMUS_SECRET_KEY"] ?? "").isEmpty && (environment["TELEGRAM_BOT_TOKEN"] ?? "").isEmpty
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
