import Flows

/// A step's outcome as recorded.
struct StepOutcome: Sendable {
    var stepID: String
    var index: Int
    var status: String
    /// 1 for a failed try, else 0.
    var attemptsDelta: Int
    var result: String?
    var error: String?

    static func finished(_ stepID: String, index: Int, result: Value, skipped: Bool) -> StepOutcome {
        StepOutcome(stepID: stepID, index: index, status: skipped ? "skipped" : "completed", attemptsDelta: 0, result: result.json, error: nil)
    }

    static func failed(_ stepID: String, index: Int, error: String) -> StepOutcome {
        StepOutcome(stepID: stepID, index: index, status: "failed", attemptsDelta: 1, result: nil, error: error)
    }
}

extension Store {
    /// Records step outcomes and renews the worker's lease; only the lease holder may write.
    func recordSteps(runID: String, owner: String, lease: Duration, _ steps: [StepOutcome]) async throws {
        let now = Store.now()
        try await writeSteps(runID: runID, steps, now: now,
                             holding: "UPDATE hub_runs SET lease_until = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                             [.string(runID), .string(owner), .millis(now + lease.milliseconds), .millis(now)])
    }

    /// Runs `holding` (an UPDATE of the run that changes it only while this worker holds it)
    /// and upserts `steps` (at least one) only if it did; throws `lease-lost` otherwise. A transaction on SQLite
    /// (group-committed); one statement on Postgres, the update as a CTE (one round trip).
    func writeSteps(runID: String, _ steps: [StepOutcome], now: Int64, holding: String, _ parameters: [Value]) async throws {
        guard database.dialect == .postgres else {
            try await database.transaction { db in
                guard try Store.writeSteps(db, runID: runID, steps, now: now, holding: holding, parameters) else { throw Store.leaseLost(runID) }
            }
            return
        }
        var values: [Value] = parameters + [.string(runID), .millis(now)]
        let sql = "WITH held AS (\(holding) RETURNING id), \(Store.stepRows(steps, into: &values)) "
            + Store.stepInsert(run: parameters.count + 1, from: "held, v") + " RETURNING run_id"
        guard !(try await database.query(sql, values)).isEmpty else { throw Store.leaseLost(runID) }
    }

    /// SQLite, inside a transaction: `holding`, then the step records if it changed the run;
    /// whether it did. (SQLite has no UPDATE inside WITH.)
    static func writeSteps(_ db: any SQLConnection, runID: String, _ steps: [StepOutcome], now: Int64, holding: String,
                           _ parameters: [Value]) throws -> Bool
    {
        // The change count, not RETURNING: SQLite builds a temporary table for returned rows.
        guard try db.execute(holding, parameters) > 0 else { return false }
        guard !steps.isEmpty else { return true }
        var values: [Value] = [.string(runID), .millis(now)]
        try db.execute("WITH \(stepRows(steps, into: &values)) " + stepInsert(run: 1, from: "v"), values)
        return true
    }

    /// The upsert of step records from `from`, which holds the VALUES list `v`; `$run` is the
    /// run's id and the next parameter the time.
    static func stepInsert(run: Int, from: String) -> String {
        // `WHERE true`: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
        """
        INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, error, updated_at)
        SELECT CAST($\(run) AS TEXT), v.step_id, v.step_index, v.status, v.attempts, v.result, v.error, CAST($\(run + 1) AS BIGINT)
        FROM \(from) WHERE true
        \(stepConflict)
        """
    }

    /// The VALUES list `v` of one run's step records, their values appended to `values`.
    static func stepRows(_ steps: [StepOutcome], into values: inout [Value]) -> String {
        let tuples = steps.map { "(" + stepColumns($0, into: &values) + ")" }
        return "v (step_id, step_index, status, attempts, result, error) AS (VALUES \(tuples.joined(separator: ", ")))"
    }

    /// Appends a step's six columns (step_id, step_index, status, attempts, result, error) to
    /// `values`; returns their placeholders, cast, as Postgres cannot tell a VALUES list's types otherwise.
    static func stepColumns(_ step: StepOutcome, into values: inout [Value]) -> String {
        let n = values.count
        values += [.string(step.stepID), .number(Double(step.index)), .string(step.status), .number(Double(step.attemptsDelta)),
                   step.result.map(Value.string) ?? .null, step.error.map(Value.string) ?? .null]
        return "CAST($\(n + 1) AS TEXT), CAST($\(n + 2) AS INTEGER), CAST($\(n + 3) AS TEXT), CAST($\(n + 4) AS INTEGER), "
            + "CAST($\(n + 5) AS TEXT), CAST($\(n + 6) AS TEXT)"
    }

    /// What a step's second record (a retry, a later outcome) changes.
    static let stepConflict = """
        ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempts = hub_run_steps.attempts + excluded.attempts,
            result = COALESCE(excluded.result, hub_run_steps.result), error = COALESCE(excluded.error, hub_run_steps.error),
            updated_at = excluded.updated_at
        """

    static func leaseLost(_ runID: String) -> HubError {
        HubError(code: "lease-lost", "run \(runID) is no longer held by this worker")
    }
}
