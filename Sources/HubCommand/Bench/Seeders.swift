import Flows
import Foundation
import Hub

/// Rows for a bench's database: migrates it, then calls `insert` for each of `0..<count` in
/// transactions of 10,000, with the seeding's time in epoch milliseconds.
enum BenchSeeding {
    static func rows(_ url: String, count: Int, _ insert: @escaping @Sendable (any SQLConnection, Int, Int64) throws -> Void) async throws {
        let store = try Store.open(url, poolSize: 1)
        do {
            try await store.migrate()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for batchStart in stride(from: 0, to: count, by: 10_000) {
                let range = batchStart..<min(count, batchStart + 10_000)
                try await store.database.transaction { db in
                    for i in range { try insert(db, i, now) }
                }
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}

/// Members as the funnel writes them (registered, with a pending payment of 3000.00).
enum MemberSeeder {
    /// `count` members; with `telegramBase`, member i has Telegram id `telegramBase + i` and
    /// order `orderPrefix + i`.
    static func seed(_ url: String, count: Int, telegramBase: Int64? = nil, orderPrefix: String = "order-", paidEvery: Int = 0) async throws {
        let cities = ["Москва", "Казань", "Пермь", "Самара", "Тверь"]
        let names = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Иван", "Ксения", "Лев"]
        let surnames = ["Иванова", "Петров", "Сидорова", "Кузнецов", "Смирнова", "Попов", "Орлова", "Волков"]
        try await BenchSeeding.rows(url, count: count) { db, i, now in
            let id = "m-\(orderPrefix)\(i)"
            let created = now - Int64(count - i) * 60_000
            let paid = paidEvery > 0 && i % paidEvery == 0
            try db.execute("""
                INSERT INTO funnel_members (id, full_name, phone, city, email, telegram_id, telegram_username, status, token, created_at, updated_at, paid_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)
                """, [.string(id), .string("\(names[i % names.count]) \(surnames[(i / 10) % surnames.count]) \(i)"),
                      .string("+7999\(String(format: "%07d", i))"), .string(cities[i % cities.count]),
                      .string("client\(i)@example.ru"), telegramBase.map { .number(Double($0 + Int64(i))) } ?? .null,
                      .string("user\(i)"), .string(paid ? "paid" : "registered"), .string("\(orderPrefix)token-\(i)"),
                      .number(Double(created)), paid ? .number(Double(created + 30_000)) : .null])
            try db.execute("""
                INSERT INTO funnel_payments (id, member_id, order_id, amount, currency, status, created_at, paid_at)
                VALUES ($1, $2, $3, '3000.00', 'rub', $4, $5, $6)
                """, [.string("p-\(orderPrefix)\(i)"), .string(id), .string("\(orderPrefix)\(i)"), .string(paid ? "paid" : "pending"),
                      .number(Double(created)), paid ? .number(Double(created + 30_000)) : .null])
        }
    }
}

/// Finished runs as the worker leaves them, one a second back from now, over `flows` in turn;
/// every 50th failed. They share one event.
enum RunSeeder {
    static func seed(_ url: String, count: Int, flows: [String]) async throws {
        try await BenchSeeding.rows(url, count: count) { db, i, now in
            if i == 0 {
                try db.execute("INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES ('bench-event', 'bench', 'runs', '{}', $1)",
                               [.number(Double(now))])
            }
            let created = Double(now - Int64(count - i) * 1000)
            let failed = i % 50 == 0
            try db.execute("""
                INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at, finished_at, failed_step, error)
                VALUES ($1, $2, 'v1', 'bench-event', $3, $4, $4, $5, $5, $6, $7)
                """, [.string(String(format: "bench-run-%08d", i)), .string(flows[i % flows.count]), .string(failed ? "failed" : "completed"),
                      .number(created), .number(created + 40), failed ? .string("second") : .null, failed ? .string("boom [http-503]") : .null])
        }
    }
}
