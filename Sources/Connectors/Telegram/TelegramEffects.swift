import Flows
import Foundation

/// What the connector remembers so a resumed run never repeats an effect: the result of each
/// side-effecting call by idempotency key, and the invite links the bot created (by name),
/// so an active link is handed out again instead of a second one.
///
/// Without a database (a bare test setup) nothing is remembered and every call acts.
struct TelegramEffects: Sendable {
    let database: (any SQLDatabase)?

    static let migrations: [SchemaMigration] = [
        SchemaMigration(version: 1, name: "telegram effects and invite links") { _ in
            [
                """
                CREATE TABLE telegram_effects (
                    key TEXT PRIMARY KEY,
                    action TEXT NOT NULL,
                    result TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE telegram_invite_links (
                    invite_link TEXT PRIMARY KEY,
                    chat_id BIGINT NOT NULL,
                    name TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    revoked INTEGER NOT NULL DEFAULT 0,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX telegram_invite_links_name ON telegram_invite_links (chat_id, name)",
            ]
        },
        SchemaMigration(version: 2, name: "telegram effects by run") { dialect in
            SchemaMigration.runKeyIndex("telegram_effects", dialect: dialect)
        },
        // Telegram says once, to whichever hub receives then, that a group became a supergroup.
        SchemaMigration(version: 3, name: "telegram chat moves") { _ in
            ["CREATE TABLE telegram_chat_moves (old_id BIGINT PRIMARY KEY, new_id BIGINT NOT NULL, moved_at BIGINT NOT NULL)"]
        },
    ]

    /// Keeps a group's move to a supergroup for every hub and every restart.
    func rememberMove(from old: Int64, to new: Int64) async throws {
        guard let database else { return }
        try await database.write("""
            INSERT INTO telegram_chat_moves (old_id, new_id, moved_at) VALUES ($1, $2, $3)
            ON CONFLICT (old_id) DO UPDATE SET new_id = $2, moved_at = $3
            """, [.id(old), .id(new), .id(Self.now())])
    }

    /// The moves remembered so far: old chat id → new one.
    func chatMoves() async throws -> [Int64: Int64] {
        guard let database else { return [:] }
        var moves: [Int64: Int64] = [:]
        for row in try await database.query("SELECT old_id, new_id FROM telegram_chat_moves") {
            if let old = row["old_id"]?.telegramID, let new = row["new_id"]?.telegramID { moves[old] = new }
        }
        return moves
    }

    /// The recorded result of an earlier call with this key (possibly partial), if any.
    func recall(_ key: String) async throws -> [String: Value]? {
        guard let database else { return nil }
        let rows = try await database.query("SELECT result FROM telegram_effects WHERE key = $1", [.string(key)])
        guard let text = rows.first?["result"]?.stringValue else { return nil }
        return try Value(json: text).objectValue
    }

    /// Records (or completes) the result of a call.
    ///
    /// Called right after Telegram accepted a message: if this write failed, a retry of the step
    /// would send the message again (Telegram has no idempotency key). So a database that is
    /// briefly unavailable or busy is waited for (about 30 s in all) before the step gives up.
    func remember(_ key: String, action: String, _ result: [String: Value]) async throws {
        guard let database else { return }
        var pause = Duration.milliseconds(100)
        for attempt in 1...12 {
            do {
                try await database.write("""
                    INSERT INTO telegram_effects (key, action, result, created_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (key) DO UPDATE SET result = $3
                    """, [.string(key), .string(action), .string(Value.object(result).json), .number(Double(Self.now()))])
                return
            } catch let error as SQLError where (error.kind == .unavailable || error.kind == .busy) && attempt < 12 {
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    /// Runs a single-step effect once per key: a repeat returns the recorded result.
    func once(_ key: String, action: String, _ body: () async throws -> [String: Value]) async throws -> Value {
        if let done = try await recall(key) { return .object(done) }
        let result = try await body()
        try await remember(key, action: action, result)
        return .object(result)
    }

    /// A link of ours with this name that is not revoked and stays valid for at least `margin` seconds.
    func activeInvite(chat: Int64, name: String, margin: Int64) async throws -> (link: String, expiresAt: Int64)? {
        guard let database else { return nil }
        let rows = try await database.query("""
            SELECT invite_link, expires_at FROM telegram_invite_links
            WHERE chat_id = $1 AND name = $2 AND revoked = 0 AND expires_at > $3
            ORDER BY expires_at DESC LIMIT 1
            """, [.id(chat), .string(name), .number(Double(Self.now() + margin))])
        guard let row = rows.first, let link = row["invite_link"]?.stringValue, let expires = row["expires_at"]?.telegramID else { return nil }
        return (link, expires)
    }

    func recordInvite(_ link: String, chat: Int64, name: String, expiresAt: Int64) async throws {
        guard let database else { return }
        try await database.write("""
            INSERT INTO telegram_invite_links (invite_link, chat_id, name, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, 0, $5)
            ON CONFLICT (invite_link) DO NOTHING
            """, [.string(link), .id(chat), .string(name), .id(expiresAt), .id(Self.now())])
    }

    func markRevoked(_ link: String) async throws {
        guard let database else { return }
        try await database.write("UPDATE telegram_invite_links SET revoked = 1 WHERE invite_link = $1", [.string(link)])
    }

    /// Forgets the results recorded for runs the hub deleted (see `Connector.forgetRuns`); the
    /// invite links stay, since join requests are checked against them.
    static func forgetRuns(_ runIDs: [String], in db: any SQLConnection, dialect: SQLDialect) throws -> Int {
        try db.deleteKeys(ofRuns: runIDs, from: "telegram_effects", dialect: dialect)
    }

    /// Unix seconds, as Telegram counts time.
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
