import DatabaseConnector
import Flows
import Testing

@Suite("db: the admin's named queries")
struct NamedQueryTests {
    static let queries: [String: Value] = [
        "members_in_city": "SELECT full_name, phone FROM funnel_members WHERE city = $1 AND status = $2 ORDER BY phone",
        "rename_city": "UPDATE funnel_members SET city = $2 WHERE city = $1",
    ]

    @Test("query binds its params and returns rows; exec counts changed rows", arguments: TestFunnel.available)
    func namedQueries(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind, queries: Self.queries) { funnel in
            try await funnel.register(name: "Анна", phone: "+79160000001", email: nil, city: "Москва")
            try await funnel.register(name: "Борис", phone: "+79160000002", email: nil, city: "Москва")
            try await funnel.register(name: "Вера", phone: "+79160000003", email: nil, city: "Тверь")
            let result = try await funnel.call("query", ["name": "members_in_city", "params": ["Москва", "registered"]])
            #expect(result == ["rows": [["full_name": "Анна", "phone": "+79160000001"], ["full_name": "Борис", "phone": "+79160000002"]], "count": 2])
            let injected = try await funnel.call("query", ["name": "members_in_city", "params": ["Москва' OR '1'='1", "registered"]])
            #expect(injected["count"] == 0)
            #expect(try await funnel.call("exec", ["name": "rename_city", "params": ["Москва", "Moscow"]]) == ["changed": 2])
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_members WHERE city = 'Moscow'").first?["n"] == 2)
        }
    }

    @Test("an unknown query name fails for good, with a did-you-mean", arguments: TestFunnel.available)
    func unknownName(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind, queries: Self.queries) { funnel in
            let typo = await #expect(throws: ConnectorError.self) { try await funnel.call("query", ["name": "members_in_ctiy"]) }
            #expect(typo?.message == "unknown query 'members_in_ctiy': did you mean 'members_in_city'?")
            #expect(typo?.code == "unknown-query")
            #expect(typo?.disposition == .permanent)
            let far = await #expect(throws: ConnectorError.self) { try await funnel.call("exec", ["name": "drop_everything"]) }
            #expect(far?.message == "unknown query 'drop_everything': known queries: 'members_in_city', 'rename_city'")
        }
        try await TestFunnel.with(kind) { funnel in
            let none = await #expect(throws: ConnectorError.self) { try await funnel.call("query", ["name": "x"]) }
            #expect(none?.message == "unknown query 'x': this instance has no 'queries' configured")
        }
    }

    @Test("a query that fails in the database is a permanent database error", arguments: TestFunnel.available)
    func brokenQuery(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind, queries: ["broken": "SELECT nope FROM funnel_members"]) { funnel in
            let error = await #expect(throws: ConnectorError.self) { try await funnel.call("query", ["name": "broken"]) }
            #expect(error?.code == "database")
            #expect(error?.disposition == .permanent)
            #expect(error?.message.contains("nope") == true)
        }
    }
}
