import Flows

/// A run to create together with its event.
public struct NewRun: Sendable {
    public var flow: String
    public var flowVersion: String
    public var notBefore: Int64?
    /// Runs with the same order key start one after another, by position.
    public var order: EventOrder?
    /// Stored already running under this lease: handed straight to the hub's own worker.
    public var lease: RunLease?

    public init(flow: String, flowVersion: String, notBefore: Int64? = nil, order: EventOrder? = nil) {
        self.flow = flow
        self.flowVersion = flowVersion
        self.notBefore = notBefore
        self.order = order
    }
}

/// A worker's hold on a run: its owner id and until when (epoch milliseconds).
public struct RunLease: Sendable {
    public var owner: String
    public var until: Int64
}

extension Store {
    /// Stores an event and its runs in one transaction. Returns the run ids, or `nil` when the
    /// event was seen before (same source and dedup key): then nothing is written.
    public func storeEvent(source: String, dedupKey: String, payload: Value, runs: [NewRun]) async throws -> [String]? {
        try await storeEvents([EventBatcher.Item(source: source, dedupKey: dedupKey, payload: payload, runs: runs)])[0].get()
    }

    /// Stores several events, each with its runs, in one transaction (group commit); one result
    /// per event, in order. When that transaction fails, each event is tried in a transaction of
    /// its own, so one bad event cannot fail the others.
    func storeEvents(_ items: [EventBatcher.Item]) async -> [Result<[String]?, any Error>] {
        let now = Store.now()
        let rows = items.map { item in
            (item, eventID: item.eventID, payloadJSON: item.payload.json, runIDs: item.runs.map { _ in Store.newID() })
        }
        @Sendable func insert(_ db: any SQLConnection, _ row: (EventBatcher.Item, eventID: String, payloadJSON: String, runIDs: [String])) throws -> [String]? {
            let (item, eventID, payloadJSON, runIDs) = row
            let inserted = try db.query(
                "INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id",
                [.string(eventID), .string(item.source), .string(item.dedupKey), .string(payloadJSON), .millis(now)])
            guard !inserted.isEmpty else { return nil }
            for (run, id) in zip(item.runs, runIDs) {
                try db.execute(
                    """
                    INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at, order_key, order_position,
                                          lease_owner, lease_until)
                    VALUES ($1, $2, $3, $4, $9, $5, $6, $6, $7, $8, $10, $11)
                    """,
                    [.string(id), .string(run.flow), .string(run.flowVersion), .string(eventID), .millis(run.notBefore ?? now), .millis(now),
                     run.order.map { .string($0.key) } ?? .null, run.order.map { .millis($0.position) } ?? .null,
                     .string(run.lease == nil ? RunStatus.queued.rawValue : RunStatus.running.rawValue),
                     run.lease.map { .string($0.owner) } ?? .null, run.lease.map { .millis($0.until) } ?? .null])
            }
            return runIDs
        }
        do {
            let postgres = database.dialect == .postgres
            let stored = try await database.transaction { db in
                // Postgres pays a round trip per statement: there the batch goes in as two statements.
                // (SQLite runs inline, where one statement per row costs no more and keeps its
                // statement cache free of a variant per batch size.)
                postgres && rows.count > 1 ? try Store.insertAll(db, rows.map { ($0.0, $0.eventID, $0.payloadJSON, $0.runIDs) }, now: now)
                    : try rows.map { try insert(db, $0) }
            }
            return stored.map { .success($0) }
        } catch {
            guard rows.count > 1 else { return [.failure(error)] }
            var results: [Result<[String]?, any Error>] = []
            for row in rows {
                do {
                    results.append(.success(try await database.transaction { db in try insert(db, row) }))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    /// All events of a batch in one multi-row statement and all runs of the new ones in another;
    /// per event its run ids, or nil for a duplicate. Same rows as one insert per event.
    private static func insertAll(_ db: any SQLConnection, _ rows: [(item: EventBatcher.Item, eventID: String, payloadJSON: String, runIDs: [String])],
                                  now: Int64) throws -> [[String]?]
    {
        var eventTuples: [String] = []
        var eventValues: [Value] = []
        for row in rows {
            eventTuples.append(placeholders(from: eventValues.count, count: 5))
            eventValues += [.string(row.eventID), .string(row.item.source), .string(row.item.dedupKey), .string(row.payloadJSON), .millis(now)]
        }
        let inserted = Set(try db.query(
            "INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES \(eventTuples.joined(separator: ", ")) "
                + "ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id", eventValues).compactMap { $0["id"]?.stringValue })
        var runTuples: [String] = []
        var runValues: [Value] = []
        for row in rows where inserted.contains(row.eventID) {
            for (run, id) in zip(row.item.runs, row.runIDs) {
                runTuples.append(placeholders(from: runValues.count, count: 12))
                runValues += [.string(id), .string(run.flow), .string(run.flowVersion), .string(row.eventID),
                              .string(run.lease == nil ? RunStatus.queued.rawValue : RunStatus.running.rawValue),
                              .millis(run.notBefore ?? now), .millis(now), .millis(now),
                              run.order.map { .string($0.key) } ?? .null, run.order.map { .millis($0.position) } ?? .null,
                              run.lease.map { .string($0.owner) } ?? .null, run.lease.map { .millis($0.until) } ?? .null]
            }
        }
        if !runTuples.isEmpty {
            try db.execute("""
                INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at, order_key, order_position,
                                      lease_owner, lease_until)
                VALUES \(runTuples.joined(separator: ", "))
                """, runValues)
        }
        return rows.map { inserted.contains($0.eventID) ? $0.runIDs : nil }
    }

    /// `($n+1, $n+2, …)` for one row of a multi-row VALUES.
    private static func placeholders(from offset: Int, count: Int) -> String {
        "(" + (1...count).map { "$\(offset + $0)" }.joined(separator: ", ") + ")"
    }
}
