import CoreConnector
import Flows
@testable import Hub
import HTTPConnector
import Logging
import Testing

/// A hub's intake and worker on `store` for runtime tests: the flows compiled against the
/// built-in catalog, with the `core` and `http` connectors.
enum WorkerHarness {
    static func make(_ store: Store, flows texts: [String], environment: [String: String] = [:], owner: String,
                     lease: Duration = .seconds(60), capacity: Int, pollInterval: Duration, archive: FlowArchive? = nil) throws -> (Intake, Worker) {
        var compiler = FlowCompiler(catalog: Catalog.defaults(BuiltinConnectors.registry), environment: environment)
        let flows = FlowRegistry(try texts.enumerated().map { index, text in
            let compiled = compiler.compile(text, file: "flow\(index).yaml")
            return try #require(compiled.flow, "\(compiled.diagnostics)")
        })
        let logger = Logger(label: "test")
        let intake = Intake(store: store, flows: flows, owner: owner, lease: lease, concurrency: capacity, logger: logger)
        func services(_ instance: String) -> ConnectorServices {
            ConnectorServices(instance: instance, logger: logger, database: nil, http: CurlHTTPClient(), events: intake, publicURL: "http://127.0.0.1")
        }
        let engine = Engine(connectors: ["core": CoreConnector(config: Fields([:]), services: services("core")),
                                         "http": HTTPConnector(config: Fields([:]), services: services("http"))], logger: logger)
        return (intake, Worker(store: store, flows: flows, engine: engine, intake: intake, archive: archive, pollInterval: pollInterval,
                               logger: logger))
    }
}
