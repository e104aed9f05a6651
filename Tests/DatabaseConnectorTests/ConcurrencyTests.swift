import DatabaseConnector
import Flows
import Testing

@Suite("db: the same call at the same time")
struct ConcurrencyTests {
    @Test("ten simultaneous registrations of one new client make one member and one order", arguments: TestFunnel.available)
    func simultaneousRegistrations(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let results = try await withThrowingTaskGroup(of: Value.self) { group in
                for index in 0..<10 {
                    group.addTask { try await funnel.register(name: "Клиент \(index)", amount: "3000") }
                }
                return try await group.reduce(into: [Value]()) { $0.append($1) }
            }
            #expect(Set(results.compactMap { $0["id"] }).count == 1)
            #expect(Set(results.compactMap { $0["token"] }).count == 1)
            #expect(Set(results.compactMap { $0["order_id"] }).count == 1)
            #expect(results.filter { $0["created"] == true }.count == 1)
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_members").first?["n"] == 1)
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_payments").first?["n"] == 1)
        }
    }

    @Test("ten simultaneous deliveries of one payment: exactly one is newly paid", arguments: TestFunnel.available)
    func simultaneousPayments(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let order = try #require(try await funnel.register()["order_id"])
            let results = try await withThrowingTaskGroup(of: Value.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await funnel.call("mark_paid", ["order": order, "amount": "3000.00", "payload": ["order_num": order]]) }
                }
                return try await group.reduce(into: [Value]()) { $0.append($1) }
            }
            #expect(results.filter { $0["newly_paid"] == true }.count == 1)
            #expect(results.allSatisfy { $0["found"] == true && $0["status"] == "paid" })
            #expect(try await funnel.rows("SELECT status FROM funnel_payments").map { $0["status"] } == ["paid"])
        }
    }
}
