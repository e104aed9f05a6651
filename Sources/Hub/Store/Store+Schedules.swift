import Flows

extension Store {
    /// Claims one schedule slot for a flow and stores its run, atomically: of several hubs on
    /// one database exactly one wins the slot (the primary key decides). Returns the run id, or
    /// `nil` when the slot was already taken. Without `startsRun` (the flow's `if:` turned the slot
    /// down) the slot is only marked as taken, and the result is `nil` too.
    public func claimSlot(flow: Flow, slot: Int64, payload: Value, startsRun: Bool = true) async throws -> String? {
        let now = Store.now()
        let eventID = RecordID.make(), runID = RecordID.make()
        return try await database.transaction { db in
            let won = try db.query(
                "INSERT INTO hub_schedule_slots (flow, slot, run_id, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (flow, slot) DO NOTHING RETURNING slot",
                [.string(flow.name), .millis(slot), startsRun ? .string(runID) : .null, .millis(now)])
            guard !won.isEmpty, startsRun else { return nil }
            try db.execute("INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES ($1, $2, $3, $4, $5)",
                           [.string(eventID), .string("cron:\(flow.name)"), .string(String(slot)), .string(payload.json), .millis(now)])
            try db.execute(
                "INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5, $5)",
                [.string(runID), .string(flow.name), .string(flow.version), .string(eventID), .millis(now)])
            return runID
        }
    }

    /// The newest slot claimed for a flow, in epoch milliseconds.
    public func lastSlot(flow: String) async throws -> Int64? {
        let rows = try await database.query("SELECT MAX(slot) AS slot FROM hub_schedule_slots WHERE flow = $1", [.string(flow)])
        return rows.first?["slot"]?.intValue.map(Int64.init)
    }

    /// Takes or renews a named lease (e.g. the one Telegram poller per bot token). Returns
    /// whether `owner` holds it now. A lease that runs out passes to the next hub that asks.
    public func acquireLease(_ name: String, owner: String, for duration: Duration) async throws -> Bool {
        let now = Store.now()
        let until = now + duration.milliseconds
        let rows = try await database.query("""
            INSERT INTO hub_leader (name, owner, lease_until) VALUES ($1, $2, $3)
            ON CONFLICT (name) DO UPDATE SET owner = $2, lease_until = $3
            WHERE hub_leader.owner = $2 OR hub_leader.lease_until < $4
            RETURNING owner
            """, [.string(name), .string(owner), .millis(until), .millis(now)])
        return rows.first?["owner"]?.stringValue == owner
    }

    public func releaseLease(_ name: String, owner: String) async throws {
        try await database.execute("DELETE FROM hub_leader WHERE name = $1 AND owner = $2", [.string(name), .string(owner)])
    }
}
