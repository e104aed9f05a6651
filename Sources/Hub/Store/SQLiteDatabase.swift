import CSQLite3
import Flows
import Foundation
import Synchronization

/// A SQLite database file (WAL mode) served by a small pool of connections plus a writer.
///
/// `transaction` goes to the writer connection, which commits transactions of the same moment
/// together (`SQLiteGroupCommit`) and leaves checkpoints to `WALCheckpointer`. SQLite allows one writer
/// at a time: writers from this instance queue on an in-process lock instead of colliding inside SQLite:
/// every autocommit write statement of the pool and every writer batch (`BEGIN IMMEDIATE`) holds it, so
/// they never see `SQLITE_BUSY` from each other. `busy_timeout` still covers other processes. Readers run
/// in parallel with the writer, as WAL allows. A transaction begun by hand with `BEGIN` inside
/// `withConnection` is not covered by the lock; use `transaction` for writes that belong together.
public final class SQLiteDatabase: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }

    private let pool: ConnectionPool<SQLiteConnection>
    /// Transactions go through the writer connection's group commit (absent for ":memory:").
    private let groupCommit: SQLiteGroupCommit?
    /// Checkpoints the log for the writer, off its commits.
    private let checkpointer: WALCheckpointer?

    /// Opens (creating when missing) the database at `path` with `poolSize` connections plus a writer.
    /// `":memory:"` gives a private in-memory database served by a single connection.
    public init(path: String, poolSize: Int = 4) throws {
        let gate = WriteGate()
        // Opening the first connection here creates the file and reports a bad path to the caller right away.
        let first = try SQLiteConnection(path: path, writeGate: gate)
        // Every connection to ":memory:" would get its own empty database.
        let inMemory = path == ":memory:"
        pool = ConnectionPool(label: "hub.sqlite", size: inMemory ? 1 : poolSize, first: first) {
            try SQLiteConnection(path: path, writeGate: gate)
        }
        if inMemory {
            groupCommit = nil
            checkpointer = nil
        } else {
            let writer = try SQLiteConnection(path: path, writeGate: gate)
            let checkpointer = WALCheckpointer(connection: try SQLiteConnection(path: path, writeGate: gate))
            writer.checkpoint(with: checkpointer)
            groupCommit = SQLiteGroupCommit(connection: writer)
            self.checkpointer = checkpointer
        }
    }

    /// Runs `body` with a connection of its own on that connection's thread.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await pool.withConnection { try body($0) }
    }

    /// Runs `body` in a transaction, rolling back its changes when it throws; it may share its
    /// commit with transactions asked for at the same moment (`SQLiteGroupCommit`).
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        if let groupCommit { return try await groupCommit.transaction(body) }
        return try await pool.withConnection { try $0.inTransaction(body) }
    }

    /// Waits for running statements, then closes every connection.
    public func close() async {
        await groupCommit?.close()
        await checkpointer?.close()
        await pool.close()
    }
}

/// Serialises writers of one `SQLiteDatabase` across its connections.
final class WriteGate: Sendable {
    private let mutex = Mutex(())

    /// Runs `body` while no other connection of the database writes. Blocks: call it on a connection's thread only.
    func run<T>(_ body: () throws -> T) throws -> T {
        // The result goes out through a local rather than withLock's return, which must be `sending`.
        var outcome: Result<T, any Error>?
        mutex.withLock { _ in outcome = Result { try body() } }
        return try outcome!.get()
    }
}

/// One `sqlite3*` handle with its cache of prepared statements. Used on one thread at a time.
final class SQLiteConnection: SQLConnection, PooledConnection {
    /// Past this many distinct statements the cache is emptied; the hub's SQL is a fixed, small set.
    private static let statementCacheLimit = 128
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private var db: OpaquePointer?
    /// The raw handle, for hooks set up elsewhere (checkpointing).
    var handle: OpaquePointer? { db }
    private var statements: [String: PreparedStatement] = [:]
    private let writeGate: WriteGate

