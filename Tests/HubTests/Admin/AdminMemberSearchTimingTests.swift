import Flows
import Foundation
@testable import Hub
import HummingbirdTesting
import Testing

/// How long the members page's search takes with many members, before (the scan the page used to
/// run) and after (the index). Prints figures, asserts only on results: set
/// HUB_MEMBER_SEARCH_TIMING to a member count (e.g. 100000) to run it; `hub bench --only admin`
/// measures the same page through a real `hub serve`.
@Suite(.serialized) struct AdminMemberSearchTimingTests {
    static let members = Int(ProcessInfo.processInfo.environment["HUB_MEMBER_SEARCH_TIMING"] ?? "") ?? 0

    @Test("search timing with many members (prints medians)", .enabled(if: members > 0), arguments: TestDatabases.available)
    func timing(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let db = harness.store.database
            let count = Self.members
            try await Self.seed(db, count: count)
            // As autovacuum leaves a table in use: statistics gathered, the GIN index's pending list merged.
            if db.dialect == .postgres { try await db.execute("VACUUM ANALYZE funnel_members") }
            let browser = try await AdminBrowser.signIn(client)
            let term = "иван"
            // The WHERE clause the page ran before the index, as it was.
            let p = "%иван%", variant = "%Иван%"
            let scan = db.dialect == .sqlite
                ? "WHERE (LOWER(full_name) LIKE $1 ESCAPE '\\' OR LOWER(email) LIKE $1 ESCAPE '\\' OR LOWER(telegram_username) LIKE $1 ESCAPE '\\' OR phone LIKE $1 ESCAPE '\\' OR full_name LIKE $2 ESCAPE '\\')"
                : "WHERE (LOWER(full_name) LIKE $1 OR LOWER(email) LIKE $1 OR LOWER(telegram_username) LIKE $1 OR phone LIKE $1 OR full_name LIKE $2)"
            let format = harness.dashboard.format, dialect = db.dialect
            func scanPage() async throws -> Int {
                try await db.withConnection { db in
                    let parameters: [Value] = [.string(p), .string(variant)]
                    _ = try db.query("SELECT \(MemberQuery.columns) FROM funnel_members \(scan) ORDER BY created_at DESC, id DESC LIMIT 50", parameters)
                    return try db.query("SELECT COUNT(*) AS n FROM funnel_members \(scan)", parameters).first?["n"]?.intValue ?? -1
                }
            }
            func indexPage(_ term: String) async throws -> Int {
                try await db.withConnection { db in try MemberQuery(["q": term]).page(db, format: format, dialect: dialect).total }
            }
            let before = try await scanPage()
            let after = try await indexPage(term)
            #expect(before == after)
            func median(_ body: () async throws -> Void) async throws -> Double {
                var times: [Double] = []
                for _ in 0..<7 {
                    let start = ContinuousClock.now
                    try await body()
                    let elapsed = ContinuousClock.now - start
                    times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                }
                return times.sorted()[times.count / 2]
            }
            let scanMillis = try await median { _ = try await scanPage() }
            let indexMillis = try await median { _ = try await indexPage(term) }
            let pageMillis = try await median { _ = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode(term)) }
            let shortMillis = try await median { _ = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode("ив")) }
            let emailMillis = try await median { _ = try await browser.get(client, "/admin/members?q=client4242") }
            print(String(format: "member search on %@, %d members, '%@' matches %d: scan (before) %.1f ms, index (after) %.1f ms; "
                         + "whole page %.1f ms; 2-letter page %.1f ms; e-mail page %.1f ms",
                         kind.rawValue, count, term, after, scanMillis, indexMillis, pageMillis, shortMillis, emailMillis))
        }
    }

    /// Members as the bench seeds them: a tenth named Иван, an eighth of surnames Иванова.
    static func seed(_ db: any SQLDatabase, count: Int) async throws {
        let names = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Иван", "Ксения", "Лев"]
        let surnames = ["Иванова", "Петров", "Сидорова", "Кузнецов", "Смирнова", "Попов", "Орлова", "Волков"]
        let now = Store.now()
        for batch in stride(from: 0, to: count, by: 5_000) {
            try await db.transaction { db in
                for i in batch..<min(count, batch + 5_000) {
                    try db.execute("""
                        INSERT INTO funnel_members (id, full_name, phone, email, telegram_username, status, token, created_at, updated_at)
                        VALUES ($1, $2, $3, $4, $5, 'registered', $1, $6, $6)
                        """, [.string("m-\(i)"), .string("\(names[i % names.count]) \(surnames[(i / 10) % surnames.count]) \(i)"),
                              .string("+7999\(String(format: "%07d", i))"), .string("client\(i)@example.ru"), .string("user\(i)"),
                              .millis(now - Int64(count - i) * 60_000)])
                }
            }
        }
    }
}
