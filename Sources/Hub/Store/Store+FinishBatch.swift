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

    /// The finish's seven columns, as SQLite takes them: id, owner, status, not_before,
    /// failed_step, error, finished_at.
    func columns(now: Int64) -> [Value] {
        [.string(runID), .string(owner), .string(status.rawValue), notBefore.map(Value.millis) ?? .null,
         failedStep.map(Value.string) ?? .null, error.map(Value.string) ?? .null, finishedAt(now: now).map(Value.millis) ?? .null]
    }

    /// A run done for good (completed or dead-lettered) records when; one queued again does not.
    func finishedAt(now: Int64) -> Int64? {
        status == .completed || status == .failed ? now : nil
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
                held = Set(try await database.query(finishStatement, finishValues(finishes, now: now)).compactMap { $0["id"]?.stringValue })
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
    /// of the runs that changed, and their ids as the result. One statement text for any batch
    /// (`finishStatement`): each column goes in as an array.
    static func finishValues(_ finishes: [RunFinish], now: Int64) -> [Value] {
        let steps = finishes.flatMap { finish in finish.steps.map { (runID: finish.runID, step: $0) } }
        return [
            .millis(now),
            PostgresArray.text(finishes.map(\.runID)), PostgresArray.text(finishes.map(\.owner)),
            PostgresArray.text(finishes.map(\.status.rawValue)), PostgresArray.integers(finishes.map(\.notBefore)),
            PostgresArray.text(finishes.map(\.failedStep)), PostgresArray.text(finishes.map(\.error)),
            PostgresArray.integers(finishes.map { $0.finishedAt(now: now) }),
            PostgresArray.text(steps.map(\.runID)), PostgresArray.text(steps.map(\.step.stepID)),
            PostgresArray.integers(steps.map { Int64($0.step.index) }), PostgresArray.text(steps.map(\.step.status)),
            PostgresArray.integers(steps.map { Int64($0.step.attemptsDelta) }), PostgresArray.text(steps.map(\.step.result)),
            PostgresArray.text(steps.map(\.step.error)),
        ]
    }

    static let finishStatement = """
        WITH held AS (
            UPDATE hub_runs SET status = f.status, not_before = COALESCE(f.not_before, hub_runs.not_before), failed_step = f.failed_step,
                error = f.error, lease_owner = NULL, lease_until = NULL, updated_at = CAST($1 AS BIGINT), finished_at = f.finished_at
            FROM unnest(CAST($2 AS TEXT[]), CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS BIGINT[]), CAST($6 AS TEXT[]),
                        CAST($7 AS TEXT[]), CAST($8 AS BIGINT[])) AS f (id, owner, status, not_before, failed_step, error, finished_at)
            WHERE hub_runs.id = f.id AND hub_runs.lease_owner = f.owner
            RETURNING hub_runs.id),
        recorded AS (
            INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, error, updated_at)
            SELECT v.run_id, v.step_id, v.step_index, v.status, v.attempts, v.result, v.error, CAST($1 AS BIGINT)
            FROM unnest(CAST($9 AS TEXT[]), CAST($10 AS TEXT[]), CAST($11 AS INTEGER[]), CAST($12 AS TEXT[]), CAST($13 AS INTEGER[]),
                        CAST($14 AS TEXT[]), CAST($15 AS TEXT[])) AS v (run_id, step_id, step_index, status, attempts, result, error)
            JOIN held ON held.id = v.run_id
            \(stepConflict))
        SELECT id FROM held
        """
}
