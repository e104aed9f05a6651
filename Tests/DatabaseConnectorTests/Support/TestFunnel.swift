import DatabaseConnector
import Flows
import Foundation
import Hub
import Logging
import Testing

/// Which database a parameterised test runs against.
enum TestDatabaseKind: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// A `db` connector on a fresh, migrated store: a temporary SQLite file, or a new schema in the
/// PostgreSQL named by `HUB_TEST_POSTGRES_URL`, so tests never see each other's rows.
struct TestFunnel {
    let connector: DatabaseConnector
    let database: any SQLDatabase

    static let postgresURL: String? = {
        let url = ProcessInfo.processInfo.environment["HUB_TEST_POSTGRES_URL"] ?? ""
        return url.isEmpty ? nil : url
    }()

    /// The databases this machine can test; says loudly when PostgreSQL is left out.
    static let available: [TestDatabaseKind] = {
        guard postgresURL != nil else {
            print("""

                ************************************************************************
                **  HUB_TEST_POSTGRES_URL is not set: PostgreSQL tests are SKIPPED.
                **  Run `scripts/test`, or `source scripts/postgres.sh` first (CI always does).
                ************************************************************************

                """)
            return [.sqlite]
        }
        return [.sqlite, .postgres]
    }()

    /// Runs `body` with a connector on a new database of `kind`, then removes the database.
    static func with<T>(_ kind: TestDatabaseKind, queries: [String: Value] = [:], _ body: (TestFunnel) async throws -> T) async throws -> T {
        let url: String
        var cleanUp: () async -> Void = {}
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("db-connector-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            url = "sqlite:" + directory.appendingPathComponent("funnel.sqlite").path
            cleanUp = { try? FileManager.default.removeItem(at: directory) }
        case .postgres:
            let server = try #require(postgresURL)
            let schema = "db_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            // The schema name is generated here, never input, so splicing it is safe.
            try await admin(server) { try await $0.execute("CREATE SCHEMA \(schema)") }
            url = server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
            cleanUp = { try? await admin(server) { try await $0.execute("DROP SCHEMA \(schema) CASCADE") } }
        }
        let store = try Store.open(url)
        do {
            try await store.migrate(connectors: [DatabaseConnector.self])
            let services = ConnectorServices(instance: "db", logger: Logger(label: "test.db"), database: store.database,
                                             http: CurlHTTPClient(), events: NoEvents(), publicURL: "http://127.0.0.1:8080")
            let connector = try DatabaseConnector(config: Fields(["queries": .object(queries)]), services: services)
            let result = try await body(TestFunnel(connector: connector, database: store.database))
            await store.close()
            await cleanUp()
            return result
        } catch {
            await store.close()
            await cleanUp()
            throw error
        }
    }

    private static func admin(_ url: String, _ body: (any SQLDatabase) async throws -> Void) async throws {
        let store = try Store.open(url, poolSize: 1)
        do {
            try await body(store.database)
            await store.close()
        } catch {
            await store.close()
            throw error
        }
    }

    /// Calls an action as the engine would.
    @discardableResult
    /// Calls an action as a step of a run of its own (a fresh idempotency key each time).
    func call(_ action: String, _ inputs: [String: Value]) async throws -> Value {
        let run = UUID().uuidString
        return try await connector.perform(ActionCall(action: action, inputs: Fields(inputs), idempotencyKey: "\(run):step-1",
                                                      runID: run, stepID: "step-1", flow: "test", logger: Logger(label: "test.flow")))
    }

    /// Rows straight from the database, to check what the actions wrote.
    func rows(_ sql: String, _ parameters: [Value] = []) async throws -> [SQLRow] {
        try await database.query(sql, parameters)
    }

    /// Registers a client and returns the result.
    @discardableResult
    func register(name: String = "Анна Петрова", phone: String? = "+79161234567", email: String? = "anna@example.com",
                  city: String = "Москва", amount: Value = "3000") async throws -> Value {
        try await call("upsert_member", ["full_name": .string(name), "phone": phone.map(Value.string) ?? .null,
                                         "email": email.map(Value.string) ?? .null, "city": .string(city), "amount": amount])
    }

    /// Binds a registered, unpaid client to a Telegram user through the member's own token, as
    /// links handed out before orders had tokens still do (an unpaid order's token binds nobody).
    func bindThroughMemberToken(_ member: Value, telegramID: Int) async throws {
        let token = try await rows("SELECT token FROM funnel_members WHERE id = $1", [member["id"] ?? .null]).first?["token"]
        try await call("bind_telegram", ["token": token ?? .null, "telegram_id": .number(Double(telegramID))])
    }

    /// Registers, pays and binds a client to a Telegram user; returns the member id.
    func paidMember(phone: String, telegramID: Int) async throws -> String {
        let member = try await register(phone: phone, email: nil)
        try await call("mark_paid", ["order": member["order_id"] ?? nil, "amount": "3000.00"])
        try await call("bind_telegram", ["token": member["token"] ?? nil, "telegram_id": .number(Double(telegramID))])
        return try #require(member["id"]?.stringValue)
    }
}

/// The `db` connector raises no events; the services need a sink all the same.
struct NoEvents: EventSink {
    func emit(_ event: IncomingEvent) async throws -> EmitOutcome { .accepted(runs: 0) }
}
