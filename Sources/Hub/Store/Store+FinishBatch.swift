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

    /// A run that is done for good (completed or dead-lettered) records when; one queued again does not.
    func finishedAt(_ now: Int64) -> Int64? {
        status == .completed || status == .failed ? now : nil
    }
}

extension Store {
    /// Finishes runs on Postgres in one statement (one round trip, one commit); one result per
    /// run: whether this worker still held it, so that it changed. If the statement fails, each
    /// run is tried in a statement of its own, so one bad run cannot fail the others.
    static func finishAll(_ finishes: [RunFinish], _ database: any SQLDatabase) async -> [Result<Bool, any Error>] {
        do {
            let (sql, values) = finishStatement(finishes, now: Store.now())
            let held = Set(try await database.query(sql, values).compactMap { $0["id"]?.stringValue })
            return finishes.map { .success(held.contains($0.runID)) }
        } catch {
            guard finishes.count > 1 else { return [.failure(error)] }
            var results: [Result<Bool, any Error>] = []
            for finish in finishes { results += await finishAll([finish], database) }
            return results
        }
    }

    /// The runs' updates as a CTE (only rows this worker holds change), the step records of the
    /// runs that changed, and their ids as the result.
    static func finishStatement(_ finishes: [RunFinish], now: Int64) -> (String, [Value]) {
        var values: [Value] = [.millis(now)]
        var runs: [String] = [], steps: [String] = []
        for finish in finishes {
            let n = values.count
            values += [.string(finish.runID), .string(finish.owner), .string(finish.status.rawValue), finish.notBefore.map(Value.millis) ?? .null,
                       finish.failedStep.map(Value.string) ?? .null, finish.error.map(Value.string) ?? .null,
                       finish.finishedAt(now).map(Value.millis) ?? .null]
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
