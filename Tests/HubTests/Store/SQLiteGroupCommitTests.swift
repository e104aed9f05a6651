import Flows
import Foundation
@testable import Hub
import Testing

/// SQLite transactions asked for at the same moment share a commit, yet each keeps its own
/// outcome: a body that throws rolls back only its own changes.
@Suite struct SQLiteGroupCommitTests {
    @Test("concurrent transactions: the failing ones roll back alone, the others commit")
    func savepointsIsolateBodies() async throws {
        try await TestDatabases.with(.sqlite) { db in
            try await db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, label TEXT)")
            struct Refused: Error {}
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for n in 0..<200 {
                    group.addTask {
                        do {
                            try await db.transaction { c in
                                try c.execute("INSERT INTO t (n, label) VALUES ($1, 'first')", [.number(Double(n))])
                                try c.execute("UPDATE t SET label = 'second' WHERE n = $1", [.number(Double(n))])
                                // Every third body fails after writing: neither of its statements may stay.
                                if n % 3 == 0 { throw Refused() }
                            }
                            return (n, true)
                        } catch {
                            return (n, false)
                        }
                    }
                }
                var all: [Int: Bool] = [:]
                for await (n, committed) in group { all[n] = committed }
                return all
            }
            #expect(outcomes.count == 200)
            #expect(outcomes.filter(\.value).map(\.key).sorted() == (0..<200).filter { $0 % 3 != 0 })
            let rows = try await db.query("SELECT n, label FROM t ORDER BY n")
            #expect(rows.compactMap { $0["n"]?.intValue } == (0..<200).filter { $0 % 3 != 0 })
            #expect(rows.allSatisfy { $0["label"]?.stringValue == "second" })
        }
    }

    @Test("a body's constraint error is its own; the next transaction works")
    func constraintErrorStaysLocal() async throws {
        try await TestDatabases.with(.sqlite) { db in
            try await db.execute("CREATE TABLE u (k TEXT PRIMARY KEY)")
            _ = try await db.transaction { c in try c.execute("INSERT INTO u (k) VALUES ('a')", []) }
            let error = await #expect(throws: SQLError.self) {
                try await db.transaction { c in
                    try c.execute("INSERT INTO u (k) VALUES ('b')", [])
                    try c.execute("INSERT INTO u (k) VALUES ('a')", [])
                }
            }
            #expect(error?.kind == .uniqueViolation)
            _ = try await db.transaction { c in try c.execute("INSERT INTO u (k) VALUES ('c')", []) }
            #expect(try await db.query("SELECT k FROM u ORDER BY k").compactMap { $0["k"]?.stringValue } == ["a", "c"])
        }
    }

    @Test("the write-ahead log is checkpointed into the database file off the commit path")
    func checkpointsInTheBackground() async throws {
        try await TestDatabases.withURL(.sqlite) { url in
            let path = String(url.dropFirst("sqlite:".count))
            let db = try SQLiteDatabase(path: path)
            try await db.execute("CREATE TABLE blob (n INTEGER PRIMARY KEY, body TEXT)")
            let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            // About 1,500 pages of rows, through the group-committing writer (automatic checkpoints off there).
            let body = String(repeating: "x", count: 4000)
            for n in 0..<1500 {
                _ = try await db.transaction { c in try c.execute("INSERT INTO blob (n, body) VALUES ($1, $2)", [.number(Double(n)), .string(body)]) }
            }
            var after = before
            for _ in 0..<250 where after < 1_000_000 {
                try await Task.sleep(for: .milliseconds(20))
                after = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            }
            // Only a checkpoint copies pages from the log into the database file (the rows are ~6 MB).
            #expect(after > 1_000_000, "database file \(before) → \(after) bytes")
            #expect(try await db.query("SELECT COUNT(*) AS n FROM blob").first?["n"]?.intValue == 1500)
            await db.close()
        }
    }
}
