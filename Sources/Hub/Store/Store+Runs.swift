import Flows

/// A run as a worker claimed it.
public struct ClaimedRun: Sendable {
    public var id: String
    public var flow: String
    public var flowVersion: String
    public var eventID: String
}

/// Run states as stored.
public enum RunStatus: String, Sendable, CaseIterable {
    case queued, running, completed
    /// Failed for good: a dead letter, visible and re-playable.
    case failed
}

extension Store {
    /// Claims up to `limit` runs whose worker's lease ran out (it died), then runs that are due,
    /// oldest first. PostgreSQL skips rows other hubs are claiming at the same moment
    /// (`FOR UPDATE SKIP LOCKED`).
    ///
    /// Two statements, each walking one part of the `(status, not_before)` index in order, so a
    /// claim costs the same with a long queue as with a short one (one statement with `OR` made
    /// SQLite collect and sort every queued run on each claim).
    public func claim(owner: String, limit: Int, lease: Duration) async throws -> [ClaimedRun] {
        let now = Store.now()
        let until = now + lease.milliseconds
        let lock = database.dialect == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        let expired = """
            UPDATE hub_runs SET status = 'running', lease_owner = $1, lease_until = $2, updated_at = $3
            WHERE id IN (SELECT c.id FROM hub_runs c WHERE c.status = 'running' AND c.lease_until < $3 LIMIT $4 \(lock))
            RETURNING id, flow, flow_version, event_id
            """
        let due = """
            UPDATE hub_runs SET status = 'running', lease_owner = $1, lease_until = $2, updated_at = $3
            WHERE id IN (
                SELECT c.id FROM hub_runs c
                WHERE c.status = 'queued' AND c.not_before <= $3
                  AND (c.order_key IS NULL OR NOT EXISTS (
                      SELECT 1 FROM hub_runs e WHERE e.order_key = c.order_key AND e.order_position < c.order_position
                      AND e.status IN ('queued', 'running')))
                ORDER BY c.not_before LIMIT $4 \(lock)
            )
            RETURNING id, flow, flow_version, event_id
            """
        let rows = try await database.withConnection { db in
            let resumed = try db.query(expired, [.string(owner), .millis(until), .millis(now), .number(Double(limit))])
            guard resumed.count < limit else { return resumed }
            return try resumed + db.query(due, [.string(owner), .millis(until), .millis(now), .number(Double(limit - resumed.count))])
        }
        return rows.map {
            ClaimedRun(id: $0["id"]?.text ?? "", flow: $0["flow"]?.text ?? "", flowVersion: $0["flow_version"]?.text ?? "",
                       eventID: $0["event_id"]?.text ?? "")
        }
    }

    /// The event and the recorded step outcomes of a run, to resume it.
    public func state(of run: ClaimedRun) async throws -> RunState {
        let (events, steps) = try await database.withConnection { db in
            (try db.query("SELECT payload FROM hub_events WHERE id = $1", [.string(run.eventID)]),
             try db.query("SELECT step_id, status, attempts, result FROM hub_run_steps WHERE run_id = $1", [.string(run.id)]))
        }
        let event = try events.first.flatMap { $0["payload"]?.stringValue }.map { try Value(json: $0) } ?? .null
        var state = RunState(runID: run.id, event: event)
        for step in steps {
            let id = step["step_id"]?.text ?? ""
            state.attempts[id] = step["attempts"]?.intValue ?? 0
            switch step["status"]?.text {
            case "completed": state.results[id] = try step["result"]?.stringValue.map { try Value(json: $0) } ?? .null
            case "skipped": state.results[id] = .null
            default: break
            }
        }
        return state
    }

    /// Records a finished (or skipped) step; only the lease holder may write.
    func recordStep(runID: String, owner: String, lease: Duration, stepID: String, index: Int, result: Value, skipped: Bool) async throws {
        try await recordStepOutcome(runID: runID, owner: owner, lease: lease, stepID: stepID, index: index,
                                    status: skipped ? "skipped" : "completed", attemptsDelta: 0, result: result.json, error: nil)
    }

    func recordStepFailure(runID: String, owner: String, lease: Duration, stepID: String, index: Int, error: String) async throws {
        try await recordStepOutcome(runID: runID, owner: owner, lease: lease, stepID: stepID, index: index,
                                    status: "failed", attemptsDelta: 1, result: nil, error: error)
    }

