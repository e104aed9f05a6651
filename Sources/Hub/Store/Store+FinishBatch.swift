import Flows

/// A run's last write: its outcome and the step records still waiting (see `StoreJournal`).
struct RunFinish: Sendable {
    var runID: String
    var owner: String
    var status: RunStatus
    var notBefore: Int64?
    var failedStep: String?
    var error: String?
    var steps: [StepOutcome]

    /// The finish's seven columns, as both dialects take them: id, owner, status, not_before,
    /// failed_step, error, finished_at. A run done for good (completed or dead-lettered) records
    /// when; one queued again does not.
    func columns(now: Int64) -> [Value] {
        [.string(runID), .string(owner), .string(status.rawValue), notBefore.map(Value.millis) ?? .null,
         failedStep.map(Value.string) ?? .null, error.map(Value.string) ?? .null,
         status == .completed || status == .failed ? .millis(now) : .null]
    }

    /// SQLite: the run's update (`columns`, then the time), which changes it only while this
    /// worker holds it.
    static let update = """
        UPDATE hub_runs SET status = $3, not_before = COALESCE($4, not_before), failed_step = $5, error = $6,
            lease_owner = NULL, lease_until = NULL, finished_at = $7, updated_at = $8
        WHERE id = $1 AND lease_owner = $2
        """
}

extension Store {
    /// Finishes runs together: on Postgres in one statement (one round trip, one commit), on
    /// SQLite in one transaction (one job of the group commit, not a job and a savepoint each).
    /// One result per run: whether this worker still held it, so that it changed. If the batch
    /// fails, each run is tried alone, so one bad run cannot fail the others.
    static func finishAll(_ finishes: [RunFinish], _ database: any SQLDatabase) async -> [Result<Bool, any Error>] {
        do {
            let now = Store.now()
            let held: Set<String>
            if database.dialect == .postgres {
                let (sql, values) = finishStatement(finishes, now: now)
                held = Set(try await database.query(sql, values).compactMap { $0["id"]?.stringValue })
            } else {
                held = try await database.transaction { db in
                    Set(try finishes.filter {
                        try writeSteps(db, runID: $0.runID, $0.steps, now: now, holding: RunFinish.update, $0.columns(now: now) + [.millis(now)])
                    }.map(\.runID))
                }
            }
            return finishes.map { .success(held.contains($0.runID)) }
        } catch {
            guard finishes.count > 1 else { return [.failure(error)] }
            var results: [Result<Bool, any Error>] = []
            for finish in finishes { results += await finishAll([finish], database) }
            return results
        }
    }

    /// Postgres: the runs' updates as a CTE (only rows this worker holds change), the step records
    /// of the runs that changed, and their ids as the result.
    static func finishStatement(_ finishes: [RunFinish], now: Int64) -> (String, [Value]) {
        var values: [Value] = [.millis(now)]
        var runs: [String] = [], steps: [String] = []
        for finish in finishes {
            let n = values.count
            values += finish.columns(now: now)
            runs.append("(CAST($\(n + 1) AS TEXT), CAST($\(n + 2) AS TEXT), CAST($\(n + 3) AS TEXT), CAST($\(n + 4) AS BIGINT), "
                        + "CAST($\(n + 5) AS TEXT), CAST($\(n + 6) AS TEXT), CAST($\(n + 7) AS BIGINT))")
            for step in finish.steps {
                values.append(.string(finish.runID))
                steps.append("(CAST($\(values.count) AS TEXT), " + stepColumns(step, into: &values) + ")")
            }
        }
        var sql = """
            WITH f (id, owner, status, not_before, failed_step, error, finished_at) AS (VALUES \(runs.joined(separator: ", "))),
            held AS (
                UPDATE hub_runs SET status = f.status, not_before = COALESCE(f.not_before, hub_runs.not_before), failed_step = f.failed_step,
                    error = f.error, lease_owner = NULL, lease_until = NULL, updated_at = CAST($1 AS BIGINT), finished_at = f.finished_at
                FROM f WHERE hub_runs.id = f.id AND hub_runs.lease_owner = f.owner
                RETURNING hub_runs.id)
            """
        if !steps.isEmpty {
            sql += """
                ,
                v (run_id, step_id, step_index, status, attempts, result, error) AS (VALUES \(steps.joined(separator: ", "))),
                recorded AS (
                    INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, error, updated_at)
                    SELECT v.run_id, v.step_id, v.step_index, v.status, v.attempts, v.result, v.error, CAST($1 AS BIGINT)
                    FROM v JOIN held ON held.id = v.run_id
                    \(stepConflict))
                """
        }
        return (sql + "\nSELECT id FROM held", values)
    }
}
