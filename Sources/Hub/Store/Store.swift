import Flows
import Foundation

/// The hub's durable state on SQLite or PostgreSQL: events, runs, step results, schedule slots.
/// Every statement is parameterised; nothing from a request or a flow is spliced into SQL.
public final class Store: Sendable {
    public let database: any SQLDatabase
    /// Runs finishing at the same moment, written together (see `finishAll`).
    let finishes: Batcher<RunFinish, Bool>

    public init(database: any SQLDatabase) {
        self.database = database
        finishes = Batcher(limit: 64) { [database] in await Store.finishAll($0, database) }
    }

    /// Opens `sqlite:PATH` or any libpq connection string (`postgres://…`, `host=… dbname=…`).
    /// `mustExist`: a SQLite file that is not there is an error rather than a new empty database,
    /// for commands that read what a hub stored (a typo in the path must not answer "no runs").
    public static func open(_ url: String, poolSize: Int = 4, mustExist: Bool = false) throws -> Store {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw HubError(code: "bad-setting", "HUB_DATABASE_URL 'sqlite:' needs a file path, e.g. sqlite:hub.db") }
            if mustExist, path != ":memory:", !FileManager.default.fileExists(atPath: path) {
                throw HubError(code: "no-database", "there is no database at \(path) (HUB_DATABASE_URL): run this where the hub runs, or start the hub once")
            }
            return Store(database: try SQLiteDatabase(path: path, poolSize: poolSize))
        }
        return Store(database: try PostgresDatabase(connectionString: url, poolSize: poolSize))
    }

    /// Applies pending migrations of the hub and of each connector type (by component name);
    /// returns what was applied now, as `component:version`.
    @discardableResult
    public func migrate(connectors: [any Connector.Type] = BuiltinConnectors.all) async throws -> [String] {
        let dialect = database.dialect
        let components = [("hub", Migrations.hub)] + connectors.map { ($0.spec.name, $0.migrations) }.filter { !$0.1.isEmpty }
        return try await database.transaction { db in
            if dialect == .postgres {
                // Two hubs starting at once must not both migrate (not even create this table):
                // the lock lasts until COMMIT.
                _ = try db.query("SELECT pg_advisory_xact_lock(7420001)", [])
            }
            try db.execute("""
                CREATE TABLE IF NOT EXISTS hub_migrations (component TEXT NOT NULL, version INTEGER NOT NULL,
                    name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (component, version))
                """, [])
            let done = Set(try db.query("SELECT component, version FROM hub_migrations", []).map {
                "\($0["component"]?.text ?? ""):\($0["version"]?.intValue ?? 0)"
            })
            var applied: [String] = []
            for (component, migrations) in components {
                for migration in migrations.sorted(by: { $0.version < $1.version }) where !done.contains("\(component):\(migration.version)") {
                    for statement in migration.statements(dialect) { try db.execute(statement, []) }
                    try db.execute("INSERT INTO hub_migrations (component, version, name, applied_at) VALUES ($1, $2, $3, $4)",
                                   [.string(component), .number(Double(migration.version)), .string(migration.name), .millis(Store.now())])
                    applied.append("\(component):\(migration.version)")
                }
            }
            return applied
        }
    }

    public func close() async { await database.close() }

    /// Milliseconds since 1970: every time column uses this.
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Ids as one parameter: a text array for Postgres, a JSON array for SQLite's `json_each`.
    static func idList(_ ids: [String], postgres: Bool) -> Value {
        postgres ? PostgresArray.text(ids) : .string(Value.array(ids.map { .string($0) }).json)
    }

    /// The subquery listing the ids of `idList` passed as parameter `number`, for `IN (…)`.
    static func idListQuery(_ number: Int, postgres: Bool) -> String {
        postgres ? "SELECT unnest(CAST($\(number) AS TEXT[]))" : "SELECT value FROM json_each($\(number))"
    }
}

extension Value {
    /// An epoch-millisecond parameter.
    static func millis(_ value: Int64) -> Value { .number(Double(value)) }
}
