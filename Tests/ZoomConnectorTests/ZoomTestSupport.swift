import Emulators
import Flows
import Foundation
import Hub
import Logging
import Synchronization
import Testing
@testable import ZoomConnector

/// The hub's intake is not involved in Zoom's actions; this sink refuses everything.
struct NoEvents: EventSink {
    func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
        throw ConnectorError.permanent("no-events", "zoom raises no events")
    }
}

/// A clock the test moves by hand, so tokens age without waiting.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date()) { current = Mutex(start) }

    func advance(seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var now: @Sendable () -> Date { { self.current.withLock { $0 } } }
}

/// A Zoom emulator on a loopback port, a temp SQLite store with the connector's table, and
/// connectors built against both.
struct ZoomHarness {
    static let accountID = "AcCt_9fX2kQ"
    static let clientID = "cLiEnT_id_7Hq"
    static let clientSecret = "zoom-secret-Qw8Zr5Tn2Lp"
    static let host = "host@example.com"

    let emulator: ZoomEmulator
    let server: EmulatorServer
    let store: Store
    let directory: URL

    static func start() async throws -> ZoomHarness {
        let emulator = ZoomEmulator(accountID: accountID, clientID: clientID, clientSecret: clientSecret)
        let server = try await EmulatorServer.start(emulator.router(), name: "zoom")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zoom-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try Store.open("sqlite:" + directory.appendingPathComponent("hub.db").path)
        try await store.migrate(connectors: [ZoomConnector.self])
        return ZoomHarness(emulator: emulator, server: server, store: store, directory: directory)
    }

    func stop() async {
        await server.stop()
        await store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The config pointing at the emulator; `settings` override it (`.null` removes a key).
    func config(_ settings: [String: Value] = [:]) -> Fields {
        var config: [String: Value] = [
            "account_id": .string(Self.accountID), "client_id": .string(Self.clientID), "client_secret": .string(Self.clientSecret),
            "api_url": .string(server.baseURL + "/v2"), "oauth_url": .string(server.baseURL), "host": .string(Self.host),
        ]
        config.merge(settings) { _, new in new }
        return Fields(config.filter { !$0.value.isNull })
    }

    func connector(_ settings: [String: Value] = [:], database: Bool = true, now: @escaping @Sendable () -> Date = { Date() },
                   logger: Logger = Logger(label: "test.zoom")) throws -> ZoomConnector
    {
        let services = ConnectorServices(instance: "zoom", logger: logger, database: database ? store.database : nil,
                                         http: CurlHTTPClient(), events: NoEvents(), publicURL: "http://127.0.0.1:1")
        return try ZoomConnector(config: config(settings), services: services, now: now)
    }

    static func call(_ action: String, _ inputs: [String: Value], key: String = UUID().uuidString, flow: String = "daily-session",
                     step: String = "meeting", logger: Logger = Logger(label: "test.zoom.call")) -> ActionCall
    {
        ActionCall(action: action, inputs: Fields(inputs), idempotencyKey: key, runID: String(key.prefix(8)), stepID: step, flow: flow,
                   logger: logger)
    }

    static let meetingInputs: [String: Value] = ["topic": "Сеанс 01.12", "start": "19:00", "duration": 90]
}

/// The error an async call threw, as a `ConnectorError` (nil when it succeeded or threw something else).
func connectorError(_ body: () async throws -> Value) async -> ConnectorError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? ConnectorError
    }
}

/// Collects log lines, to check that no secret, token or host link is ever written.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "test.zoom") { _ in CapturedLogHandler(sink: self) }
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
