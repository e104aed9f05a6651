import Flows

/// What the runtime kept about a member beyond the funnel's tables: the events their form,
/// payments and messages came in with (payloads hold the phone, e-mail, name and texts) and
/// the results of the steps those events ran (which repeat them). Erasing a member's personal
/// data drops those too, or the run pages would go on showing it.
enum RunHistoryErasure {
    /// The events mentioning one of `needles` (exact text, any case: a phone, an e-mail, an order
    /// number, a JSON fragment). A scan of every payload: done before the erasing transaction,
    /// which on SQLite holds the one write lock that intake needs too.
    static func events(mentioning needles: [String], in database: any SQLDatabase) async throws -> [String] {
        // Short texts would match strangers' events too.
        let needles = Array(Set(needles.filter { $0.count >= 5 }))
        guard !needles.isEmpty else { return [] }
        // Folded: an e-mail typed in capitals is the same e-mail (PostgreSQL's LIKE minds case).
        let matches = needles.indices.map { "LOWER(payload) LIKE $\($0 + 1) ESCAPE '\\'" }.joined(separator: " OR ")
        return try await database.query("SELECT id FROM hub_events WHERE \(matches)", needles.map { .string(MemberQuery.likePattern($0)) })
            .compactMap { $0["id"]?.stringValue }
    }

    /// Drops the events' payloads and their runs' step results. A run still under way loses them
    /// too (a queued one then fails for want of its event): the person asked to be forgotten, and
    /// once their contacts are gone nothing would find these events again.
    static func erase(events: [String], postgres: Bool, _ db: any SQLConnection) throws {
        guard !events.isEmpty else { return }
        let list = Store.idList(events, postgres: postgres)
        let ids = Store.idListQuery(1, postgres: postgres)
        try db.execute("UPDATE hub_run_steps SET result = NULL WHERE run_id IN (SELECT id FROM hub_runs WHERE event_id IN (\(ids)))", [list])
        try db.execute("UPDATE hub_events SET payload = 'null' WHERE id IN (\(ids))", [list])
    }

    /// How a Telegram user appears in an update: `"id":5150` as a whole number, not inside 51500.
    static func telegramUser(_ id: Int) -> [String] {
        ["\"id\":\(id),", "\"id\":\(id)}"]
    }
}
