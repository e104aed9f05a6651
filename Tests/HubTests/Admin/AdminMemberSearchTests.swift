import Flows
import Foundation
@testable import Hub
import Hummingbird
import HummingbirdTesting
import Testing

/// The members page's search: the index behind it (database migration 3) finds the same members
/// a plain scan would, follows every change to a member, and takes any input literally.
@Suite struct AdminMemberSearchTests {
    /// The names of `known` that a search for `term` lists, and the page's "Найдено" count.
    static func search(_ browser: AdminBrowser, _ client: some TestClientProtocol, _ term: String,
                       among known: [String]) async throws -> (names: Set<String>, total: Int?)
    {
        let page = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode(term))
        #expect(page.status == .ok, "\(term)")
        let html = page.text
        let total = html.range(of: "Найдено: ").map { Int(html[$0.upperBound...].prefix { $0.isNumber }) } ?? nil
        return (Set(known.filter { html.contains(">\(MemberHTML.escape($0))</a>") }), total)
    }

    @Test("Cyrillic, e-mail, @username and phone digits, short and long terms", arguments: TestDatabases.available)
    func searchFindsEachField(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let known = ["Мария Иванова", "Иван Петров", "Фёдор Ёлкин", "John Smith"]
            try await harness.addMember(name: known[0], phone: "+79991234567", email: "Maria.I@Example.ru", username: "masha_iv")
            try await harness.addMember(name: known[1], phone: "+79997654321", email: "petrov@mail.ru", username: "Ivan_P")
            try await harness.addMember(name: known[2], phone: "+79990001122", email: "elkin@yandex.ru")
            try await harness.addMember(name: known[3], phone: "+14155550100", email: "john@example.com", username: "jsmith")
            let browser = try await AdminBrowser.signIn(client)
            func names(_ term: String) async throws -> Set<String> { try await Self.search(browser, client, term, among: known).names }

            for term in ["иван", "ИВАН", "Иван", "иВаН"] {
                #expect(try await names(term) == ["Мария Иванова", "Иван Петров"], "\(term)")
            }
            #expect(try await names("иванова") == ["Мария Иванова"])
            #expect(try await names("Ёлкин") == ["Фёдор Ёлкин"])
            #expect(try await names("ёлк") == ["Фёдор Ёлкин"])
            #expect(try await names("мария иванова") == ["Мария Иванова"])
            // A browser's GET form sends a space as '+'.
            let formEncoded = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode("мария") + "+" + TestHTTP.encode("иванова"))
            #expect(formEncoded.text.contains("Найдено: 1") && formEncoded.text.contains(">Мария Иванова</a>"))
            #expect(formEncoded.text.contains("value=\"мария иванова\""))
            // Shorter than a trigram: the scan, with the same answers.
            #expect(try await names("Ив") == ["Мария Иванова", "Иван Петров"])
            #expect(try await names("ё") == ["Фёдор Ёлкин"])
            // E-mail, case-insensitive, any part.
            #expect(try await names("maria.i@example.ru") == ["Мария Иванова"])
            #expect(try await names("EXAMPLE") == ["Мария Иванова", "John Smith"])
            #expect(try await names("@mail.ru") == ["Иван Петров"])
            // @username: the "@" is dropped, the rest matches any field.
            #expect(try await names("@ivan_p") == ["Иван Петров"])
            #expect(try await names("@IVAN") == ["Иван Петров"])
            #expect(try await names("@jsm") == ["John Smith"])
            // Phones by digits, with or without the country code, as people type them.
            #expect(try await names("9991234567") == ["Мария Иванова"])
            #expect(try await names("8 (999) 123-45-67") == ["Мария Иванова"])
            #expect(try await names("+7 999 765") == ["Иван Петров"])
            #expect(try await names("4567") == ["Мария Иванова"])
            #expect(try await names("555") == ["John Smith"])
            #expect(try await names("+7999") == ["Мария Иванова", "Иван Петров", "Фёдор Ёлкин"])
            #expect(try await names("нет такого").isEmpty)
            // The count is of matches, not of the page.
            #expect(try await Self.search(browser, client, "иван", among: known).total == 2)
        }
    }

    @Test("SQLite folds the case of whole Cyrillic words, not only capitalised names")
    func sqliteFoldsUpperCaseCyrillic() async throws {
        try await AdminHarness.with(.sqlite) { harness, client in
            let known = ["МАРИЯ ИВАНОВА", "пётр сидоров"]
            try await harness.addMember(name: known[0], phone: "+79991230001")
            try await harness.addMember(name: known[1], phone: "+79991230002")
            let browser = try await AdminBrowser.signIn(client)
            func names(_ term: String) async throws -> Set<String> { try await Self.search(browser, client, term, among: known).names }
            #expect(try await names("иванова") == ["МАРИЯ ИВАНОВА"])
            #expect(try await names("Мария Ив") == ["МАРИЯ ИВАНОВА"])
            #expect(try await names("ПЁТР") == ["пётр сидоров"])
            #expect(try await names("СИДОРОВ") == ["пётр сидоров"])
        }
    }

    @Test("a search matching many members pages and counts like the plain list", arguments: TestDatabases.available)
    func manyMatchesPageInOrder(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let base = Store.now() - 10_000_000
            let count = MemberQuery.walkAbove + 150
            try await harness.store.database.transaction { db in
                for i in 0..<count {
                    try db.execute("""
                        INSERT INTO funnel_members (id, full_name, phone, status, token, created_at, updated_at)
                        VALUES ($1, $2, $3, $4, $1, $5, $5)
                        """, [.string("m-\(i)"), .string(String(format: i % 10 == 0 ? "Участник %04d" : "Гость %04d", i)),
                              .string("+7999200\(String(format: "%04d", i))"), .string(i % 3 == 0 ? "paid" : "registered"),
                              .millis(base + Int64(i) * 1000)])
                }
            }
            let browser = try await AdminBrowser.signIn(client)
            let guests = (0..<count).filter { $0 % 10 != 0 }
            let newest = guests.reversed().map { String(format: "Гость %04d", $0) }
            // More matches than the walking threshold (SQLite walks the created_at index), newest first.
            let first = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode("гость")).text
            #expect(guests.count > MemberQuery.walkAbove)
            #expect(first.contains("Найдено: \(guests.count)"))
            let shown = newest.filter { first.contains(">\($0)</a>") }
            #expect(shown == Array(newest.prefix(MemberQuery.pageSize)))
            let second = try await browser.get(client, "/admin/members?page=2&q=" + TestHTTP.encode("гость")).text
            #expect(newest.filter { second.contains(">\($0)</a>") } == Array(newest.dropFirst(MemberQuery.pageSize).prefix(MemberQuery.pageSize)))
            // With a filter and another sort.
            let paidGuests = guests.filter { $0 % 3 == 0 }.map { String(format: "Гость %04d", $0) }
            let paid = try await browser.get(client, "/admin/members?status=paid&sort=name_asc&q=" + TestHTTP.encode("ГОСТЬ")).text
            #expect(paid.contains("Найдено: \(paidGuests.count)"))
            #expect(paidGuests.filter { paid.contains(">\($0)</a>") } == Array(paidGuests.prefix(MemberQuery.pageSize)))
            // Fewer matches than the threshold: fetched and sorted.
            let few = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode("Гость 00")).text
            #expect(few.contains("Найдено: \(newest.filter { $0.hasPrefix("Гость 00") }.count)"))
            #expect(newest.filter { few.contains(">\($0)</a>") } == Array(newest.filter { $0.hasPrefix("Гость 00") }.prefix(MemberQuery.pageSize)))
        }
    }

    @Test("the index follows inserts, edits, upserts and deletes", arguments: TestDatabases.available)
    func indexFollowsChanges(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let db = harness.store.database
            let known = ["Анна Каренина", "Анна Облонская", "Степан Облонский"]
            let anna = try await harness.addMember(name: known[0], phone: "+79991110001", email: "anna@karenin.ru", username: "annak")
            let browser = try await AdminBrowser.signIn(client)
            func names(_ term: String) async throws -> Set<String> { try await Self.search(browser, client, term, among: known).names }
            #expect(try await names("каренина") == ["Анна Каренина"])

            try await db.execute("UPDATE funnel_members SET full_name = $2, email = $3, phone = $4, telegram_username = $5 WHERE id = $1",
                                 [.string(anna), .string(known[1]), .string("anna@oblonsky.ru"), .string("+79992220002"), .string("anna_o")])
            #expect(try await names("каренина").isEmpty)
            #expect(try await names("karenin").isEmpty)
            #expect(try await names("1110001").isEmpty)
            #expect(try await names("@annak").isEmpty)
            #expect(try await names("облонская") == ["Анна Облонская"])
            #expect(try await names("oblonsky.ru") == ["Анна Облонская"])
            #expect(try await names("2220002") == ["Анна Облонская"])
            #expect(try await names("@anna_o") == ["Анна Облонская"])
            // A change to other columns leaves the search alone.
            try await db.execute("UPDATE funnel_members SET status = 'paid', city = 'Москва' WHERE id = $1", [.string(anna)])
            #expect(try await names("облонская") == ["Анна Облонская"])

            // The connector's upsert path: INSERT … ON CONFLICT DO UPDATE is an update.
            let stiva = try await harness.addMember(name: "Стива", phone: "+79993330003")
            try await db.execute("""
                INSERT INTO funnel_members (id, full_name, phone, status, token, created_at, updated_at)
                VALUES ($1, $2, $3, 'registered', 'other-token', 1, 1)
                ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name
                """, [.string(stiva), .string(known[2]), .string("+79993330003")])
            #expect(try await names("облонск") == ["Анна Облонская", "Степан Облонский"])

            try await db.execute("DELETE FROM funnel_payments WHERE member_id = $1", [.string(anna)])
            try await db.execute("DELETE FROM funnel_members WHERE id = $1", [.string(anna)])
            #expect(try await names("облонск") == ["Степан Облонский"])
            #expect(try await names("oblonsky.ru").isEmpty)
            if kind == .sqlite {
                // Nothing left behind for the deleted member.
                let left = try await db.query("SELECT COUNT(*) AS n FROM funnel_members_search_docs WHERE member_id = $1", [.string(anna)])
                #expect(left.first?["n"] == 0)
                let indexed = try await db.query("SELECT COUNT(*) AS n FROM funnel_members_search").first?["n"]
                #expect(indexed == 1)
            }
        }
    }

    @Test("hostile input is matched literally and never breaks the query", arguments: TestDatabases.available)
    func hostileInputIsLiteral(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let known = ["Сергей \"Серый\" OR NEAR", "Ольга a*b (c) ^d", "Скидка 50% для_всех", "O'Brien {full_name}: x", "Вася"]
            for (index, name) in known.enumerated() {
                try await harness.addMember(name: name, phone: "+7999444000\(index)")
            }
            let browser = try await AdminBrowser.signIn(client)
            func names(_ term: String) async throws -> Set<String> { try await Self.search(browser, client, term, among: known).names }
            #expect(try await names("\"Серый\"") == [known[0]])
            #expect(try await names("\"Серый\" OR NEAR") == [known[0]])
            #expect(try await names("OR NEAR") == [known[0]])
            #expect(try await names("\"") == [known[0]])
            #expect(try await names("\"\"\"").isEmpty)
            #expect(try await names("a*b") == [known[1]])
            #expect(try await names("a*") == [known[1]])
            #expect(try await names("(c) ^d") == [known[1]])
            #expect(try await names("50%") == [known[2]])
            #expect(try await names("для_вс") == [known[2]])
            #expect(try await names("O'Brien") == [known[3]])
            #expect(try await names("{full_name}: x") == [known[3]])
            #expect(try await names("{full_name}") == [known[3]])
            // FTS5 syntax and SQL that would mean something unquoted: nothing matches, nothing fails.
            for term in ["NEAR(a b)", "Вася OR Сергей", "Вас*", "* OR *", "phone : 999", "-Вася", "^Вас", "''; DROP TABLE funnel_members; --",
                         "%_%", "___", "\\\\\\", "\u{0}\u{0}\u{0}", "Вася\u{0}", "\u{1}\u{2}\u{3}", "x\"y\"z", "AND", "NOT Вася"] {
                #expect(try await names(term).isEmpty, "\(term)")
            }
            #expect(try await harness.store.database.query("SELECT COUNT(*) AS n FROM funnel_members").first?["n"] == 5)
            // The CSV export uses the same search.
            let csv = try await browser.get(client, "/admin/members.csv?q=" + TestHTTP.encode("\"Серый\" OR NEAR")).text
            #expect(csv.split(separator: "\r\n").count == 2)
        }
    }

    @Test("a database migrated before the search index gets it on upgrade, old rows included", arguments: TestDatabases.available)
    func upgradeBackfillsOldMembers(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withURL(kind) { url in
            try await Self.withStore(url) { store in
                let db = store.database
                // As an older hub left it: the funnel at version 2, members in it, and the indexes
                // its dashboard created on start.
                try await store.migrate(connectors: [])
                let funnel = try #require(BuiltinConnectors.all.first { $0.spec.name == "database" })
                let dialect = db.dialect
                try await db.transaction { db in
                    for migration in funnel.migrations where migration.version <= 2 {
                        for statement in migration.statements(dialect) { try db.execute(statement, []) }
                        try db.execute("INSERT INTO hub_migrations (component, version, name, applied_at) VALUES ('database', $1, $2, 0)",
                                       [.number(Double(migration.version)), .string(migration.name)])
                    }
                    for statement in ["CREATE INDEX IF NOT EXISTS hub_admin_members_status ON funnel_members (status, created_at)",
                                      "CREATE INDEX IF NOT EXISTS hub_admin_members_paid ON funnel_members (paid_at)",
                                      "CREATE INDEX IF NOT EXISTS hub_admin_members_name ON funnel_members (full_name)"] {
                        try db.execute(statement, [])
                    }
                }
                let known = ["Лев Толстой", "Софья Толстая", "Антон Чехов"]
                let lev = try await AdminHarness.insertMember(db, name: known[0], phone: "+79995550001", email: "lev@yasnaya.ru", username: "leo")
                try await AdminHarness.insertMember(db, name: known[1], phone: "+79995550002")
                try await AdminHarness.insertMember(db, name: known[2], phone: "+79995550003")

                let upgrade = try await store.migrate()
                #expect(upgrade.contains("database:3") && !upgrade.contains("database:2"), "\(upgrade)")
                #expect(try await store.migrate().isEmpty)
                let indexes = try await Self.memberIndexes(db)
                #expect(indexes.isSuperset(of: ["funnel_members_status", "funnel_members_paid", "funnel_members_name"]))
                #expect(indexes.isDisjoint(with: ["hub_admin_members_status", "hub_admin_members_paid", "hub_admin_members_name"]))

                let dashboard = AdminDashboard(store: store, flows: FlowRegistry([]), connectors: [:], connectorStates: [],
                                               specs: BuiltinConnectors.registry.specs, publicURL: "http://127.0.0.1:8080")
                try await dashboard.prepare(adminPassword: AdminHarness.password)
                let router = Router()
                dashboard.addRoutes(to: router)
                try await Application(router: router).test(.router) { client in
                    let browser = try await AdminBrowser.signIn(client)
                    func names(_ term: String) async throws -> Set<String> { try await Self.search(browser, client, term, among: known).names }
                    #expect(try await names("толст") == ["Лев Толстой", "Софья Толстая"])
                    #expect(try await names("yasnaya") == ["Лев Толстой"])
                    #expect(try await names("@leo") == ["Лев Толстой"])
                    #expect(try await names("5550003") == ["Антон Чехов"])
                    // Old rows follow edits too, and new rows join them.
                    try await db.execute("UPDATE funnel_members SET full_name = 'Лев Николаевич' WHERE id = $1", [.string(lev)])
                    try await AdminHarness.insertMember(db, name: "Николай Гоголь", phone: "+79995550004")
                    #expect(try await Self.search(browser, client, "никола", among: ["Лев Николаевич", "Николай Гоголь"]).names
                        == ["Лев Николаевич", "Николай Гоголь"])
                    #expect(try await names("толст") == ["Софья Толстая"])
                }
            }
        }
    }

    @Test("two hubs migrating one database at once both start, and the index is built once", arguments: TestDatabases.available)
    func concurrentMigrations(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withURL(kind) { url in
            let stores = try (0..<2).map { _ in try Store.open(url, poolSize: 1) }
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for store in stores { group.addTask { try await store.migrate() } }
                var all: [String] = []
                for try await one in group { all += one }
                return all
            }
            #expect(applied.filter { $0 == "database:3" }.count == 1)
            try await AdminHarness.insertMember(stores[1].database, name: "Пётр Первый", phone: "+79996660001")
            var query = MemberQuery(["q": "первый"])
            query.page = 1
            let (clause, parameters) = query.whereClause(format: AdminFormat(timeZone: TimeZone(identifier: "UTC")!), dialect: stores[0].database.dialect)
            let found = try await stores[0].database.query("SELECT full_name FROM funnel_members \(clause)", parameters)
            #expect(found.map { $0["full_name"] } == ["Пётр Первый"])
            for store in stores { await store.close() }
        }
    }

    @Test("the search is served by its index, not a scan", arguments: TestDatabases.available)
    func searchUsesTheIndex(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withURL(kind) { url in
            try await Self.withStore(url) { store in
                try await store.migrate()
                let query = MemberQuery(["q": "example.ru"])
                let (clause, parameters) = query.whereClause(format: AdminFormat(timeZone: TimeZone(identifier: "UTC")!), dialect: store.database.dialect)
                let sql = "SELECT id FROM funnel_members \(clause)"
                let plan: String
                switch kind {
                case .sqlite:
                    plan = try await store.database.query("EXPLAIN QUERY PLAN " + sql, parameters).map { $0["detail"]?.text ?? "" }.joined(separator: "\n")
                    #expect(plan.contains("VIRTUAL TABLE INDEX"), "\(plan)")
                case .postgres:
                    // On an empty table a scan is cheapest; with scans priced out, the index must be able to answer.
                    plan = try await store.database.transaction { db in
                        try db.execute("SET LOCAL enable_seqscan = off", [])
                        return try db.query("EXPLAIN " + sql, parameters).map { $0.values.first?.text ?? "" }.joined(separator: "\n")
                    }
                    #expect(plan.contains("funnel_members_search"), "\(plan)")
                }
            }
        }
    }

    static func withStore(_ url: String, _ body: (Store) async throws -> Void) async throws {
        let store = try Store.open(url, poolSize: 2)
        do {
            try await body(store)
            await store.close()
        } catch {
            await store.close()
            throw error
        }
    }

    static func memberIndexes(_ db: any SQLDatabase) async throws -> Set<String> {
        let sql = db.dialect == .sqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'funnel_members'"
            : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'funnel_members' AND schemaname = current_schema()"
        return Set(try await db.query(sql).compactMap { $0["name"]?.text })
    }
}

/// Text as the dashboard's templates escape it, to find a name in a page.
enum MemberHTML {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
