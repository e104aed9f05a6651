import Flows

/// A run as a worker claimed it.
public struct ClaimedRun: Sendable {
    public var id: String
    public var flow: String
    public var flowVersion: String
    public var eventID: String
    /// Times an admin re-played it after it failed (`hub runs retry`).
    public var retries = 0
}

/// Run states as stored.
public enum RunStatus: String, Sendable, CaseIterable {
    case queued, running, completed
    /// Failed for good: a dead letter, visible and re-playable.
    case failed
}

extension Store {
    /// What was stored may sit a little deeper than the 256 levels taken from outside: an http
    /// trigger's body is stored under `body`, an API's answer under the step's result.
    static let storedDepth = 300

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
            RETURNING id, flow, flow_version, event_id, retries
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
            RETURNING id, flow, flow_version, event_id, retries
            """
        let rows = try await database.withConnection { db in
            let resumed = try db.query(expired, [.string(owner), .millis(until), .millis(now), .number(Double(limit))])
            guard resumed.count < limit else { return resumed }
            return try resumed + db.query(due, [.string(owner), .millis(until), .millis(now), .number(Double(limit - resumed.count))])
        }
        return rows.map {
            ClaimedRun(id: $0["id"]?.text ?? "", flow: $0["flow"]?.text ?? "", flowVersion: $0["flow_version"]?.text ?? "",
                       eventID: $0["event_id"]?.text ?? "", retries: $0["retries"]?.intValue ?? 0)
        }
    }

    /// The event and the recorded step outcomes of a run, to resume it.
    public func state(of run: ClaimedRun) async throws -> RunState {
        let (events, steps) = try await database.withConnection { db in
            (try db.query("SELECT payload FROM hub_events WHERE id = $1", [.string(run.eventID)]),
             try db.query("SELECT step_id, status, attempts, result FROM hub_run_steps WHERE run_id = $1", [.string(run.id)]))
        }
        func stored(_ text: String, _ what: String) throws -> Value {
            do { return try Value(json: text, maximumDepth: Store.storedDepth) } catch {
                throw HubError(code: "unreadable-run", "run \(run.id): its stored \(what) cannot be read: \(error)")
            }
        }
        let event = try events.first.flatMap { $0["payload"]?.stringValue }.map { try stored($0, "event") } ?? .null
        var state = RunState(runID: run.id, event: event)
        for step in steps {
            let id = step["step_id"]?.text ?? ""
            state.attempts[id] = step["attempts"]?.intValue ?? 0
            switch step["status"]?.text {
            case "completed": state.results[id] = try step["result"]?.stringValue.map { try stored($0, "result of step '\(id)'") } ?? .null
            case "skipped": state.results[id] = .null
            default: break
            }
        }
        return state
    }

    /// Finishes a claimed run: completed, failed (dead letter), or back in the queue after `retryAt`,
    /// writing step records that were still waiting (see `StoreJournal`) in the same go, together
    /// with the runs finishing at the same moment (`finishAll`). Throws `lease-lost` when the run
    /// is no longer this worker's and there were steps to record.
    func finish(runID: String, owner: String, status: RunStatus, notBefore: Int64? = nil, failedStep: String? = nil, error: String? = nil,
                steps: [StepOutcome] = []) async throws
    {
        let finish = RunFinish(runID: runID, owner: owner, status: status, notBefore: notBefore, failedStep: failedStep, error: error, steps: steps)
        guard try await finishes.submit(finish) || steps.isEmpty else { throw Store.leaseLost(runID) }
    }

    /// Extends the leases of runs this worker is executing (`Worker`'s heartbeat): a step may
    /// take longer than a lease (a slow API, a long timeout), and a run whose lease ran out
    /// while it was still executing would be claimed and executed a second time.
    func renewLeases(_ runIDs: [String], owner: String, lease: Duration) async throws {
        let postgres = database.dialect == .postgres
        try await database.execute("""
            UPDATE hub_runs SET lease_until = $2 WHERE lease_owner = $1 AND status = 'running' AND id IN (\(Store.idListQuery(3, postgres: postgres)))
            """, [.string(owner), .millis(Store.now() + lease.milliseconds), Store.idList(runIDs, postgres: postgres)])
    }

    /// Gives claimed runs back to the queue (graceful shutdown), but those still `executing`:
    /// another worker may take them at once.
    func release(owner: String, except executing: [String] = []) async throws {
        let postgres = database.dialect == .postgres
        try await database.execute("""
            UPDATE hub_runs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = $2
            WHERE lease_owner = $1 AND status = 'running' AND id NOT IN (\(Store.idListQuery(3, postgres: postgres)))
            """, [.string(owner), .millis(Store.now()), Store.idList(executing, postgres: postgres)])
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
                "UPDATE hub_runs SET status = 'queued', not_before = $2, error = NULL, failed_step = NULL, finished_at = NULL, updated_at = $2, retries = retries + 1 WHERE id = $1 AND status = 'failed'",
                [.string(runID), .millis(now)])
            guard changed == 1 else { return false }
            try db.execute("UPDATE hub_run_steps SET attempts = 0, status = 'retrying' WHERE run_id = $1 AND status = 'failed'", [.string(runID)])
            return true
        }
    }
}
