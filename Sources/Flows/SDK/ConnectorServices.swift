import Logging

/// What the hub hands a connector instance: its name, logger, the database, outbound HTTP,
/// and the sink for the events it raises. Connectors never see the hub's HTTP server or
/// another connector, only these protocols.
public struct ConnectorServices: Sendable {
    /// The instance name from config (`db`, `telegram`, `payments`).
    public var instance: String
    public var logger: Logger
    public var database: (any SQLDatabase)?
    public var http: any HTTPClient
    public var events: any EventSink
    /// The hub's public base URL, without a trailing slash (for webhooks and links).
    public var publicURL: String

    public init(instance: String, logger: Logger, database: (any SQLDatabase)?, http: any HTTPClient, events: any EventSink, publicURL: String) {
        self.instance = instance
        self.logger = logger
        self.database = database
        self.http = http
        self.events = events
        self.publicURL = publicURL
    }
}

/// A connector instance's checked config: values with `${ENV}` resolved and defaults applied.
public typealias ConnectorConfig = Fields

/// An event a connector raises, with the key that makes re-deliveries duplicates.
public struct IncomingEvent: Sendable {
    /// The instance that raised it (`prodamus`).
    public var instance: String
    /// The trigger name as declared (`paid`).
    public var trigger: String
    public var payload: Value
    /// The provider's identity of the event (Prodamus `order_id` + `payment_status`, Telegram `update_id`).
    public var dedupKey: String
    /// Events with the same order key have their runs carried out one after another, by position
    /// (a chat's messages); nil: no order with any other event.
    public var order: EventOrder?

    public init(instance: String, trigger: String, payload: Value, dedupKey: String, order: EventOrder? = nil) {
        self.instance = instance
        self.trigger = trigger
        self.payload = payload
        self.dedupKey = dedupKey
        self.order = order
    }
}

/// Where an event stands in a sequence that must be handled in order, such as one Telegram
/// chat's updates: a later position's runs start only when no earlier one is queued or running.
public struct EventOrder: Sendable, Hashable {
    public var key: String
    public var position: Int64

    public init(key: String, position: Int64) {
        self.key = key
        self.position = position
    }
}

/// Where connectors deliver events. `emit` returns only once the event is durably stored,
/// so a webhook may be acknowledged right after it.
public protocol EventSink: Sendable {
    @discardableResult
    func emit(_ event: IncomingEvent) async throws -> EmitOutcome
    /// Stores several events of one delivery together (one wait for the database instead of
    /// one each), in order; one outcome per event. Throws if any could not be stored (those
    /// stored stay stored: a redelivery finds them as duplicates).
    func emit(_ events: [IncomingEvent]) async throws -> [EmitOutcome]
    /// Stores the event like `emit`, then waits (up to `timeout`) for the first run it started to
    /// finish, and returns that run's step results by step id. For triggers whose caller needs
    /// the flow's answer, such as a form that redirects to the payment link the flow made.
    func emitAndWait(_ event: IncomingEvent, timeout: Duration) async throws -> RunResult
}

/// What `emitAndWait` saw.
public enum RunResult: Sendable {
    /// The run completed; its step results by step id.
    case completed([String: Value])
    /// The run failed for good, with the failing step's message.
    case failed(String)
    /// No flow listens to the event, or the event was a duplicate.
    case noRun
    /// Still running when the wait ended; it goes on in the background.
    case pending
}

extension EventSink {
    public func emit(_ events: [IncomingEvent]) async throws -> [EmitOutcome] {
        var outcomes: [EmitOutcome] = []
        for event in events { outcomes.append(try await emit(event)) }
        return outcomes
    }

    public func emitAndWait(_ event: IncomingEvent, timeout: Duration) async throws -> RunResult {
        try await emit(event)
        return .pending
    }
}

public enum EmitOutcome: Sendable, Hashable {
    /// Stored with this many runs; with 0, no flow takes the event and it was not stored.
    case accepted(runs: Int)
    /// Seen before: acknowledged, nothing started.
    case duplicate
}
