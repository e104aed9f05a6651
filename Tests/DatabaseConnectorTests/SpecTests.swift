import DatabaseConnector
import Flows
import Testing

@Suite("db: the declaration")
struct SpecTests {
    @Test("reads are free of side effects, writes are not")
    func sideEffects() {
        let spec = DatabaseConnector.spec
        #expect(spec.name == "database")
        #expect(spec.defaultInstance == "db")
        let reads = Set(spec.actions.filter { !$0.hasSideEffects }.map(\.name))
        #expect(reads == ["find_member", "check_join", "query", "support_client_for"])
        #expect(spec.actions.count == 14)
    }

    @Test("every action's example passes the checker")
    func examplesCheck() {
        let catalog = Catalog.defaults(ConnectorRegistry([DatabaseConnector.self]))
        let files = DatabaseConnector.spec.actions.map { action in
            let step = action.example.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .map { $0.offset == 0 ? "  - \($0.element)" : "    \($0.element)" }.joined(separator: "\n")
            return (file: "db.\(action.name).yaml", text: "name: example-\(action.name.replacingOccurrences(of: "_", with: "-"))\non: { http: /example/\(action.name) }\nsteps:\n\(step)\n")
        }
        let set = FlowSet.compile(files, catalog: catalog)
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        #expect(set.flows.count == files.count)
    }

    @Test("a migrated database has the funnel's tables, and migrating again does nothing", arguments: TestFunnel.available)
    func migrations(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { (funnel) async throws in
            for table in ["funnel_members", "funnel_payments", "funnel_invites", "funnel_support_threads", "funnel_support_messages"] {
                #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM \(table)").first?["n"] == 0, "\(table)")
            }
            #expect(try await funnel.rows("SELECT component, version FROM hub_migrations WHERE component = 'database' ORDER BY version").map(\.values)
                == [["database", 1], ["database", 2], ["database", 3], ["database", 4], ["database", 5], ["database", 6], ["database", 7]])
        }
    }

    @Test("bad config and bad input fail for good, naming the field")
    func badInput() async throws {
        try await TestFunnel.with(.sqlite, queries: ["x": "SELECT 1 AS one"]) { funnel in
            let status = await #expect(throws: ConnectorError.self) {
                try await funnel.call("mark_paid", ["order": "  "])
            }
            #expect(status?.message == "'order' needs a value")
            let telegram = await #expect(throws: ConnectorError.self) {
                try await funnel.call("bind_telegram", ["token": "t", "telegram_id": 1.5])
            }
            #expect(telegram?.message == "'telegram_id' must be a whole number, found number")
            let params = await #expect(throws: ConnectorError.self) {
                try await funnel.call("query", ["name": "x", "params": "y"])
            }
            #expect(params?.message == "'params' must be a list of values for $1…$n, found string")
            let action = await #expect(throws: ConnectorError.self) { try await funnel.call("mark_payd", [:]) }
            #expect(action?.message == "the database connector has no action 'mark_payd'")
        }
    }

    @Test("a named query that is not SQL text is refused when the instance is built")
    func badQueryConfig() async throws {
        let error = await #expect(throws: ConnectorError.self) {
            try await TestFunnel.with(.sqlite, queries: ["broken": 42]) { _ in }
        }
        #expect(error?.message == "query 'broken' of 'db' must be SQL text, found number")
    }
}
