import ArgumentParser
import Flows
import Hub

struct ConnectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectors",
        abstract: "Print the built-in connectors' docs (config, actions, triggers), generated from their specs."
    )

    @Flag(help: "Print the specs as JSON.")
    var json = false

    func run() {
        let specs = BuiltinConnectors.registry.specs
        print(json ? ConnectorDocs.json(specs).json : ConnectorDocs.markdown(specs))
    }
}
