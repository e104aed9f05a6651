import CLibPQ
import Flows
import Foundation

/// A PostgreSQL database reached through libpq, served by a small pool of connections.
///
/// Connections open lazily on first use, so the hub can start before the server does. A connection the server
/// dropped (a restart, say) is reopened before its next use; a statement that fails because the connection
/// broke while it ran reports `.unavailable`, and the next call reconnects.
public final class PostgresDatabase: SQLDatabase {
    public var dialect: SQLDialect { .postgres }

    private let pool: ConnectionPool<PostgresConnection>

    /// - Parameter connectionString: any libpq conninfo, as `psql` takes it: a `postgres://` or `postgresql://`
    ///   URI or `key=value` pairs. Unset parts come from libpq's usual `PG*` environment variables.
    ///   The string may hold a password, so it never appears in errors or descriptions.
    /// - Throws: `SQLError` when libpq cannot parse the string. No connection is made here.
    public init(connectionString: String, poolSize: Int = 4) throws {
        var parseError: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &parseError) else {
            // libpq's parse message can quote fragments of the string, which may be the password.
            PQfreemem(parseError)
            throw SQLError(kind: .other, code: "08001",
                           message: "the PostgreSQL connection string is not a valid libpq conninfo "
                               + "(expected postgresql://… or key=value pairs)")
        }
        defer { PQconninfoFree(options) }
        var parsed: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { parsed[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        // A password with an unescaped '@' or '/' still parses, but libpq then takes part of it
        // for the host or the port, and its connection errors quote that part.
        let host = parsed["host"] ?? "", port = parsed["port"] ?? ""
        guard !host.contains("@"), port.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ",") }) else {
            throw SQLError(kind: .other, code: "08001",
                           message: "the PostgreSQL connection string's host or port is not valid: in a postgresql:// URL, "
                               + "percent-encode @ / : in the user name and password (%40 %2F %3A)")
        }
        let conninfo = ConnectionInfo(text: connectionString, password: parsed["password"])
        pool = ConnectionPool(label: "hub.postgres", size: poolSize) { PostgresConnection(conninfo: conninfo) }
    }

    /// Runs `body` with a connection of its own on that connection's thread.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await pool.withConnection { try body($0) }
    }

    /// Runs `body` between `BEGIN` and `COMMIT`, rolling back when it throws.
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await pool.withConnection { try $0.inTransaction(body) }
    }

    /// Waits for running statements, then closes every connection.
    public func close() async {
        await pool.close()
    }
}

