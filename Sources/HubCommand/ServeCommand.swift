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
        if let choice = try Self.sandboxWanted(environment, flag: sandbox) {
            let forced = choice == .forced
            // The sandbox sets no HUB_* variable, so the public URL is the one the hub will have.
            let started = try await Sandbox.start(siteURL: try HubSettings(environment: environment).publicURL)
            let sandboxed = Self.sandboxed(environment, with: started.environment, forced: forced)
            // The summary names every emulator; say which services kept their own settings instead.
            let kept = [("OPENAI_API_KEY", "OpenAI"), ("ZOOM_ACCOUNT_ID", "Zoom")].filter { sandboxed[$0.0] != started.environment[$0.0] }
            let note = kept.map { "sandbox: \($0.1) is the real service (\($0.0) is set), not the emulator\n" }.joined()
            environment = sandboxed
            FileHandle.standardOutput.write(Data((started.summary(forced: forced) + "\n" + note).utf8))
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

    /// `HUB_SANDBOX`: true (on, true, yes, 1) forces the sandbox, false (off, false, no, 0) rules
    /// it out, unset leaves it to `sandboxNeeded`; anything else is an error, not a guess.
    static func sandboxSetting(_ environment: [String: String]) throws -> Bool? {
        switch (environment["HUB_SANDBOX"] ?? "").lowercased() {
        case "": return nil
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw ValidationError("HUB_SANDBOX must be on or off")
        }
    }

    /// Why the sandbox starts: asked for (`--sandbox`, `HUB_SANDBOX=on`), or for want of credentials.
    enum SandboxChoice { case forced, automatic }

    /// Whether to start the sandbox. Asked for, it refuses a config file: the file's connectors
    /// may read their settings from variables of other names or hold them inline, which the
    /// sandbox cannot replace, so a real bot could be paired with the sandbox's published
    /// Prodamus key and invite whoever forges a payment.
    static func sandboxWanted(_ environment: [String: String], flag: Bool) throws -> SandboxChoice? {
        if try flag || sandboxSetting(environment) == true {
            let config = try HubSettings(environment: environment).configPath
            guard !FileManager.default.fileExists(atPath: config) else {
                throw ValidationError("the sandbox cannot start with \(config): its connectors keep their own settings, so some services could be "
                    + "real ones; move the file away, or set HUB_CONFIG to a file that does not exist")
            }
            return .forced
        }
        return try sandboxNeeded(environment) ? .automatic : nil
    }

    /// True when nothing says which services to use: no Prodamus or Telegram credentials, no
    /// config file (whose connectors may take theirs from variables of other names), and
    /// `HUB_SANDBOX` not off; and nothing says this is a live installation, whose queued runs
    /// and daily post must not go to emulators when it is restarted without its secrets: a
    /// PostgreSQL database, or a public address other than this machine's.
    static func sandboxNeeded(_ environment: [String: String]) throws -> Bool {
        guard try sandboxSetting(environment) != false else { return false }
        let settings = try HubSettings(environment: environment)
        let publicHost = environment["HUB_PUBLIC_URL"].flatMap { URL(string: $0)?.host?.lowercased() }
        let live = !settings.databaseURL.hasPrefix("sqlite:") || publicHost.map { !["127.0.0.1", "localhost", "::1", "[::1]"].contains($0) } == true
        return !live && (environment["PRODAMUS_SECRET_KEY"] ?? "").isEmpty && (environment["TELEGRAM_BOT_TOKEN"] ?? "").isEmpty
            && !FileManager.default.fileExists(atPath: settings.configPath)
    }

    /// The environment with the sandbox's variables. Forced, the emulators replace every service;
    /// started because Prodamus and Telegram had no credentials, a service that has its own
    /// (an OpenAI key, a Zoom app) keeps them.
    static func sandboxed(_ environment: [String: String], with sandbox: [String: String], forced: Bool) -> [String: String] {
        let credentials = ["PRODAMUS": "PRODAMUS_SECRET_KEY", "TELEGRAM": "TELEGRAM_BOT_TOKEN", "ZOOM": "ZOOM_ACCOUNT_ID", "OPENAI": "OPENAI_API_KEY"]
        var result = environment
        for (name, value) in sandbox {
            let credential = credentials[String(name.prefix { $0 != "_" })]
            let configured = !forced && credential.map { !(environment[$0] ?? "").isEmpty } == true
            if !configured { result[name] = value }
        }
        return result
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
