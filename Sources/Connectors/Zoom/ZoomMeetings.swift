import Flows
import Foundation

/// The meetings `create_meeting` made, by idempotency key (and by schedule slot), so a retried
/// step, a resumed run or a replay returns the meeting it made before instead of creating
/// another: Zoom allows only 100 creates a day per host.
///
/// Stored: the result flows see (id, join_url, passcode, start_time). Never the `start_url`,
/// which is a host login, and never a token. Without a database nothing is remembered.
struct ZoomMeetings: Sendable {
    let database: (any SQLDatabase)?

    static let migrations: [SchemaMigration] = [
        SchemaMigration(version: 1, name: "zoom meetings by idempotency key") { _ in
            [
                """
                CREATE TABLE zoom_meetings (
                    key TEXT PRIMARY KEY,
                    meeting_id BIGINT NOT NULL,
                    result TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
            ]
        },
        SchemaMigration(version: 2, name: "zoom meeting create attempts") { _ in
            ["CREATE TABLE zoom_meeting_attempts (key TEXT PRIMARY KEY, started_at BIGINT NOT NULL)"]
        },
        SchemaMigration(version: 3, name: "zoom records by run") { dialect in
            SchemaMigration.runKeyIndex("zoom_meetings", dialect: dialect) + SchemaMigration.runKeyIndex("zoom_meeting_attempts", dialect: dialect)
        },
    ]

    /// Forgets the meetings and attempts recorded under the keys of runs the hub deletes (see
    /// `Connector.forgetRuns`). Slot keys (`slot:…`) stay, so a slot's meeting is still found by
    /// a later run for the same slot.
    static func forgetRuns(_ runIDs: [String], in db: any SQLConnection, dialect: SQLDialect) throws -> Int {
        try db.deleteKeys(ofRuns: runIDs, from: "zoom_meetings", dialect: dialect)
            + db.deleteKeys(ofRuns: runIDs, from: "zoom_meeting_attempts", dialect: dialect)
    }

    /// Notes that a create for `key` is about to be sent; true when one was sent before (its
    /// answer may have been lost after Zoom created the meeting).
    func attemptedBefore(_ key: String) async throws -> Bool {
        guard let database else { return false }
        let now = Int64(Date().timeIntervalSince1970)
        let inserted = try await database.execute(
            "INSERT INTO zoom_meeting_attempts (key, started_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [.string(key), .number(Double(now))])
        return inserted == 0
    }

    /// The meeting recorded under the first of `keys` that has one.
    func recall(_ keys: [String]) async throws -> Value? {
        guard let database else { return nil }
        for key in keys {
            let rows = try await database.query("SELECT result FROM zoom_meetings WHERE key = $1", [.string(key)])
            if let text = rows.first?["result"]?.stringValue { return try Value(json: text) }
        }
        return nil
    }

    /// Records `result` under `keys` and returns the meeting they now stand for. The last key is
    /// the widest (a slot's, shared by every run for that session): when it already holds a
    /// meeting, because another run's create raced this one, that meeting wins and is recorded
    /// under this run's key too, so both runs, and any retry of either, post the same link.
    func remember(_ keys: [String], meetingID: Int64, _ result: Value) async throws -> Value {
        guard let database, let shared = keys.last else { return result }
        let now = Int64(Date().timeIntervalSince1970)
        return try await database.transaction { connection in
            let insert = "INSERT INTO zoom_meetings (key, meeting_id, result, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING"
            try connection.execute(insert, [.string(shared), .number(Double(meetingID)), .string(result.json), .number(Double(now))])
            let winner = try connection.query("SELECT meeting_id, result FROM zoom_meetings WHERE key = $1", [.string(shared)]).first
            let text = winner?["result"]?.stringValue ?? result.json
            let id = winner?["meeting_id"] ?? .number(Double(meetingID))
            for key in keys.dropLast() {
                try connection.execute(insert, [.string(key), id, .string(text), .number(Double(now))])
            }
            return try Value(json: text)
        }
    }
}
