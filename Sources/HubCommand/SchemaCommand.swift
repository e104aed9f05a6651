import ArgumentParser
import Flows
import Hub

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print a JSON Schema for flow files, for editor autocompletion (yaml-language-server)."
    )

    func run() throws {
        let settings = try HubSettings()
        print(FlowSchema.generate(try settings.checkedCatalog(registry: BuiltinConnectors.registry)).json)
    }
}
