import Flows
import Foundation
@testable import Hub
import Testing

/// Which database a parameterised test runs against.
enum TestDatabaseKind: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// Fresh, isolated databases for tests: a temporary SQLite file, or a new schema in the Postgres
/// named by `HUB_TEST_POSTGRES_URL` (so Postgres tests can run in parallel).
enum TestDatabases {
    static let postgresURL: String? = {
        let url = ProcessInfo.processInfo.environment["HUB_TEST_POSTGRES_URL"] ?? ""
        return url.isEmpty ? nil : url
    }()

    /// The databases this machine can test; says loudly when Postgres is left out.
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

    /// Runs `body` with a new, empty database of `kind` and removes it afterwards.
    static func with<T>(
        _ kind: TestDatabaseKind, poolSize: Int = 4, _ body: (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await withURL(kind) { url in
            let db: any SQLDatabase = url.hasPrefix("sqlite:")
                ? try SQLiteDatabase(path: String(url.dropFirst("sqlite:".count)), poolSize: poolSize)
                : try PostgresDatabase(connectionString: url, poolSize: poolSize)
            return try await run(body, on: db, cleanUp: {})
        }
    }

    /// Runs `body` with the `HUB_DATABASE_URL` of a new, empty database (for `Store.open` and
    /// child `hub` processes, which may share it) and removes the database afterwards.
    static func withURL<T>(_ kind: TestDatabaseKind, _ body: (String) async throws -> T) async throws -> T {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("hub-sqlite-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            return try await body("sqlite:" + directory.appendingPathComponent("test.sqlite").path)
        case .postgres:
            let url = try #require(postgresURL)
            let schema = "hub_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            // The schema name is generated above, never user input, so splicing it is safe.
            try await withAdmin(url) { try await $0.execute("CREATE SCHEMA \(schema)") }
            do {
                let result = try await body(withSearchPath(url, schema))
                try? await withAdmin(url) { try await $0.execute("DROP SCHEMA \(schema) CASCADE") }
                return result
            } catch {
                try? await withAdmin(url) { try await $0.execute("DROP SCHEMA \(schema) CASCADE") }
                throw error
            }
        }
    }

    private static func run<T>(
        _ body: (any SQLDatabase) async throws -> T, on db: any SQLDatabase, cleanUp: () async -> Void
    ) async throws -> T {
        do {
            let result = try await body(db)
            await db.close()
            await cleanUp()
            return result
        } catch {
            await db.close()
            await cleanUp()
            throw error
        }
    }

    private static func withAdmin(_ url: String, _ body: (PostgresDatabase) async throws -> Void) async throws {
        let admin = try PostgresDatabase(connectionString: url, poolSize: 1)
        do {
            try await body(admin)
            await admin.close()
        } catch {
            await admin.close()
            throw error
        }
    }

    /// The conninfo with `search_path` set to `schema`, in whichever of libpq's two syntaxes it uses.
    static func withSearchPath(_ conninfo: String, _ schema: String) -> String {
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
            return conninfo + (conninfo.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        }
        return conninfo + " options='-csearch_path=\(schema)'"
    }
}

