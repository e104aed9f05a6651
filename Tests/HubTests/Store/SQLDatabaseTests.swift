import Flows
import Foundation
@testable import Hub
import Testing

@Suite("SQL databases")
struct SQLDatabaseTests {
    @Test("parameters are bound, never spliced", arguments: TestDatabases.available)
    func bindsParameters(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            let hostile = "x'); DROP TABLE items; -- \" \\ $1 ?"
            try await db.execute("INSERT INTO items (id, name) VALUES ($1, $2)", [1, .string(hostile)])
            let rows = try await db.query("SELECT name FROM items WHERE name = $1", [.string(hostile)])
            #expect(rows.map { $0["name"] } == [.string(hostile)])
            #expect(try await db.query("SELECT COUNT(*) AS n FROM items").first?["n"] == 1)
        }
    }

    /// A commit is on the disk when it returns (FULL), so an acknowledged event outlives a power
    /// cut; in WAL mode NORMAL would sync at checkpoints only.
    @Test("SQLite commits are synced to disk before they return")
    func sqliteCommitsAreSynced() async throws {
        try await TestDatabases.with(.sqlite) { (db) async throws in
            let writer = try await db.transaction { try $0.query("PRAGMA synchronous", []).first?["synchronous"] }
            let reader = try await db.query("PRAGMA synchronous").first?["synchronous"]
            #expect(writer == 2 && reader == 2)
        }
    }

    @Test("a NUL in text: SQLite keeps it, Postgres refuses it loudly instead of cutting the text short",
          arguments: TestDatabases.available)
    func nulCharacter(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
            let text = "before\u{0}after"
            switch kind {
            case .sqlite:
                try await db.execute("INSERT INTO items (id, name) VALUES ($1, $2)", [1, .string(text)])
                #expect(try await db.query("SELECT name FROM items").map { $0["name"] } == [.string(text)])
            case .postgres:
                let error = await #expect(throws: SQLError.self) {
                    try await db.execute("INSERT INTO items (id, name) VALUES ($1, $2)", [1, .string(text)])
                }
                #expect(error?.code == "22021")
                #expect(error?.message == "parameter $2 contains a NUL character, which PostgreSQL text cannot hold")
                #expect(try await db.query("SELECT COUNT(*) AS n FROM items").first?["n"] == 0)
            }
        }
    }

    @Test("a run's keys are deleted, only its own, whatever the key column's collation", arguments: TestDatabases.available)
    func deleteKeysOfRuns(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            // ICU's root collation on Postgres: ':' and ';' weigh nothing at first there.
            let collation = kind == .postgres ? #" COLLATE "und-x-icu""# : ""
            try await db.execute("CREATE TABLE effects (key TEXT\(collation) PRIMARY KEY)")
            for statement in SchemaMigration.runKeyIndex("effects", dialect: db.dialect) { try await db.execute(statement) }
            for key in ["r1:step:0", "r1:send", "r10:x", "r2:y", "slot:daily/meeting@r1"] {
                try await db.execute("INSERT INTO effects (key) VALUES ($1)", [.string(key)])
            }
            let deleted = try await db.withConnection { try $0.deleteKeys(ofRuns: ["r1", "r3"], from: "effects", dialect: db.dialect) }
            #expect(deleted == 2)
            #expect(try await db.query("SELECT key FROM effects ORDER BY key").compactMap { $0["key"]?.stringValue }.sorted()
                    == ["r10:x", "r2:y", "slot:daily/meeting@r1"])
        }
    }

    @Test("NULLs go in and come out as null", arguments: TestDatabases.available)
    func nulls(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, score DOUBLE PRECISION)")
            try await db.execute("INSERT INTO notes (id, body, score) VALUES ($1, $2, $3)", [1, nil, nil])
            let row = try #require(try await db.query("SELECT body, score FROM notes WHERE id = $1", [1]).first)
            #expect(row["body"] == .null)
            #expect(row["score"] == .null)
            let empty = try await db.query("SELECT id FROM notes WHERE body IS NULL AND score IS NULL")
            #expect(empty.count == 1)
        }
    }

    @Test("booleans, numbers, text and JSON round-trip", arguments: TestDatabases.available)
    func roundTrips(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("""
                CREATE TABLE samples (id INTEGER PRIMARY KEY, flag BOOLEAN, whole BIGINT,
                                      fraction DOUBLE PRECISION, label TEXT, doc JSONB)
                """)
            let document: Value = ["name": "hub", "tags": ["a", 1, true, nil], "nested": ["x": 1.5]]
            let samples: [[Value]] = [
                [1, true, 9_007_199_254_740_991, 2.5, "héllo ✓ 'quoted'", document],
                [2, false, -42, -0.125, "", ["plain", "array"]],
            ]
            for sample in samples {
                try await db.execute(
                    "INSERT INTO samples (id, flag, whole, fraction, label, doc) VALUES ($1, $2, $3, $4, $5, $6)",
                    sample)
            }
            let rows = try await db.query("SELECT id, flag, whole, fraction, label, doc FROM samples ORDER BY id")
            #expect(rows.map(\.values) == samples)
            #expect(rows.first?.columns == ["id", "flag", "whole", "fraction", "label", "doc"])
            #expect(rows.first?.object["label"] == "héllo ✓ 'quoted'")
        }
    }

    @Test("$2 may come before $1, and a placeholder may repeat", arguments: TestDatabases.available)
    func placeholdersByNumber(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE pairs (a TEXT, b TEXT)")
            try await db.execute("INSERT INTO pairs (a, b) VALUES ($2, $1)", ["first", "second"])
            let rows = try await db.query("SELECT a, b FROM pairs WHERE a = $1 OR b = $1", ["second"])
            #expect(rows == [SQLRow(columns: ["a", "b"], values: ["second", "first"])])
        }
    }

    @Test("execute counts changed rows; RETURNING rows come back from query", arguments: TestDatabases.available)
    func changedRowsAndReturning(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            #expect(try await db.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)") == 0)
            for id in 1...3 {
                #expect(try await db.execute("INSERT INTO counters (id, n) VALUES ($1, 0)", [.number(Double(id))]) == 1)
            }
            #expect(try await db.execute("UPDATE counters SET n = n + $1", [5]) == 3)
            let returned = try await db.query("UPDATE counters SET n = n + 1 WHERE id = $1 RETURNING n", [2])
            #expect(returned.map { $0["n"] } == [6])
        }
    }

    @Test("a duplicate key is a unique violation", arguments: TestDatabases.available)
    func uniqueViolation(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE)")
            try await db.execute("INSERT INTO users (id, email) VALUES ($1, $2)", [1, "a@example.com"])
            for (id, email) in [(Value(2), Value("a@example.com")), (1, "b@example.com")] {
                let error = await #expect(throws: SQLError.self) {
                    try await db.execute("INSERT INTO users (id, email) VALUES ($1, $2)", [id, email])
                }
                #expect(error?.kind == .uniqueViolation)
                #expect(["23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"].contains(error?.code))
            }
        }
    }

    @Test("a database that is full, read-only for the moment or timed out is 'unavailable' (try later), not a refusal for good",
          arguments: TestDatabases.available)
    func passingFailuresAreUnavailable(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE notes (body TEXT)")
            let big = Value.string(String(repeating: "x", count: 200_000))
            let insert = "INSERT INTO notes (body) VALUES ($1)"
            let attempts: [(code: String, statements: [String])] = kind == .sqlite
                ? [("SQLITE_FULL", ["PRAGMA max_page_count = 4", insert])]
                : [("57014", ["SET LOCAL statement_timeout = 1", "SELECT pg_sleep(1)"]),
                   ("25006", ["SET LOCAL transaction_read_only = on", insert])]
            for attempt in attempts {
                let statements = attempt.statements
                let error = await #expect(throws: SQLError.self) {
                    try await db.transaction { c in
                        for sql in statements { _ = try c.query(sql, sql == insert ? [big] : []) }
                    }
                }
                #expect(error?.kind == .unavailable, "\(attempt.code): \(String(describing: error))")
                #expect(error?.code == attempt.code)
            }
        }
    }

    @Test("a transaction commits, and rolls back when its body throws", arguments: TestDatabases.available)
    func transactions(kind: TestDatabaseKind) async throws {
        struct Abort: Error {}
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount BIGINT)")
            let kept = try await db.transaction { connection in
                try connection.execute("INSERT INTO ledger (id, amount) VALUES ($1, $2)", [1, 10])
                return try connection.query("SELECT COUNT(*) AS n FROM ledger", []).first?["n"]
            }
            #expect(kept == 1)
            await #expect(throws: Abort.self) {
                try await db.transaction { connection in
                    try connection.execute("INSERT INTO ledger (id, amount) VALUES ($1, $2)", [2, 20])
                    try connection.execute("UPDATE ledger SET amount = 0", [])
                    throw Abort()
                }
            }
            let rows = try await db.query("SELECT id, amount FROM ledger")
            #expect(rows == [SQLRow(columns: ["id", "amount"], values: [1, 10])])
        }
    }

    @Test("a transaction left open by hand does not leak to the next caller", arguments: TestDatabases.available)
    func abandonedTransaction(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind, poolSize: 1) { (db) async throws in
            try await db.execute("CREATE TABLE drafts (id INTEGER PRIMARY KEY)")
            try await db.withConnection { connection in
                try connection.execute("BEGIN", [])
                try connection.execute("INSERT INTO drafts (id) VALUES ($1)", [1])
            }
            #expect(try await db.query("SELECT id FROM drafts").isEmpty)
        }
    }

    @Test("50 concurrent inserts all land", arguments: TestDatabases.available)
    func concurrentInserts(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in 0..<50 {
                    let parameters: [Value] = [.number(Double(id)), id.isMultiple(of: 5) ? "in a transaction" : "alone"]
                    group.addTask { () async throws -> Void in
                        let sql = "INSERT INTO events (id, payload) VALUES ($1, $2)"
                        if id.isMultiple(of: 5) {
                            _ = try await db.transaction { try $0.execute(sql, parameters) }
                        } else {
                            _ = try await db.execute(sql, parameters)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let rows = try await db.query("SELECT COUNT(*) AS n, SUM(id) AS total FROM events")
            #expect(rows.first?["n"] == 50)
            #expect(rows.first?["total"] == .number(Double((0..<50).reduce(0, +))))
        }
    }

    @Test("a failing statement reports the database's error text", arguments: TestDatabases.available)
    func errorText(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            let error = await #expect(throws: SQLError.self) {
                try await db.query("SELECT * FROM missing_table WHERE x = $1", [1])
            }
            #expect(error?.kind == .other)
            #expect(error?.message.contains("missing_table") == true)
            #expect(error.map { "\($0)".hasPrefix("database error ") } == true)
            // The connection is still usable after the failure.
            #expect(try await db.query("SELECT 1 AS one").first?["one"] == 1)
        }
    }

    @Test("several statements in one call are refused", arguments: TestDatabases.available)
    func severalStatements(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE t (x INTEGER)")
            await #expect(throws: SQLError.self) {
                try await db.execute("INSERT INTO t (x) VALUES ($1); DROP TABLE t", [1])
            }
            #expect(try await db.query("SELECT COUNT(*) AS n FROM t").first?["n"] == 0)
        }
    }

    /// Postgres keeps statements prepared per session: they must survive a failed transaction
    /// and a change of the table, and statements with many parameters go unprepared.
    @Test("a statement runs again after a failed transaction and a schema change", arguments: TestDatabases.available)
    func reusedStatements(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            try await db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            let insert = "INSERT INTO t (x) VALUES ($1)"
            for x in 1...3 { try await db.execute(insert, [.number(Double(x))]) }
            await #expect(throws: SQLError.self) {
                try await db.transaction { tx in
                    try tx.execute(insert, [4])
                    try tx.execute(insert, [1])  // duplicate key: the transaction fails
                }
            }
            try await db.execute("ALTER TABLE t ADD COLUMN label TEXT")
            try await db.execute(insert, [5])
            let values = (1...45).map { Value.number(Double(100 + $0)) }
            let many = "INSERT INTO t (x) VALUES " + (1...45).map { "($\($0))" }.joined(separator: ", ")
            try await db.execute(many, values)
            let rows = try await db.query("SELECT x, label FROM t ORDER BY x")
            #expect(rows.map { $0["x"] } == ([1, 2, 3, 5] as [Value]) + values)
            #expect(rows.allSatisfy { $0["label"] == .null })
        }
    }

    /// What a pooler in transaction mode does to prepared statements, played on one session:
    /// the server forgets them (`DEALLOCATE ALL`), or already has one the hub is about to prepare.
    @Test("Postgres: a lost statement falls back to unprepared ones; one prepared already is used",
          .enabled(if: TestDatabases.postgresURL != nil, "needs HUB_TEST_POSTGRES_URL"))
    func poolerProofStatements() async throws {
        try await TestDatabases.with(.postgres, poolSize: 1) { (db) async throws in
            let sum = "SELECT CAST($1 AS INTEGER) + 1 AS n"
            #expect(try await db.query(sum, [1]).first?["n"] == 2)
            try await db.execute("DEALLOCATE ALL")
            #expect(try await db.query(sum, [2]).first?["n"] == 3)
            #expect(try await db.query("SELECT CAST($1 AS TEXT) AS t", ["after"]).first?["t"] == "after")
        }
        try await TestDatabases.with(.postgres, poolSize: 1) { (db) async throws in
            // Another client of a pooler prepared the same statement on this server session first.
            let echo = "SELECT CAST($1 AS TEXT) AS t"
            try await db.execute("PREPARE \(PostgresConnection.statementName(echo)) (TEXT) AS \(echo)")
            #expect(try await db.query(echo, ["taken"]).first?["t"] == "taken")
            #expect(try await db.query(echo, ["again"]).first?["t"] == "again")
        }
        // Names depend on the text only.
        #expect(PostgresConnection.statementName("SELECT 1") == PostgresConnection.statementName("SELECT 1"))
        #expect(PostgresConnection.statementName("SELECT 1") != PostgresConnection.statementName("SELECT 2"))
    }

    @Test("more parameters than placeholders are refused", arguments: TestDatabases.available)
    func extraParameters(kind: TestDatabaseKind) async throws {
        try await TestDatabases.with(kind) { (db) async throws in
            let error = await #expect(throws: SQLError.self) { try await db.query("SELECT 1 AS x", [1]) }
            #expect(error?.kind == .other)
            #expect(try await db.query("SELECT $1 AS x", ["y"]).first?["x"] == "y")
        }
    }

    @Test("SQLite refuses placeholders other than $1…$n")
    func sqlitePlaceholders() async throws {
        try await TestDatabases.with(.sqlite) { (db) async throws in
            for sql in ["SELECT ? AS v", "SELECT :name AS v", "SELECT $3 AS v"] {
                await #expect(throws: SQLError.self) { try await db.query(sql, [1, 2]) }
            }
            #expect(try await db.query("SELECT $2 AS v", [1, 2]).first?["v"] == 2)
        }
    }

    @Test("SQLite :memory: works")
    func sqliteMemory() async throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try await db.execute("CREATE TABLE m (x INTEGER)")
        try await db.execute("INSERT INTO m (x) VALUES ($1)", [7])
        #expect(try await db.query("SELECT x FROM m").first?["x"] == 7)
        await db.close()
    }

    @Test("a closed database refuses work")
    func closed() async throws {
        let db = try SQLiteDatabase(path: ":memory:")
        await db.close()
        let error = await #expect(throws: SQLError.self) { try await db.query("SELECT 1") }
        #expect(error?.kind == .unavailable)
    }

    @Test("Postgres connection errors never show the connection string")
    func postgresSecretsStayOut() async throws {
        let secret = "s3cret-\(UUID().uuidString)"
        // Port 1 refuses at once, so no server is needed.
        let db = try PostgresDatabase(
            connectionString: "host=127.0.0.1 port=1 user=hub password=\(secret) dbname=hub connect_timeout=2")
        let error = await #expect(throws: SQLError.self) { try await db.query("SELECT 1") }
        #expect(error?.kind == .unavailable)
        #expect(error.map { "\($0)".contains(secret) } == false)
        #expect(!"\(db)".contains(secret))
        var dumped = ""
        dump(db, to: &dumped)
        #expect(!dumped.contains(secret))
        await db.close()

        let bad = #expect(throws: SQLError.self) {
            try PostgresDatabase(connectionString: "postgresql://hub:\(secret)@127.0.0.1:5432/hub?bogus=\(secret)")
        }
        #expect(bad.map { "\($0)".contains(secret) } == false)

        // A password with an unescaped '@' or '/' parses, but libpq takes part of it for the host
        // or the port: refused at once, quoting nothing.
        for url in ["postgresql://hub:pa@ss\(secret)@127.0.0.1:1/hub", "postgresql://hub:\(secret)/x@127.0.0.1:1/hub"] {
            let unescaped = #expect(throws: SQLError.self) { try PostgresDatabase(connectionString: url) }
            #expect(unescaped.map { "\($0)".contains("percent-encode") && !"\($0)".contains(secret) && !"\($0)".contains("3cret") } == true)
        }
    }
}
