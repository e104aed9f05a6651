import Flows

/// A run to create together with its event.
public struct NewRun: Sendable {
    public var flow: String
    public var flowVersion: String
    public var notBefore: Int64?

    public init(flow: String, flowVersion: String, notBefore: Int64? = nil) {
        self.flow = flow
        self.flowVersion = flowVersion
        self.notBefore = notBefore
    }
}

extension Store {
    /// Stores an event and its runs in one transaction. Returns the run ids, or `nil` when the
    /// event was seen before (same source and dedup key): then nothing is written.
    public func storeEvent(source: String, dedupKey: String, payload: Value, runs: [NewRun]) async throws -> [String]? {
        let eventID = Store.newID()
        let now = Store.now()
        let payloadJSON = payload.json
        return try await database.transaction { db in
            let inserted = try db.query(
                "INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id",
                [.string(eventID), .string(source), .string(dedupKey), .string(payloadJSON), .millis(now)])
            guard !inserted.isEmpty else { return nil }
            var ids: [String] = []
            for run in runs {
                let id = Store.newID()
                try db.execute(
                    "INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6)",
                    [.string(id), .string(run.flow), .string(run.flowVersion), .string(eventID), .millis(run.notBefore ?? now), .millis(now)])
                ids.append(id)
            }
            return ids
        }
    }
}
