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

/// An event to store, with the runs it starts.
struct NewEvent: Sendable {
    var source: String
    var dedupKey: String
    var payload: Value
    /// The payload as stored, serialised by the caller rather than inside the shared transaction.
    var payloadJSON: String
    var runs: [NewRun]
    /// Chosen before storing, so a caller can hand the runs on with their event.
    var eventID = RecordID.make()

    init(source: String, dedupKey: String, payload: Value, payloadJSON: String? = nil, runs: [NewRun]) {
        self.source = source
        self.dedupKey = dedupKey
        self.payload = payload
        self.payloadJSON = payloadJSON ?? payload.json
        self.runs = runs
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
        try await storeEvents([NewEvent(source: source, dedupKey: dedupKey, payload: payload, runs: runs)])[0].get()
    }

    /// Stores several events, each with its runs, in one transaction (group commit); one result
    /// per event, in order. When that transaction fails, each event is tried in a transaction of
    /// its own, so one bad event cannot fail the others.
    func storeEvents(_ items: [NewEvent]) async -> [Result<[String]?, any Error>] {
        let now = Store.now()
        let rows = items.map { item in
            (item: item, runIDs: item.runs.map { _ in RecordID.make() })
        }
        do {
            let postgres = database.dialect == .postgres
            let stored = try await database.transaction { db in
                // Postgres pays a round trip per statement: there the batch goes in as two statements.
                // (SQLite runs inline, where one event at a time costs no more and keeps its
                // statement cache free of a variant per batch size.)
                postgres ? try Store.insertAll(db, rows, now: now) : try rows.flatMap { try Store.insertAll(db, [$0], now: now) }
            }
            return stored.map { .success($0) }
        } catch {
            guard rows.count > 1 else { return [.failure(error)] }
            var results: [Result<[String]?, any Error>] = []
            for row in rows {
                do {
                    results.append(.success(try await database.transaction { db in try Store.insertAll(db, [row], now: now)[0] }))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    /// Events in one multi-row statement and the runs of the new ones in another; per event its
    /// run ids, or nil for a duplicate (same source and dedup key).
    private static func insertAll(_ db: any SQLConnection, _ rows: [(item: NewEvent, runIDs: [String])],
                                  now: Int64) throws -> [[String]?]
    {
        var eventValues: [Value] = []
        for row in rows {
            eventValues += [.string(row.item.eventID), .string(row.item.source), .string(row.item.dedupKey), .string(row.item.payloadJSON), .millis(now)]
        }
        let insert = rows.count == 1 ? oneEventInsert : eventInsert(rows: rows.count)
        let inserted: Set<String>
        if rows.count == 1 {
            // One row: the change count tells, without RETURNING (which makes SQLite build a
            // temporary table for the returned rows on every insert).
            inserted = try db.execute(insert, eventValues) > 0 ? [rows[0].item.eventID] : []
        } else {
            inserted = Set(try db.query(insert + " RETURNING id", eventValues).compactMap { $0["id"]?.stringValue })
        }
        var runValues: [Value] = []
        for row in rows where inserted.contains(row.item.eventID) {
            for (run, id) in zip(row.item.runs, row.runIDs) {
                runValues += [.string(id), .string(run.flow), .string(run.flowVersion), .string(row.item.eventID),
                              .string(run.lease == nil ? RunStatus.queued.rawValue : RunStatus.running.rawValue),
                              .millis(run.notBefore ?? now), .millis(now), .millis(now),
                              run.order.map { .string($0.key) } ?? .null, run.order.map { .millis($0.position) } ?? .null,
                              run.lease.map { .string($0.owner) } ?? .null, run.lease.map { .millis($0.until) } ?? .null]
            }
        }
        let runs = runValues.count / runColumns
        if runs > 0 {
            try db.execute(runs == 1 ? oneRunInsert : runInsert(rows: runs), runValues)
        }
        return rows.map { inserted.contains($0.item.eventID) ? $0.runIDs : nil }
    }

    private static let runColumns = 12

    /// The statements for one event and one run, the shapes SQLite always stores: written once,
    /// not for every webhook.
    private static let oneEventInsert = eventInsert(rows: 1)
    private static let oneRunInsert = runInsert(rows: 1)

    private static func eventInsert(rows: Int) -> String {
        "INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES \(values(rows: rows, columns: 5)) "
            + "ON CONFLICT (source, dedup_key) DO NOTHING"
    }

    private static func runInsert(rows: Int) -> String {
        """
        INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at, order_key, order_position,
                              lease_owner, lease_until)
        VALUES \(values(rows: rows, columns: runColumns))
        """
    }

    /// `($1, …, $c), ($c+1, …)`: `rows` rows of a multi-row VALUES.
    private static func values(rows: Int, columns: Int) -> String {
        (0..<rows).map { row in placeholders(from: row * columns, count: columns) }.joined(separator: ", ")
    }

    /// `($n+1, $n+2, …)` for one row of a multi-row VALUES.
    private static func placeholders(from offset: Int, count: Int) -> String {
        "(" + (1...count).map { "$\(offset + $0)" }.joined(separator: ", ") + ")"
    }
}
