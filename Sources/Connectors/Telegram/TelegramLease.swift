import Flows
import Foundation

/// The named lease that makes one hub process the update receiver of a bot token, on the
/// hub's `hub_leader` table (the same statement as the hub's `Store.acquireLease`, which
/// connectors cannot see).
struct TelegramLease: Sendable {
    let database: any SQLDatabase
    /// `telegram:<bot id>`: the bot id is public, the token is not.
    let name: String
    let owner: String

    /// Takes or renews the lease; `true` when `owner` holds it now.
    func acquire(for duration: Duration) async throws -> Bool {
        let now = Self.nowMillis()
        let until = now + duration.milliseconds
        let rows = try await database.query("""
            INSERT INTO hub_leader (name, owner, lease_until) VALUES ($1, $2, $3)
            ON CONFLICT (name) DO UPDATE SET owner = $2, lease_until = $3
            WHERE hub_leader.owner = $2 OR hub_leader.lease_until < $4
            RETURNING owner
            """, [.string(name), .string(owner), .number(Double(until)), .number(Double(now))])
        return rows.first?["owner"]?.stringValue == owner
    }

    /// Gives the lease up, so a standby process takes over without waiting for it to run out.
    func release() async throws {
        try await database.execute("DELETE FROM hub_leader WHERE name = $1 AND owner = $2", [.string(name), .string(owner)])
    }

    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