/// A conninfo string that stays out of logs, `dump` and debugger output, since it may hold a password.
struct ConnectionInfo: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let text: String
    /// The password it holds, cut out of any message libpq writes.
    var password: String? = nil

    func scrubbed(_ message: String) -> String {
        guard let password, password.count >= 3 else { return message }
        return message.replacingOccurrences(of: password, with: "<password>")
    }

    var description: String { "<PostgreSQL connection string>" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// One `PGconn*`, reconnected when broken. Used on one thread at a time.
final class PostgresConnection: SQLConnection, PooledConnection {
    private enum OID {
        static let bool: Oid = 16
        static let int8: Oid = 20
        static let int2: Oid = 21
        static let int4: Oid = 23
        static let oid: Oid = 26
        static let json: Oid = 114
        static let float4: Oid = 700
        static let float8: Oid = 701
        static let numeric: Oid = 1700
        static let jsonb: Oid = 3802
    }

    /// `PG_DIAG_SQLSTATE` and friends are character macros (`'C'`), which Swift does not import.
    private enum Field {
        static let sqlstate = Int32(UInt8(ascii: "C"))
        static let primary = Int32(UInt8(ascii: "M"))
        static let detail = Int32(UInt8(ascii: "D"))
        static let hint = Int32(UInt8(ascii: "H"))
    }

    private let conninfo: ConnectionInfo
    private var conn: OpaquePointer? {
        didSet { forgetStatements(preparing: true) }
    }
    /// Named statements prepared on this session, by SQL text. Parsing, analysing and planning
    /// took about a third of the server's CPU for the hub's short statements.
    private var statements: [String: String] = [:]
    /// Off once the server lost a statement: a pooler in transaction mode (Supabase's, PgBouncer
    /// before 1.21) hands each transaction to whichever server session is free.
    private var preparing = true
    /// At most this many statements per session; statements with more parameters (multi-row
    /// inserts, one variant per row count) are sent unprepared, their parsing spread over many rows.
    /// The hub's batches pass arrays instead (`PostgresArray`), one statement for any size.
    private static let statementLimit = 200
    private static let statementParameterLimit = 40

    init(conninfo: ConnectionInfo) {
        self.conninfo = conninfo
    }

    deinit { close() }

    func prepareForUse() throws {
        if let conn {
            // Reads whatever the server sent while the connection sat idle (libpq's socket never blocks here).
            // After a server restart that is a termination message, then end-of-file: one read each, after which
            // libpq marks the connection bad and it is reset below instead of failing the caller's statement.
            for _ in 0..<3 where PQstatus(conn) == CONNECTION_OK {
                guard PQconsumeInput(conn) == 1 else { break }
                // Parses what was read; an error message while idle goes to the (silent) notice processor.
                if let notification = PQnotifies(conn) { PQfreemem(notification) }
            }
            if PQstatus(conn) == CONNECTION_OK { return }
            PQreset(conn)
            // A new session: the statements prepared on the old one are gone.
            forgetStatements(preparing: true)
            if PQstatus(conn) == CONNECTION_OK { return }
            let message = conninfo.scrubbed(PostgresConnection.connectionMessage(conn))
            PQfinish(conn)
            self.conn = nil
            throw SQLError(kind: .unavailable, code: "08001", message: message)
        }
        let opened = connect()
        guard PQstatus(opened) == CONNECTION_OK else {
            let message = conninfo.scrubbed(PostgresConnection.connectionMessage(opened))
            PQfinish(opened)
            throw SQLError(kind: .unavailable, code: "08001", message: message)
        }
        // Notices such as "relation already exists, skipping" would otherwise go straight to stderr.
        PQsetNoticeProcessor(opened, { _, _ in }, nil)
        conn = opened
    }

    /// Connects like psql: the conninfo is expanded from `dbname`, after defaults it may override.
    /// Keepalives and a TCP user timeout break a connection whose network went silent within about
    /// 15 s; by default Linux waits some 15 minutes, and the pool's connections with it.
    private func connect() -> OpaquePointer? {
        let keywords = ["connect_timeout", "fallback_application_name", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "dbname"]
        let values = ["10", "session-hub", "5", "2", "3", "15000", conninfo.text]
        return withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
    }

    func cleanUpAfterUse() {
        // A caller that ran BEGIN by hand and never finished must not hand its transaction to the next caller.
        guard let conn, PQstatus(conn) == CONNECTION_OK else { return }
        let status = PQtransactionStatus(conn)
        if status == PQTRANS_INTRANS || status == PQTRANS_INERROR { PQclear(PQexec(conn, "ROLLBACK")) }
    }

    func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    func query(_ sql: String, _ parameters: [Value]) throws -> [SQLRow] {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let types = (0..<columnCount).map { PQftype(result, $0) }
        return (0..<rowCount).map { row in
            let values = (0..<columnCount).map { column -> Value in
                if PQgetisnull(result, row, column) != 0 { return .null }
                let text = String(cString: PQgetvalue(result, row, column))
                return PostgresConnection.value(text, type: types[Int(column)])
            }
            return SQLRow(columns: columns, values: values)
        }
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [Value]) throws -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Runs `body` inside `BEGIN` … `COMMIT`, rolling back when it throws.
    func inTransaction<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try execute("BEGIN", [])
        let result: T
        do {
            result = try body(self)
        } catch {
            if let conn, PQstatus(conn) == CONNECTION_OK { PQclear(PQexec(conn, "ROLLBACK")) }
            throw error
        }
        if let conn, PQtransactionStatus(conn) == PQTRANS_INERROR {
            // COMMIT would quietly roll back here: the body swallowed an error from one of its statements.
            PQclear(PQexec(conn, "ROLLBACK"))
            throw SQLError(kind: .other, code: "25P02",
                           message: "the transaction was rolled back: a statement in it failed")
        }
        try execute("COMMIT", [])
        return result
    }

    /// Sends one statement with text-format parameters; the caller clears the returned result.
    private func run(_ sql: String, _ parameters: [Value]) throws -> OpaquePointer {
        guard let conn else { throw ConnectionPool<PostgresConnection>.closedError }
        let texts = parameters.map(PostgresConnection.parameterText)
        // libpq takes parameters as C strings: a NUL would silently cut the text short. (Postgres
        // cannot store one in text anyway; SQLite can.)
        if let position = texts.firstIndex(where: { $0.map(Self.containsNUL) == true }) {
            throw SQLError(kind: .other, code: "22021", message: "parameter $\(position + 1) contains a NUL character, which PostgreSQL text cannot hold")
        }
        let name = try preparedName(sql, parameterCount: texts.count, conn: conn)
        let result = withCStrings(texts) { pointers in
            if let name {
                PQexecPrepared(conn, name, Int32(texts.count), pointers, nil, nil, 0)
            } else {
                PQexecParams(conn, sql, Int32(texts.count), nil, pointers, nil, nil, 0)
            }
        }
        guard let result else {
            throw PostgresConnection.connectionError(conn)
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            defer { PQclear(result) }
            let error = PostgresConnection.error(result, conn: conn)
            // 26000: the statement is not on this server session. From now on statements go
            // unprepared; outside a transaction this one is simply sent again.
            if name != nil, error.code == "26000" {
                forgetStatements(preparing: false)
                if PQtransactionStatus(conn) == PQTRANS_IDLE { return try run(sql, parameters) }
            }
            throw error
        }
        return result
    }

    private func forgetStatements(preparing: Bool) {
        statements = [:]
        self.preparing = preparing
    }

    /// The name `sql` is prepared under on this session, preparing it now if there is room;
    /// nil to send it unprepared. A statement that fails to prepare would fail to run: its error is thrown.
    private func preparedName(_ sql: String, parameterCount: Int, conn: OpaquePointer) throws -> String? {
        if let name = statements[sql] { return name }
        guard preparing, parameterCount <= Self.statementParameterLimit, statements.count < Self.statementLimit else { return nil }
        let name = Self.statementName(sql)
        guard let result = PQprepare(conn, name, sql, Int32(parameterCount), nil) else {
            throw PostgresConnection.connectionError(conn)
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            let error = PostgresConnection.error(result, conn: conn)
            // 42P05: this server session has the statement already (another client of a pooler
            // prepared it): the same name is the same SQL, so it is used as it is.
            guard error.code == "42P05" else { throw error }
            statements[sql] = name
            return name
        }
        statements[sql] = name
        return name
    }

    /// A statement's name comes from its text, so that the same name means the same SQL on every
    /// connection and hub process: behind a pooler, a statement run on another client's server
    /// session is the right one or missing, never a different one.
    static func statementName(_ sql: String) -> String {
        "hub_" + Crypto.hex(Crypto.sha256(Array(sql.utf8)).prefix(12))
    }

    /// Whether `text` holds a NUL byte. `memchr` over the UTF-8 a native string keeps in one
    /// piece: a byte-by-byte `utf8.contains` took about 3 µs a kilobyte, on every parameter of
    /// every statement (a batch's payloads included); `memchr`, about 0.03.
    private static func containsNUL(_ text: String) -> Bool {
        let found = text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        }
        return found ?? text.utf8.contains(0)
    }

    /// How a value travels as a text-format parameter; `nil` is SQL NULL.
    private static func parameterText(_ value: Value) -> String? {
        switch value {
        case .null: return nil
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            if let whole = Int64(exactly: number) { return String(whole) }
            if number.isNaN { return "NaN" }
            if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
            return String(number)
        case .string(let text): return text
        case .array, .object: return value.json
        }
    }

    private static func value(_ text: String, type: Oid) -> Value {
        switch type {
        case OID.bool:
            return .bool(text == "t")
        case OID.int2, OID.int4, OID.int8, OID.oid, OID.float4, OID.float8, OID.numeric:
            return Double(text).map(Value.number) ?? .string(text)
        case OID.json, OID.jsonb:
            return (try? Value(json: text)) ?? .string(text)
        default:
            return .string(text)
        }
    }

    private static func error(_ result: OpaquePointer, conn: OpaquePointer) -> SQLError {
        guard let sqlstate = field(result, Field.sqlstate) else { return connectionError(conn) }
        var message = field(result, Field.primary) ?? connectionMessage(conn)
        if let detail = field(result, Field.detail) { message += " (\(detail))" }
        if let hint = field(result, Field.hint) { message += " Hint: \(hint)" }
        let kind: SQLError.Kind
        switch sqlstate {
        case "23505": kind = .uniqueViolation
        case "40001", "40P01", "55P03": kind = .busy
        // 08P01 also reports a parameter count that does not match the statement, on a healthy connection.
        case "08P01" where PQstatus(conn) == CONNECTION_OK: kind = .other
        // Broken or shut down; short of disk, memory or connections (53), a system or I/O error (58),
        // a statement cancelled or timed out (57014), read-only during a fail-over (25006): a later try may work.
        case _ where ["08", "57P", "53", "58"].contains(where: sqlstate.hasPrefix) || sqlstate == "57014" || sqlstate == "25006":
            kind = .unavailable
        default: kind = PQstatus(conn) == CONNECTION_BAD ? .unavailable : .other
        }
        return SQLError(kind: kind, code: sqlstate, message: message)
    }

    /// An error without a SQLSTATE: libpq lost the connection or could not send the statement.
    private static func connectionError(_ conn: OpaquePointer) -> SQLError {
        let kind: SQLError.Kind = PQstatus(conn) == CONNECTION_BAD ? .unavailable : .other
        return SQLError(kind: kind, code: kind == .unavailable ? "08006" : "XX000", message: connectionMessage(conn))
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }
    }

    private static func connectionMessage(_ conn: OpaquePointer?) -> String {
        let text = conn.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? ""
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "cannot connect to PostgreSQL" : trimmed
    }
}

/// Calls `body` with C copies of `strings` followed by a NULL entry; `nil` elements become NULL pointers.
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { string in
        guard let string else { return nil }
        let bytes = string.utf8CString
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        bytes.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: bytes.count) }
        return copy
    }
    defer { for copy in copies { copy?.deallocate() } }
    let pointers = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
