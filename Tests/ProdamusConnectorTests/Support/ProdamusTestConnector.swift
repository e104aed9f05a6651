import Flows
import Logging
@testable import ProdamusConnector

/// Prodamus' published demo page secret (reference §1.3, [D9]).
let prodamusDemoSecret = "2y2aw4oknnke80bp1a8fniwuuq7tdkwmmuq7vwi4nzbr8z1182ftbn6p8mhw3bhz"

/// A connector instance wired to a recording sink, configured the way the hub would.
func makeProdamus(secret: String = prodamusDemoSecret, formURL: String = "https://demo.payform.ru/", config extra: [String: Value] = [:],
                  sink: RecordingEventSink = RecordingEventSink(), publicURL: String = "https://hub.example") throws -> ProdamusConnector
{
    var values: [String: Value] = ["form_url": .string(formURL), "secret_key": .string(secret),
                                   "webhook_path": "/hooks/prodamus", "currency": "rub", "demo_mode": false]
    values.merge(extra) { $1 }
    var logger = Logger(label: "test.prodamus")
    logger.logLevel = .critical
    let services = ConnectorServices(instance: "prodamus", logger: logger, database: nil, http: CurlHTTPClient(),
                                     events: sink, publicURL: publicURL)
    return try ProdamusConnector(config: Fields(values), services: services)
}

/// Calls an action the way the engine does.
func call(_ connector: ProdamusConnector, _ action: String, _ inputs: [String: Value]) async throws -> Value {
    var logger = Logger(label: "test.prodamus.call")
    logger.logLevel = .critical
    return try await connector.perform(ActionCall(action: action, inputs: Fields(inputs), idempotencyKey: "run-1:step-1",
                                                  runID: "run-1", stepID: "step-1", flow: "test", logger: logger))
}
