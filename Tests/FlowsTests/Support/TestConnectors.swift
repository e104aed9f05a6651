import Flows
import Synchronization

/// A small shop database for tests: the same SDK the real connectors use.
struct ShopConnector: Connector {
    static let spec = ConnectorSpec(
        name: "shop", summary: "Test shop records.", defaultInstance: "db",
        config: [.optional("greeting", .string, "a setting", default: "hi")],
        actions: [
            ActionSpec(name: "mark_paid", summary: "Marks an order paid.",
                       inputs: [.required("order", .string, "order id"), .optional("amount", .number, "sum")],
                       outputs: [.output("telegram_id", .integer, "the member's Telegram id"),
                                 .output("member", .object, "the member", fields: [.output("name", .string, "name"), .output("paid", .boolean, "paid")])],
                       example: "id: member\ndo: db.mark_paid\nwith: { order: \"{{ event.order_num }}\" }"),
        ],
        triggers: [
            TriggerSpec(name: "paid", summary: "A payment arrived.",
                        fields: [.output("order_num", .string, "our order"), .output("sum", .string, "amount")],
                        example: "on: db.paid\nsteps:\n  - do: db.mark_paid\n    with: { order: \"{{ event.order_num }}\" }"),
        ])

    let calls: Recorder

    init(config: ConnectorConfig, services: ConnectorServices) { calls = Recorder() }
    init(recorder: Recorder) { calls = recorder }

    func perform(_ call: ActionCall) async throws -> Value {
        calls.append(call)
        if call.inputs.get("order") == "missing" { throw ConnectorError.permanent("not-found", "no such order") }
        if call.inputs.get("order") == "flaky" { throw ConnectorError(code: "http-503", "try later") }
        return ["telegram_id": 42, "member": ["name": "Ann", "paid": true]]
    }
}

/// A test bot with a secret token and typed inputs.
struct BotConnector: Connector {
    static let spec = ConnectorSpec(
        name: "bot", summary: "Test bot.", defaultInstance: "bot",
        config: [.required("token", .string, "bot token", secret: true, environment: "TEST_BOT_TOKEN")],
        actions: [
            ActionSpec(name: "send_invite", summary: "Sends an invite.",
                       inputs: [.required("user", .integer, "Telegram user id"), .optional("protect_content", .boolean, "protect", default: true),
                                .optional("token", .string, "override token", secret: true)],
                       outputs: [.output("link", .string, "invite link")],
                       example: "do: bot.send_invite\nwith: { user: 42 }"),
        ])

    let calls: Recorder

    init(config: ConnectorConfig, services: ConnectorServices) { calls = Recorder() }
    init(recorder: Recorder) { calls = recorder }

    func perform(_ call: ActionCall) async throws -> Value {
        calls.append(call)
        return ["link": .string("https://t.me/+\(call.inputs.get("user") ?? "")")]
    }
}

final class Recorder: Sendable {
    private let state = Mutex<[ActionCall]>([])
    func append(_ call: ActionCall) { state.withLock { $0.append(call) } }
    var calls: [ActionCall] { state.withLock { $0 } }
}

enum TestCatalog {
    static let registry = ConnectorRegistry([ShopConnector.self, BotConnector.self])
    static var catalog: Catalog { Catalog.defaults(registry) }

    static func compile(_ text: String, file: String = "flows/test.yaml", environment: [String: String] = [:]) -> (flow: Flow?, diagnostics: [Diagnostic]) {
        var compiler = FlowCompiler(catalog: catalog, environment: environment)
        return compiler.compile(text, file: file)
    }
}
