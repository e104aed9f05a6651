import ArgumentParser
import Flows
import Foundation
import Hub

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check flow files against the connectors' specs; exit 1 when there are errors."
    )

    @Argument(help: "Flow files or folders (default: HUB_FLOWS, or ./flows).")
    var paths: [String] = []

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func run() throws {
        let settings = try HubSettings()
        let (catalog, configDiagnostics, configSource) = settings.catalog(registry: BuiltinConnectors.registry)
        let set = FlowSet.load(paths: paths.isEmpty ? [settings.flowsPath] : paths, catalog: catalog, environment: settings.environment)
        let diagnostics = configDiagnostics + set.diagnostics
        var sources = set.sources
        sources[settings.configPath] = configSource
        switch format {
        case .text:
            print(CheckReport.text(diagnostics, sources: sources, fileCount: set.sources.count + (configSource == nil ? 0 : 1)))
        case .json:
            print(CheckReport.json(diagnostics))
        }
        if diagnostics.hasErrors { throw ExitCode(1) }
    }
}
