/// Which SQL dialect a database speaks; statements use `$1`, `$2` … placeholders in both.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// One row of a result: column names in order and their values.
public struct SQLRow: Sendable, Hashable {
    public let columns: [String]
    public let values: [Value]

    public init(columns: [String], values: [Value]) {
        self.columns = columns
        self.values = values
    }

    /// The value of a column, or `nil` when there is no such column.
    public subscript(column: String) -> Value? {
        columns.firstIndex(of: column).map { values[$0] }
    }

    /// The row as an object, as flows see it.
    public var object: Value {
        .object(Dictionary(zip(columns, values), uniquingKeysWith: { first, _ in first }))
    }
}

/// A blocking connection, used by one thread at a time inside `SQLDatabase.withConnection`.
/// Parameters are always bound, never spliced into the SQL text.
public protocol SQLConnection: AnyObject {
    /// Runs a statement and returns its rows (`RETURNING` rows too).
    func query(_ sql: String, _ parameters: [Value]) throws -> [SQLRow]
    /// Runs a statement and returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [Value]) throws -> Int
}

/// A database handed to the hub's store and to the `db` connector: SQLite or PostgreSQL.
/// Implementations run the blocking C calls on their own threads, not on Swift's cooperative
/// pool; the one exception is SQLite's group-committed `transaction`, which runs inline because
/// a local commit takes less time than the thread hops (see `SQLiteGroupCommit`).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` with a connection of its own, off the cooperative pool.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Runs `body` inside BEGIN … COMMIT (ROLLBACK when it throws).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Closes all connections.
    func close() async
}

extension SQLDatabase {
    public func query(_ sql: String, _ parameters: [Value] = []) async throws -> [SQLRow] {
        try await withConnection { try $0.query(sql, parameters) }
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [Value] = []) async throws -> Int {
        try await withConnection { try $0.execute(sql, parameters) }
    }

    /// One write statement, committed the cheapest way: on SQLite through `transaction`, which
    /// shares a commit with the transactions of the moment; on Postgres as a lone statement, which
    /// commits by itself in one round trip.
    @discardableResult
    public func write(_ sql: String, _ parameters: [Value] = []) async throws -> Int {
        guard dialect == .sqlite else { return try await execute(sql, parameters) }
        return try await transaction { try $0.execute(sql, parameters) }
    }
}

extension SQLConnection {
    /// Deletes the rows of `table` whose text `key` column starts with one of `runIDs` and a
    /// colon (`ActionCall.idempotencyKey`) (`Connector.forgetRuns`). `table` and `key` are the
    /// caller's own names, never input.
    ///
    /// SQLite compares text by bytes, so each run is a range of the key's index. PostgreSQL
    /// compares by the column's collation, and under a language's (en_US.UTF-8, ICU) punctuation
    /// weighs nothing at first: "r1:a" sorts after "r1;", and the range held nothing. There the
    /// key's run id (`split_part`) is compared instead: give the table an index on
    /// `split_part(key, ':', 1)` (`runKeyIndex`), which such a delete walks once per run.
    public func deleteKeys(ofRuns runIDs: [String], from table: String, key: String = "key", dialect: SQLDialect) throws -> Int {
        guard !runIDs.isEmpty else { return 0 }
        let sql = dialect == .postgres
            ? "DELETE FROM \(table) t USING jsonb_array_elements_text(CAST($1 AS jsonb)) AS r (id) WHERE split_part(t.\(key), ':', 1) = r.id"
            : """
              DELETE FROM \(table) WHERE \(key) IN (SELECT t.\(key) FROM (SELECT value AS id FROM json_each($1)) AS r
                  JOIN \(table) t ON t.\(key) >= r.id || ':' AND t.\(key) < r.id || ';')
              """
        return try execute(sql, [.string(Value.array(runIDs.map { .string($0) }).json)])
    }
}

extension SchemaMigration {
    /// The index `deleteKeys` needs on PostgreSQL for `table`'s `key` column (nothing on SQLite).
    public static func runKeyIndex(_ table: String, key: String = "key", dialect: SQLDialect) -> [String] {
        dialect == .postgres ? ["CREATE INDEX IF NOT EXISTS \(table)_run ON \(table) (split_part(\(key), ':', 1))"] : []
    }
}

/// A database error with the server's SQLSTATE (Postgres) or result code name (SQLite).
public struct SQLError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A UNIQUE or PRIMARY KEY constraint refused the row.
        case uniqueViolation = "unique-violation"
        /// The server cannot be reached or the connection broke; retrying later may work.
        case unavailable
        /// Lock contention or serialization failure; retrying soon may work.
        case busy
        case other
    }

    public var kind: Kind
    public var code: String
    public var message: String

    public init(kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "database error \(code): \(message)" }
}
