import Flows
import Logging

/// Pure steps that need no outside system: compute values, log, fail on purpose.
public struct CoreConnector: Connector {
    public static let spec = ConnectorSpec(
        name: "core",
        summary: "Steps that compute values inside the hub: no outside system involved.",
        actions: [
            ActionSpec(name: "set", summary: "Returns the given values, so later steps can read them by this step's id.",
                       inputs: [.required("values", .object, "the values to return, templates allowed")],
                       outputs: nil, hasSideEffects: false,
                       exposesInputs: "returns its values: they are stored with the run and shown on its page",
                       example: "id: order\ndo: core.set\nwith:\n  values: { total: \"{{ event.body.sum }}\", currency: rub }"),
            ActionSpec(name: "log", summary: "Writes a message to the hub's log.",
                       inputs: [.required("message", .string, "the text to log"),
                                .optional("level", .choice(["debug", "info", "notice", "warning", "error"]), "log level", default: "info")],
                       outputs: [], hasSideEffects: false, exposesInputs: "writes its message to the hub's log",
                       example: "do: core.log\nwith: { message: \"order {{ event.body.order }} paid\" }"),
            ActionSpec(name: "fail", summary: "Fails the run with a message (for guard steps behind an `if:`).",
                       inputs: [.required("message", .string, "why the run stops")],
                       outputs: [], hasSideEffects: false,
                       exposesInputs: "keeps its message as the run's error, stored and shown on the run's page",
                       example: "do: core.fail\nif: \"{{ event.body.sum == 0 }}\"\nwith: { message: zero payment }"),
        ]
    )

    public init(config: ConnectorConfig, services: ConnectorServices) {}

    public func perform(_ call: ActionCall) async throws -> Value {
        switch call.action {
        case "set":
            return call.inputs["values"] ?? .object([:])
        case "log":
            let level = call.inputs.get("level").flatMap { Logger.Level(rawValue: $0) } ?? .info
            call.logger.log(level: level, "\(call.inputs.get("message") ?? "")", metadata: ["flow.name": "\(call.flow)", "run.id": "\(call.runID)"])
            return .object([:])
        default:
            throw ConnectorError.permanent("failed", try call.inputs.require("message"))
        }
    }
}
