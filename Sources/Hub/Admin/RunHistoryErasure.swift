import Flows

/// What the runtime kept about a member beyond the funnel's tables: the events their form,
/// payments and messages came in with (payloads hold the phone, e-mail, name and texts) and
/// the results of the steps those events ran (which repeat them). Erasing a member's personal
/// data drops those too, or the run pages would go on showing it.
enum RunHistoryErasure {
    /// Drops the payload of every event mentioning one of `needles` (exact text: a phone, an
    /// e-mail, an order number, a JSON fragment) whose runs have all finished, and the step
    /// results of its runs; returns how many events. A run still under way keeps its event: it
    /// needs it, and a later erasure finds it once the run is done.
    static func erase(mentioning needles: [String], postgres: Bool, _ db: any SQLConnection) throws -> Int {
        // Short texts would match strangers' events too.
        let needles = Array(Set(needles.filter { $0.count >= 5 }))
        guard !needles.isEmpty else { return 0 }
        // Folded: an e-mail typed in capitals is the same e-mail (PostgreSQL's LIKE minds case).
        let matches = needles.indices.map { "LOWER(e.payload) LIKE $\($0 + 1) ESCAPE '\\'" }.joined(separator: " OR ")
        let events = try db.query("""
            SELECT e.id FROM hub_events e
            WHERE (\(matches)) AND NOT EXISTS (SELECT 1 FROM hub_runs r WHERE r.event_id = e.id AND r.status IN ('queued', 'running'))
            """, needles.map { .string(MemberQuery.likePattern($0)) }).compactMap { $0["id"]?.stringValue }
        guard !events.isEmpty else { return 0 }
        let list = Store.idList(events, postgres: postgres)
        let ids = Store.idListQuery(1, postgres: postgres)
        try db.execute("UPDATE hub_run_steps SET result = NULL WHERE run_id IN (SELECT id FROM hub_runs WHERE event_id IN (\(ids)))", [list])
        try db.execute("UPDATE hub_events SET payload = 'null' WHERE id IN (\(ids))", [list])
        return events.count
    }

    /// How a Telegram user appears in an update: `"id":5150` as a whole number, not inside 51500.
    static func telegramUser(_ id: Int) -> [String] {
        ["\"id\":\(id),", "\"id\":\(id)}"]
    }
}
