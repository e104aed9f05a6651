import Flows

/// What one pass of `pruneRuns` removed.
public struct PruneResult: Sendable, Equatable {
    /// Finished runs deleted, with their step records.
    public var runs: Int
    /// Events whose payload was dropped (their ids and dedup keys stay).
    public var events: Int
    /// Connectors' records kept for the deleted runs' sake (`Connector.forgetRuns`).
    public var records: Int = 0
    /// Claimed schedule slots deleted (each flow keeps its newest).
    public var slots: Int = 0
}

extension Store {
    /// Deletes the finished runs older than `keep` (see `pruneRuns(before:)`).
    public func pruneRuns(olderThan keep: Duration, connectors: [any Connector.Type] = BuiltinConnectors.all) async throws -> PruneResult {
        try await pruneRuns(before: Store.now() - keep.milliseconds, connectors: connectors)
    }

    /// Deletes finished runs (completed or failed) created and finished before `cutoff` (epoch
    /// milliseconds), with their step records, `chunk` runs to a transaction, oldest first.
    ///
    /// Their events stay, so a late redelivery is still recognised as a duplicate and nothing
    /// is sent twice, but lose their payload (`null`), unless a run still refers to one (a run
    /// not yet finished, or not yet old enough). Runs are stored with their event, so an event's
    /// runs share its `received_at` as their `created_at`: that finds them through the runs'
    /// time index (there is no index by event; see `Migrations.runsByTime`).
    /// Each connector forgets, in the same transaction, what it kept for those runs' sake.
    func pruneRuns(before cutoff: Int64, chunk: Int = 200, connectors: [any Connector.Type] = BuiltinConnectors.all) async throws -> PruneResult {
        let dialect = database.dialect
        let postgres = dialect == .postgres
        let list = Store.idListQuery(1, postgres: postgres)
        let deleteSteps = "DELETE FROM hub_run_steps WHERE run_id IN (\(list))"
        let deleteRuns = "DELETE FROM hub_runs WHERE id IN (\(list))"
        let dropPayloads = """
            UPDATE hub_events SET payload = 'null'
            WHERE id IN (\(list)) AND payload <> 'null'
              AND NOT EXISTS (SELECT 1 FROM hub_runs r WHERE r.created_at = hub_events.received_at AND r.event_id = hub_events.id)
            """
        // Postgres: the chosen runs stay locked until the chunk commits, so a `hub runs retry` of
        // one waits and then finds it gone instead of being deleted after it queued the run again;
        // another hub pruning at the same moment takes other runs.
        let lock = postgres ? "FOR UPDATE SKIP LOCKED" : ""
        var total = PruneResult(runs: 0, events: 0)
        while true {
            let done = try await database.transaction { db in
                // Oldest first through the runs' time index (`NOT IN` keeps the planner off the
                // status index, which would collect and sort every finished run for each chunk).
                let rows = try db.query("""
                    SELECT id, event_id FROM hub_runs
                    WHERE created_at < $1 AND status NOT IN ('queued', 'running') AND finished_at < $1
                    ORDER BY created_at, id LIMIT $2 \(lock)
                    """, [.millis(cutoff), .number(Double(chunk))])
                let runs = rows.compactMap { $0["id"]?.stringValue }
                guard !runs.isEmpty else { return (found: 0, removed: PruneResult(runs: 0, events: 0)) }
                let events = Array(Set(rows.compactMap { $0["event_id"]?.stringValue }))
                let runList = Store.idList(runs, postgres: postgres)
                _ = try db.execute(deleteSteps, [runList])
                let deleted = try db.execute(deleteRuns, [runList])
                let dropped = try db.execute(dropPayloads, [Store.idList(events, postgres: postgres)])
                let forgotten = try connectors.reduce(0) { $0 + (try $1.forgetRuns(runs, in: db, dialect: dialect)) }
                return (found: rows.count, removed: PruneResult(runs: deleted, events: dropped, records: forgotten))
            }
            total.runs += done.removed.runs
            total.events += done.removed.events
            total.records += done.removed.records
            // A short chunk was the last; between chunks other writers get the database.
            if done.found < chunk {
                total.slots = try await pruneScheduleSlots(before: cutoff)
                return total
            }
            // A shutdown stops a long first prune between chunks; the rest waits for the next round.
            if Task.isCancelled { return total }
            await Task.yield()
        }
    }

    /// Deletes the schedule slots before `cutoff` but each flow's newest: a slot is claimed once so
    /// that two hubs do not both run it, and the scheduler looks back no further than the newest
    /// (`lastSlot`), so the older ones only grow the table (a minutely flow adds 525,600 a year).
    func pruneScheduleSlots(before cutoff: Int64) async throws -> Int {
        try await database.execute("""
            DELETE FROM hub_schedule_slots
            WHERE slot < $1 AND slot < (SELECT MAX(newest.slot) FROM hub_schedule_slots newest WHERE newest.flow = hub_schedule_slots.flow)
            """, [.millis(cutoff)])
    }
}
