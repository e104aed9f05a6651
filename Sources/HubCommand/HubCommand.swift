import ArgumentParser
import Hub

/// `hub`: the Session Hub command line. Without a subcommand it serves.
@main
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Session Hub: YAML flows that run a paid-session funnel (Prodamus, Telegram, Zoom, OpenAI).",
        subcommands: [ServeCommand.self, CheckCommand.self, ConnectorsCommand.self, SchemaCommand.self, MigrateCommand.self, RunsCommand.self, RunCommand.self, AdminCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
