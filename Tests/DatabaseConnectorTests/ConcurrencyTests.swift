import Foundation
import DatabaseConnector
import Flows
import Testing

@Suite("db: the same call at the same time")
struct ConcurrencyTests {
    @Test("ten simultaneous registrations of one new client make one member, each with an order and token of its own", arguments: TestFunnel.available)
    func simultaneousRegistrations(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let results = try await withThrowingTaskGroup(of: Value.self) { group in
                for index in 0..<10 {
                    group.addTask { try await funnel.register(name: "Клиент \(index)", amount: "3000") }
                }
                return try await group.reduce(into: [Value]()) { $0.append($1) }
            }
            #expect(Set(results.compactMap { $0["id"] }).count == 1)
            #expect(Set(results.compactMap { $0["token"] }).count == 10)
            #expect(Set(results.compactMap { $0["order_id"] }).count == 10)
            #expect(results.filter { $0["created"] == true }.count == 1)
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_members").first?["n"] == 1)
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_payments").first?["n"] == 10)
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

    @Test("ten Telegram users opening one deep link at once: one is bound, the others are told it is taken", arguments: TestFunnel.available)
    func simultaneousBinds(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let order = try await funnel.register()
            let token = try #require(order["token"])
            try await funnel.call("mark_paid", ["order": order["order_id"]!, "amount": "3000.00"])
            // Each as the bot's flow runs it: a step that failed with a retryable error is run again.
            let results = try await withThrowingTaskGroup(of: (Int64, Value).self) { group in
                if kind == .postgres {
                    // Holds the member's row for a moment, so the binds read it unbound together and
                    // meet at their updates (without this the race is there, but rarely hit).
                    group.addTask {
                        try await funnel.database.transaction { db in
                            _ = try db.query("SELECT id FROM funnel_members FOR UPDATE", [])
                            usleep(400_000)
                        }
                        return (0, .null)
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                for user in Int64(1)...10 {
                    group.addTask {
                        for _ in 0..<5 {
                            do {
                                return (user, try await funnel.call("bind_telegram", ["token": token, "telegram_id": .number(Double(user))]))
                            } catch let error as ConnectorError where error.code == "bound-meanwhile" {
                                continue
                            }
                        }
                        Issue.record("user \(user) was never answered")
                        return (user, .null)
                    }
                }
                return try await group.reduce(into: [(Int64, Value)]()) { if $1.0 != 0 { $0.append($1) } }
            }
            let winners = results.filter { $0.1["conflict"] == false }
            #expect(winners.count == 1)
            #expect(results.filter { $0.1["conflict"] == true }.count == 9)
            let bound = try await funnel.rows("SELECT telegram_id FROM funnel_members").first?["telegram_id"]
            #expect(bound == .number(Double(try #require(winners.first).0)))
        }
    }
}
