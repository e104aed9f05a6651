import ArgumentParser
import Flows
import Foundation
import Hub

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check flow files against the connectors' specs; exit 1 when there are errors.",
        discussion: "With --online, also ask every configured connector whether its service answers and is set up right "
            + "(Telegram bot and group, Zoom token, OpenAI, Prodamus); an error there exits 1 too."
    )

    @Argument(help: "Flow files or folders (default: HUB_FLOWS, or ./flows).")
    var paths: [String] = []

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(help: "After the offline checks, contact the configured services and report their health.")
    var online = false

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func run() async throws {
        let settings = try HubSettings()
        let (catalog, configDiagnostics, configSource) = settings.catalog(registry: BuiltinConnectors.registry)
        let set = FlowSet.load(paths: paths.isEmpty ? [settings.flowsPath] : paths, catalog: catalog, environment: settings.environment)
        let diagnostics = configDiagnostics + set.diagnostics
        var sources = set.sources
        sources[settings.configPath] = configSource
        let health = online ? await Self.survey(settings: settings, catalog: catalog, flows: set.flows) : nil
        switch format {
        case .text:
            print(CheckReport.text(diagnostics, sources: sources, fileCount: set.sources.count + (configSource == nil ? 0 : 1)))
            if let health { print(Self.text(health)) }
        case .json:
            if let health {
                print("{\"diagnostics\": \(CheckReport.json(diagnostics)), \"health\": \(Self.json(health).json)}")
            } else {
                print(CheckReport.json(diagnostics))
            }
        }
        let healthFailed = health?.contains { $0.level == .error } ?? false
        if diagnostics.hasErrors || healthFailed { throw ExitCode(1) }
    }

    /// One line of the online report: `instance.check: level: message`.
    struct Line {
        var instance: String
        var check: String
        var level: HealthCheck.Level
        var message: String
    }

    /// Builds the configured connectors from the environment (and `hub.yaml`) and asks each for its health.
    static func survey(settings: HubSettings, catalog: Catalog, flows: [Flow]) async -> [Line] {
        var needed: Set<String> = []
        for flow in flows {
            needed.formUnion(flow.steps.map(\.instance))
            if case .event(let instance, _) = flow.trigger { needed.insert(instance) }
        }
        let store = openExistingStore(settings.databaseURL)
        let standalone = ConnectorHealth.standalone(catalog: catalog, settings: settings, needed: needed, database: store?.database)
        var lines = standalone.problems.map { problem in
            Line(instance: problem.name, check: "config", level: problem.needed ? .error : .ok,
                 message: problem.message + (problem.needed ? "" : " (no flow uses it)"))
        }
        for instance in await ConnectorHealth.survey(standalone.connectors) {
            lines += instance.checks.map { Line(instance: instance.name, check: $0.name, level: $0.level, message: $0.message) }
        }
        await store?.close()
        // By instance; within one, in the order the connector reports its checks.
        return lines.enumerated().sorted { ($0.element.instance, $0.offset) < ($1.element.instance, $1.offset) }.map(\.element)
    }

    /// The hub's database, only when there is one already: a check must not create an empty SQLite file.
    /// The Telegram check reads from it which hub process receives updates.
    static func openExistingStore(_ url: String) -> Store? {
        try? Store.open(url, poolSize: 1, mustExist: true)
    }

    static func text(_ lines: [Line]) -> String {
        var out = ["online checks:"]
        var afterProblem = false
        for line in lines {
            // A warning or an error is what the owner has to act on: blank lines set it apart.
            if line.level != .ok || afterProblem { out.append("") }
            out.append("\(line.instance).\(line.check): \(line.level.rawValue): \(line.message)")
            afterProblem = line.level != .ok
        }
        if afterProblem { out.append("") }
        let errors = lines.filter { $0.level == .error }.count, warnings = lines.filter { $0.level == .warning }.count
        out.append("online: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        return out.joined(separator: "\n")
    }

    static func json(_ lines: [Line]) -> Value {
        .array(lines.map { ["instance": .string($0.instance), "check": .string($0.check), "level": .string($0.level.rawValue), "message": .string($0.message)] })
    }
}