    /// Renews the lease and upserts the step in one go: a transaction on SQLite (group-committed),
    /// one statement on Postgres (one round trip instead of four).
    private func recordStepOutcome(runID: String, owner: String, lease: Duration, stepID: String, index: Int, status: String,
                                   attemptsDelta: Int, result: String?, error: String?) async throws
    {
        let now = Store.now()
        let until = now + lease.milliseconds
        let step: [Value] = [.string(runID), .string(stepID), .number(Double(index)), .string(status), .number(Double(attemptsDelta)),
                             result.map(Value.string) ?? .null, error.map(Value.string) ?? .null, .millis(now)]
        guard database.dialect == .postgres else {
            try await database.transaction { db in
                try Store.renewLease(db, runID: runID, owner: owner, until: until, now: now)
                try db.execute("INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, error, updated_at) "
                               + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) " + Store.stepConflict, step)
            }
            return
        }
        let written = try await database.query("""
            WITH lease AS (
                UPDATE hub_runs SET lease_until = $9, updated_at = $8 WHERE id = $1 AND lease_owner = $10 AND status = 'running' RETURNING id
            )
            INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, error, updated_at)
            SELECT $1, $2, $3::integer, $4, $5::integer, $6, $7, $8::bigint FROM lease
            \(Store.stepConflict) RETURNING run_id
            """, step + [.millis(until), .string(owner)])
        guard !written.isEmpty else { throw Store.leaseLost(runID) }
    }

    /// What a step's second record (a retry, a later outcome) changes.
    private static let stepConflict = """
        ON CONFLICT (run_id, step_id) DO UPDATE SET status = $4, attempts = hub_run_steps.attempts + $5,
            result = COALESCE($6, hub_run_steps.result), error = COALESCE($7, hub_run_steps.error), updated_at = $8
        """

    private static func leaseLost(_ runID: String) -> HubError {
        HubError(code: "lease-lost", "run \(runID) is no longer held by this worker")
    }

    /// Extends the worker's lease with each step; a worker whose lease was taken over
    /// (it stalled and another claimed the run) must stop writing.
    private static func renewLease(_ db: any SQLConnection, runID: String, owner: String, until: Int64, now: Int64) throws {
        let changed = try db.execute("UPDATE hub_runs SET lease_until = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                                     [.string(runID), .string(owner), .millis(until), .millis(now)])
        guard changed == 1 else { throw leaseLost(runID) }
    }

    /// Finishes a claimed run: completed, failed (dead letter), or back in the queue after `retryAt`.
    func finish(runID: String, owner: String, status: RunStatus, notBefore: Int64? = nil, failedStep: String? = nil, error: String? = nil) async throws {
        let now = Store.now()
        try await write("""
                UPDATE hub_runs SET status = $3, not_before = COALESCE($4, not_before), failed_step = $5, error = $6,
                    lease_owner = NULL, lease_until = NULL, updated_at = $7, finished_at = $8
                WHERE id = $1 AND lease_owner = $2
                """,
                [.string(runID), .string(owner), .string(status.rawValue), notBefore.map(Value.millis) ?? .null,
                 failedStep.map(Value.string) ?? .null, error.map(Value.string) ?? .null, .millis(now),
                 status == .completed || status == .failed ? .millis(now) : .null])
    }

    /// Gives claimed runs back to the queue (graceful shutdown): another worker may take them at once.
    func release(owner: String) async throws {
        try await database.execute(
            "UPDATE hub_runs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = $2 WHERE lease_owner = $1 AND status = 'running'",
            [.string(owner), .millis(Store.now())])
    }

    /// Runs held by workers that no longer exist on this host (a hub killed with SIGKILL): they go
    /// back to the queue at once instead of waiting for their leases to run out.
    /// Owners are `host:pid:random`; other hosts' leases are left to expire.
    func releaseOrphans(host: String, isAlive: (Int32) -> Bool) async throws -> Int {
        let owners = try await database.query("SELECT DISTINCT lease_owner FROM hub_runs WHERE status = 'running' AND lease_owner IS NOT NULL")
        var released = 0
        for owner in owners.compactMap({ $0["lease_owner"]?.stringValue }) {
            let parts = owner.split(separator: ":")
            guard parts.count == 3, parts[0] == host, let pid = Int32(parts[1]), !isAlive(pid) else { continue }
            released += try await database.execute(
                "UPDATE hub_runs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = $2 WHERE lease_owner = $1 AND status = 'running'",
                [.string(owner), .millis(Store.now())])
        }
        return released
    }

    /// Re-plays a dead-lettered run from its failed step: its attempts start again.
    public func retry(runID: String) async throws -> Bool {
        let now = Store.now()
        return try await database.transaction { db in
            let changed = try db.execute(
                "UPDATE hub_runs SET status = 'queued', not_before = $2, error = NULL, failed_step = NULL, finished_at = NULL, updated_at = $2 WHERE id = $1 AND status = 'failed'",
                [.string(runID), .millis(now)])
            guard changed == 1 else { return false }
            try db.execute("UPDATE hub_run_steps SET attempts = 0, status = 'retrying' WHERE run_id = $1 AND status = 'failed'", [.string(runID)])
            return true
        }
    }
}
