import Emulators
import Flows
import Foundation
import Hub
import Logging
import Testing
@testable import TelegramConnector

/// Stands in for the hub's intake: keeps each event once per (trigger, dedup key), as the
/// hub's store does, and records every `emit` call.
actor RecordingSink: EventSink {
    private(set) var stored: [IncomingEvent] = []
    private(set) var emitted: [IncomingEvent] = []
    /// When set, `emit` stores the event and then never returns (until cancelled): a process
    /// that dies between storing an update and confirming it to Telegram.
    var hangAfterStoring = false
    /// When set, `emit` throws as a database outage would.
    var failing = false

    func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
        emitted.append(event)
        if failing { throw ConnectorError(code: "db-down", "database unavailable") }
        let duplicate = stored.contains { $0.trigger == event.trigger && $0.dedupKey == event.dedupKey }
        if !duplicate { stored.append(event) }
        if hangAfterStoring {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(1)) }
            throw CancellationError()
        }
        return duplicate ? .duplicate : .accepted(runs: 1)
    }

    func set(hang: Bool? = nil, failing: Bool? = nil) {
        if let hang { hangAfterStoring = hang }
        if let failing { self.failing = failing }
    }
}

/// One emulated bot on a loopback port, a temp SQLite database with the hub's tables, and
/// connectors built against both.
struct TelegramHarness {
    static let token = "7000000001:AAE-test_token_value_abcdefghijklm"
    static let groupID: Int64 = -1001234567890
    static let operatorsID: Int64 = -1009876543210
    static let ada = EmulatedUser(id: 111_222_333, firstName: "Ada", username: "ada")
    static let operatorUser = EmulatedUser(id: 555_000_111, firstName: "Olga", username: "olga_support")

    let emulator: TelegramEmulator
    let server: EmulatorServer
    let database: SQLiteDatabase
    let directory: URL

    static func start(protectedGroup: Bool = true) async throws -> TelegramHarness {
        let emulator = TelegramEmulator(token: token, botUsername: "session_hub_bot")
        emulator.addGroup(id: groupID, title: "Paid sessions", hasProtectedContent: protectedGroup)
        emulator.addGroup(id: operatorsID, title: "Operators", hasProtectedContent: false)
        let server = try await EmulatorServer.start(emulator.router(), name: "telegram")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("telegram-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try SQLiteDatabase(path: directory.appendingPathComponent("hub.db").path)
        try await Store(database: database).migrate()
        return TelegramHarness(emulator: emulator, server: server, database: database, directory: directory)
    }

    func stop() async {
        await emulator.shutdown()
        await server.stop()
        await database.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A connector on the emulator; settings override the defaults below.
    func connector(_ sink: RecordingSink = RecordingSink(), settings: [String: Value] = [:], publicURL: String = "http://127.0.0.1:1",
                   database useDatabase: Bool = true, logger: Logger = Logger(label: "test.telegram")) throws -> TelegramConnector
    {
        var config: [String: Value] = [
            "token": .string(Self.token), "api_url": .string(server.baseURL),
            "group_id": .id(Self.groupID), "operators_chat_id": .id(Self.operatorsID),
        ]
        config.merge(settings) { _, new in new }
        let services = ConnectorServices(instance: "telegram", logger: logger, database: useDatabase ? database : nil,
                                         http: CurlHTTPClient(), events: sink, publicURL: publicURL)
        var connector = try TelegramConnector(config: Fields(config), services: services)
        connector.timings = TelegramTimings(lease: .seconds(5), renew: .milliseconds(500), standby: .milliseconds(100),
                                            backoff: .milliseconds(50), maxBackoff: .milliseconds(200), longPoll: 1)
        return connector
    }

    static func call(_ action: String, _ inputs: [String: Value], key: String = UUID().uuidString) -> ActionCall {
        ActionCall(action: action, inputs: Fields(inputs), idempotencyKey: key, runID: "run-1", stepID: "step-1", flow: "test",
                   logger: Logger(label: "test.telegram.call"))
    }
}

/// Waits (bounded) until `condition` holds; `false` when it never did.
func eventually(within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Collects log messages, to check what the connector says (and that the token is never in it).
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }

    var logger: Logger {
        var logger = Logger(label: "test.telegram") { _ in CapturedLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturedLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        sink.append("\(event.level) \(event.message) \(all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
    }
}
