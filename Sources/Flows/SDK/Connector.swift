import Logging

/// A plugin that connects flows to one outside system (a payment provider, a bot, a database).
///
/// An implementation must guarantee:
/// - `spec` declares every config field, action and trigger it supports; `perform` accepts
///   exactly the declared actions, with inputs already checked and defaults applied.
/// - An action with side effects uses `call.idempotencyKey` so that calling it twice with the
///   same key makes the effect once (a resumed run calls it again after a crash).
/// - Failures are thrown as `ConnectorError`, saying whether a retry can help.
/// - Secrets from the config never appear in errors, results or logs.
///
/// ```swift
/// struct EchoConnector: Connector {
///     static let spec = ConnectorSpec(name: "echo", summary: "Returns its input.", actions: [
///         ActionSpec(name: "say", summary: "Echoes text.", inputs: [.required("text", .string, "What to say")],
///                    outputs: [.output("text", .string, "The same text")], hasSideEffects: false,
///                    example: "do: echo.say\nwith: { text: hi }"),
///     ])
///     init(config: ConnectorConfig, services: ConnectorServices) throws {}
///     func perform(_ call: ActionCall) async throws -> Value {
///         ["text": .string(try call.inputs.require("text", as: String.self))]
///     }
/// }
/// ```
public protocol Connector: Sendable {
    static var spec: ConnectorSpec { get }
    /// Builds an instance from its checked config; throws `ConnectorError` when it cannot work.
    init(config: ConnectorConfig, services: ConnectorServices) throws
    /// Carries out one declared action.
    func perform(_ call: ActionCall) async throws -> Value
    /// Long-running work the instance owns (update polling, schedules of its own); runs until cancelled.
    func run() async throws
    /// HTTP endpoints the instance serves (webhooks), mounted by the hub's server.
    var routes: [WebhookRoute] { get }
    /// Tables the connector owns, created and changed by these migrations.
    static var migrations: [SchemaMigration] { get }
    /// Forgets what the connector keeps only for these runs' sake (records keyed by
    /// `ActionCall.idempotencyKey`, `RUN-ID:STEP-ID`): the hub is deleting the runs
    /// (`HUB_KEEP_RUNS`), in the transaction `db` is in. Returns how many records went.
    static func forgetRuns(_ runIDs: [String], in db: any SQLConnection, dialect: SQLDialect) throws -> Int
}

extension Connector {
    public static var migrations: [SchemaMigration] { [] }
    public static func forgetRuns(_ runIDs: [String], in db: any SQLConnection, dialect: SQLDialect) throws -> Int { 0 }
    public func run() async throws {}
    public var routes: [WebhookRoute] { [] }
}

/// One action invocation, as the engine hands it to a connector.
public struct ActionCall: Sendable {
    public var action: String
    public var inputs: Fields
    /// Stable across retries and restarts of the same step of the same run.
    public var idempotencyKey: String
    public var runID: String
    public var stepID: String
    public var flow: String
    public var logger: Logger

    public init(action: String, inputs: Fields, idempotencyKey: String, runID: String, stepID: String, flow: String, logger: Logger) {
        self.action = action
        self.inputs = inputs
        self.idempotencyKey = idempotencyKey
        self.runID = runID
        self.stepID = stepID
        self.flow = flow
        self.logger = logger
    }
}
