import Flows

/// A run as `hub runs` and the dashboard show it.
public struct RunSummary: Sendable {
    public var id: String
    public var flow: String
    public var status: String
    public var createdAt: Int64
    public var finishedAt: Int64?
    public var failedStep: String?
    public var error: String?
}

/// One step's record in a run.
public struct StepRecord: Sendable {
    public var stepID: String
    public var index: Int
    public var status: String
    public var attempts: Int
    public var result: String?
    public var error: String?
}

extension Store {
    /// Newest runs first, optionally filtered by flow and status.
    public func runs(flow: String? = nil, status: String? = nil, limit: Int = 50) async throws -> [RunSummary] {
        // Only the filters given: `$1 IS NULL OR flow = $1` kept both databases from the indexes
        // (a scan and a sort of every run on each page).
        var conditions: [String] = [], values: [Value] = []
        for (column, value) in [("flow", flow), ("status", status)] {
            guard let value else { continue }
            values.append(.string(value))
            conditions.append("\(column) = $\(values.count)")
        }
        values.append(.number(Double(limit)))
        let rows = try await database.query("""
            SELECT id, flow, status, created_at, finished_at, failed_step, error FROM hub_runs
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT $\(values.count)
            """, values)
        return rows.map(Store.summary)
    }

    public func run(id: String) async throws -> (run: RunSummary, event: Value, steps: [StepRecord])? {
        let (runs, steps) = try await database.withConnection { db in
            (try db.query("""
                SELECT r.id, r.flow, r.status, r.created_at, r.finished_at, r.failed_step, r.error, e.payload
                FROM hub_runs r JOIN hub_events e ON e.id = r.event_id WHERE r.id = $1
                """, [.string(id)]),
             try db.query("SELECT step_id, step_index, status, attempts, result, error FROM hub_run_steps WHERE run_id = $1 ORDER BY step_index",
                          [.string(id)]))
        }
        guard let row = runs.first else { return nil }
        let event = row["payload"]?.stringValue.flatMap { try? Value(json: $0, maximumDepth: Store.storedDepth) } ?? .null
        return (Store.summary(row), event, steps.map {
            StepRecord(stepID: $0["step_id"]?.text ?? "", index: $0["step_index"]?.intValue ?? 0, status: $0["status"]?.text ?? "",
                       attempts: $0["attempts"]?.intValue ?? 0, result: $0["result"]?.stringValue, error: $0["error"]?.stringValue)
        })
    }

    /// How many runs are in each status.
    public func runCounts() async throws -> [String: Int] {
        let rows = try await database.query("SELECT status, COUNT(*) AS n FROM hub_runs GROUP BY status")
        return Dictionary(rows.map { ($0["status"]?.text ?? "", $0["n"]?.intValue ?? 0) }, uniquingKeysWith: +)
    }

    private static func summary(_ row: SQLRow) -> RunSummary {
        RunSummary(id: row["id"]?.text ?? "", flow: row["flow"]?.text ?? "", status: row["status"]?.text ?? "",
                   createdAt: Int64(row["created_at"]?.intValue ?? 0), finishedAt: row["finished_at"]?.intValue.map(Int64.init),
                   failedStep: row["failed_step"]?.stringValue, error: row["error"]?.stringValue)
    }
}