    init(path: String, writeGate: WriteGate) throws {
        self.writeGate = writeGate
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(handle)
            throw SQLiteConnection.error(code: rc, message: "cannot open database \(path): \(message)")
        }
        db = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 5000)
        do {
            // FULL: each commit reaches the disk before it returns, so a 200 given after it outlives
            // a power cut too, not only a crash of the process (NORMAL syncs at checkpoints only).
            // Group commit shares that sync among the transactions of a burst.
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"] {
                _ = try query(pragma, [])
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func prepareForUse() throws {
        guard db != nil else { throw ConnectionPool<SQLiteConnection>.closedError }
    }

    func cleanUpAfterUse() {
        // A caller that ran BEGIN by hand and never finished must not hand its transaction to the next caller.
        if let db, sqlite3_get_autocommit(db) == 0 {
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        }
    }

    func close() {
        for prepared in statements.values { sqlite3_finalize(prepared.statement) }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    func query(_ sql: String, _ parameters: [Value]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try run(sql, parameters) { prepared in
            let columns = prepared.columns
            let values = columns.kinds.indices.map { SQLiteConnection.value(prepared.statement, column: Int32($0), kind: columns.kinds[$0]) }
            rows.append(SQLRow(columns: columns.names, values: values))
        }
        return rows
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [Value]) throws -> Int {
        guard let db else { throw ConnectionPool<SQLiteConnection>.closedError }
        let before = sqlite3_total_changes64(db)
        try run(sql, parameters) { _ in }
        // sqlite3_changes keeps the count of the last INSERT/UPDATE/DELETE, so DDL would report a stale number.
        return sqlite3_total_changes64(db) == before ? 0 : Int(sqlite3_changes64(db))
    }

    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`, holding the database's write lock throughout.
    func inTransaction<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try writeGate.run {
            // Not through execute: BEGIN IMMEDIATE counts as a write there and would wait for the gate held here.
            try exec("BEGIN IMMEDIATE")
            let result: T
            do {
                result = try body(self)
            } catch {
                if let db { sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
                throw error
            }
            do {
                try execute("COMMIT", [])
            } catch {
                if let db, sqlite3_get_autocommit(db) == 0 { sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
                throw error
            }
            return result
        }
    }

    /// Runs `body` in a savepoint of the open transaction: when it throws, only its own changes are
    /// rolled back and its error is the result. Throws when the whole transaction was lost (SQLite
    /// rolls everything back on some errors, such as a full disk), so later bodies do not run outside it.
    func inSavepoint<T>(_ body: (any SQLConnection) throws -> T) throws -> Result<T, any Error> {
        try execute("SAVEPOINT hub_job", [])
        do {
            let value = try body(self)
            try execute("RELEASE hub_job", [])
            return .success(value)
        } catch {
            guard let db, sqlite3_get_autocommit(db) == 0 else { throw error }
            sqlite3_exec(db, "ROLLBACK TO hub_job", nil, nil, nil)
            sqlite3_exec(db, "RELEASE hub_job", nil, nil, nil)
            return .failure(error)
        }
    }

    private func exec(_ sql: String) throws {
        guard let db else { throw ConnectionPool<SQLiteConnection>.closedError }
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteConnection.error(db: db, code: rc) }
    }

    /// Prepares (or reuses), binds and steps a statement to completion, calling `row` for each result row.
    private func run(_ sql: String, _ parameters: [Value], row: (PreparedStatement) throws -> Void) throws {
        guard let db else { throw ConnectionPool<SQLiteConnection>.closedError }
        let prepared = try self.prepared(sql, db: db)
        let statement = prepared.statement
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(parameters, to: prepared, db: db)
        func step() throws {
            var rc = sqlite3_step(statement)
            while rc == SQLITE_ROW {
                try row(prepared)
                rc = sqlite3_step(statement)
            }
            guard rc == SQLITE_DONE else { throw SQLiteConnection.error(db: db, code: rc) }
        }
        if !prepared.readOnly && sqlite3_get_autocommit(db) != 0 {
            try writeGate.run(step)
        } else {
            try step()
        }
    }

    private func prepared(_ sql: String, db: OpaquePointer) throws -> PreparedStatement {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
        guard rc == SQLITE_OK else { throw SQLiteConnection.error(db: db, code: rc) }
        guard let statement else {
            throw SQLError(kind: .other, code: "SQLITE_MISUSE", message: "the SQL text holds no statement")
        }
        if let tail, tail.pointee != 0 {
            // Postgres refuses several statements in one call; refuse them here too instead of running only the first.
            var next: OpaquePointer?
            sqlite3_prepare_v2(db, tail, -1, &next, nil)
            if let next {
                sqlite3_finalize(next)
                sqlite3_finalize(statement)
                throw SQLError(kind: .other, code: "SQLITE_MISUSE",
                               message: "cannot run several statements in one call")
            }
        }
        let prepared: PreparedStatement
        do {
            prepared = try PreparedStatement(statement)
        } catch {
            sqlite3_finalize(statement)
            throw error
        }
        if statements.count >= SQLiteConnection.statementCacheLimit {
            for cached in statements.values { sqlite3_finalize(cached.statement) }
            statements.removeAll()
        }
        statements[sql] = prepared
        return prepared
    }

    private func bind(_ parameters: [Value], to prepared: PreparedStatement, db: OpaquePointer) throws {
        // Only $1…$n are bound; any other placeholder (?, :name, $n past the end) would silently become NULL.
        guard prepared.highestPlaceholder <= parameters.count else {
            throw SQLError(kind: .other, code: "SQLITE_RANGE",
                           message: "placeholder $\(prepared.highestPlaceholder) has no parameter (\(parameters.count) given)")
        }
        // Postgres refuses parameters past the highest placeholder; refusing them here keeps the dialects alike.
        guard parameters.count <= prepared.highestPlaceholder else {
            throw SQLError(kind: .other, code: "SQLITE_RANGE",
                           message: "\(parameters.count) parameters given but the statement uses \(prepared.highestPlaceholder)")
        }
        let statement = prepared.statement
        for (offset, value) in parameters.enumerated() {
            let index = prepared.parameterIndex[offset]
            guard index > 0 else { continue }
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .bool(let flag):
                rc = sqlite3_bind_int64(statement, index, flag ? 1 : 0)
            case .number(let number):
                if let whole = Int64(exactly: number) {
                    rc = sqlite3_bind_int64(statement, index, whole)
                } else {
                    rc = sqlite3_bind_double(statement, index, number)
                }
            case .string(let text):
                rc = SQLiteConnection.bindText(text, statement, index)
            case .array, .object:
                rc = SQLiteConnection.bindText(value.json, statement, index)
            }
            guard rc == SQLITE_OK else { throw SQLiteConnection.error(db: db, code: rc) }
        }
    }

    private static func bindText(_ text: String, _ statement: OpaquePointer, _ index: Int32) -> Int32 {
        // The explicit length keeps text after an embedded NUL.
        text.withCString { sqlite3_bind_text(statement, index, $0, Int32(text.utf8.count), transient) }
    }

    /// Reads a column by its stored type; columns declared BOOLEAN or JSON/JSONB read back as Postgres returns them.
    private static func value(_ statement: OpaquePointer, column: Int32, kind: PreparedStatement.ColumnKind) -> Value {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            let number = sqlite3_column_int64(statement, column)
            if kind == .boolean { return .bool(number != 0) }
            return .number(Double(number))
        case SQLITE_FLOAT:
            return .number(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard let bytes = sqlite3_column_text(statement, column) else { return .string("") }
            let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
            if kind == .json, let parsed = try? Value(json: text) { return parsed }
            return .string(text)
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .string("") }
            return .string(Data(bytes: bytes, count: count).base64EncodedString())
        default:
            return .null
        }
    }

    private static func error(db: OpaquePointer, code: Int32) -> SQLError {
        let extended = sqlite3_extended_errcode(db)
        return error(code: extended != 0 ? extended : code, message: String(cString: sqlite3_errmsg(db)))
    }

    private static func error(code: Int32, message: String) -> SQLError {
        let kind: SQLError.Kind
        switch code {
        case constraintPrimaryKey, constraintUnique: kind = .uniqueViolation
        case _ where code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED: kind = .busy
        // The file cannot be opened or written (disk full, I/O error, read-only), or memory ran out: a later try may work.
        case _ where [SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_NOMEM].contains(code & 0xff): kind = .unavailable
        default: kind = .other
        }
        return SQLError(kind: kind, code: name(of: code), message: message)
    }

    // Extended result codes are macros built with `|` and `<<`, which Swift does not import.
    private static let constraintPrimaryKey: Int32 = 1555
    private static let constraintUnique: Int32 = 2067

    private static let extendedNames: [Int32: String] = [
        275: "SQLITE_CONSTRAINT_CHECK", 787: "SQLITE_CONSTRAINT_FOREIGNKEY", 1299: "SQLITE_CONSTRAINT_NOTNULL",
        1555: "SQLITE_CONSTRAINT_PRIMARYKEY", 2067: "SQLITE_CONSTRAINT_UNIQUE", 517: "SQLITE_BUSY_SNAPSHOT",
        261: "SQLITE_BUSY_RECOVERY", 262: "SQLITE_LOCKED_SHAREDCACHE",
    ]

    private static let primaryNames: [Int32: String] = [
        1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
        6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR",
        11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN",
        15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG",
        19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS",
        23: "SQLITE_AUTH", 24: "SQLITE_FORMAT", 25: "SQLITE_RANGE", 26: "SQLITE_NOTADB",
    ]

    /// The result code's C name (`SQLITE_CONSTRAINT_UNIQUE`), falling back to the primary code's name.
    private static func name(of code: Int32) -> String {
        extendedNames[code] ?? primaryNames[code & 0xff] ?? "SQLITE_\(code)"
    }
}

/// A prepared statement with what each run needs to know about it, worked out once: which
/// SQLite parameter index each `$n` has, whether it writes, and its result columns.
final class PreparedStatement {
    enum ColumnKind { case plain, boolean, json }

    let statement: OpaquePointer
    /// The SQLite index of `$1`, `$2` …, or 0 where the SQL does not use that number.
    let parameterIndex: [Int32]
    let highestPlaceholder: Int
    let readOnly: Bool
    /// Result column names and how to read them; known once the statement was prepared.
    private(set) lazy var columns: (names: [String], kinds: [ColumnKind]) = {
        let count = sqlite3_column_count(statement)
        let names = (0..<count).map { String(cString: sqlite3_column_name(statement, $0)) }
        let kinds = (0..<count).map { column -> ColumnKind in
            switch sqlite3_column_decltype(statement, column).map({ String(cString: $0).uppercased() }) {
            case "BOOLEAN", "BOOL": .boolean
            case "JSON", "JSONB": .json
            default: .plain
            }
        }
        return (names, kinds)
    }()

    /// Checks the placeholders: only `$1` … `$n` are allowed (any other would silently bind NULL).
    init(_ statement: OpaquePointer) throws {
        self.statement = statement
        readOnly = sqlite3_stmt_readonly(statement) != 0
        var byNumber: [Int: Int32] = [:]
        for index in stride(from: 1, through: sqlite3_bind_parameter_count(statement), by: 1) {
            let name = sqlite3_bind_parameter_name(statement, index).map { String(cString: $0) } ?? "?"
            guard name.first == "$", let number = Int(name.dropFirst()), number >= 1 else {
                throw SQLError(kind: .other, code: "SQLITE_RANGE", message: "placeholder \(name) is not of the form $1, $2 …")
            }
            byNumber[number] = index
        }
        highestPlaceholder = byNumber.keys.max() ?? 0
        parameterIndex = (0..<highestPlaceholder).map { byNumber[$0 + 1] ?? 0 }
    }
}
