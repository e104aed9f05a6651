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

    /// Leased runs are stored running (handed to the worker), the others queued.
    var initialStatus: RunStatus { lease == nil ? .queued : .running }
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
        let postgres = database.dialect == .postgres
        do {
            let stored = try await database.transaction { db in
                // Postgres pays a round trip per statement: there the batch goes in as one.
                // (SQLite runs inline, where one event at a time costs no more.)
                postgres ? try Store.insertAll(db, rows, now: now) : try rows.map { try Store.insertOne(db, $0, now: now) }
            }
            return stored.map { .success($0) }
        } catch {
            // A database away fails every event alike: trying each on its own would only hold
            // every waiting webhook for one more connection attempt per event.
            if rows.count == 1 || (error as? SQLError)?.kind == .unavailable { return rows.map { _ in .failure(error) } }
            var results: [Result<[String]?, any Error>] = []
            for row in rows {
                do {
                    results.append(.success(try await database.transaction { db in
                        postgres ? try Store.insertAll(db, [row], now: now)[0] : try Store.insertOne(db, row, now: now)
                    }))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    /// SQLite: one event, and its runs if it is new; its run ids, or nil for a duplicate (same
    /// source and dedup key).
    private static func insertOne(_ db: any SQLConnection, _ row: (item: NewEvent, runIDs: [String]), now: Int64) throws -> [String]? {
        let event = row.item
        // The change count tells, without RETURNING (which makes SQLite build a temporary table
        // for the returned rows on every insert).
        let values: [Value] = [.string(event.eventID), .string(event.source), .string(event.dedupKey), .string(event.payloadJSON), .millis(now)]
        guard try db.execute(eventInsert, values) > 0 else { return nil }
        for (run, id) in zip(event.runs, row.runIDs) {
            try db.execute(runInsert, [
                .string(id), .string(run.flow), .string(run.flowVersion), .string(event.eventID), .string(run.initialStatus.rawValue),
                .millis(run.notBefore ?? now), .millis(now), .millis(now), run.order.map { .string($0.key) } ?? .null,
                run.order.map { .millis($0.position) } ?? .null, run.lease.map { .string($0.owner) } ?? .null,
                run.lease.map { .millis($0.until) } ?? .null,
            ])
        }
        return row.runIDs
    }

    private static let eventInsert = """
        INSERT INTO hub_events (id, source, dedup_key, payload, received_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (source, dedup_key) DO NOTHING
        """

    private static let runInsert = """
        INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at, order_key, order_position,
                              lease_owner, lease_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """

    /// Postgres: the events and the runs of the new ones in one statement, each column as an
    /// array (one statement text for any batch); per event its run ids, or nil for a duplicate.
    private static func insertAll(_ db: any SQLConnection, _ rows: [(item: NewEvent, runIDs: [String])],
                                  now: Int64) throws -> [[String]?]
    {
        let events = rows.map(\.item)
        let runs = rows.flatMap { row in zip(row.item.runs, row.runIDs).map { (run: $0, id: $1, eventID: row.item.eventID) } }
        let values: [Value] = [
            .millis(now),
            PostgresArray.text(events.map(\.eventID)), PostgresArray.text(events.map(\.source)),
            PostgresArray.text(events.map(\.dedupKey)), PostgresArray.text(events.map(\.payloadJSON)),
            PostgresArray.text(runs.map(\.id)), PostgresArray.text(runs.map(\.run.flow)), PostgresArray.text(runs.map(\.run.flowVersion)),
            PostgresArray.text(runs.map(\.eventID)), PostgresArray.text(runs.map(\.run.initialStatus.rawValue)),
            PostgresArray.integers(runs.map { $0.run.notBefore ?? now }), PostgresArray.text(runs.map(\.run.order?.key)),
            PostgresArray.integers(runs.map(\.run.order?.position)), PostgresArray.text(runs.map(\.run.lease?.owner)),
            PostgresArray.integers(runs.map(\.run.lease?.until)),
        ]
        let inserted = Set(try db.query(batchInsert, values).compactMap { $0["id"]?.stringValue })
        return rows.map { inserted.contains($0.item.eventID) ? $0.runIDs : nil }
    }

    /// Runs join the events actually inserted, so a duplicate's runs are left out.
    private static let batchInsert = """
        WITH e AS (
            INSERT INTO hub_events (id, source, dedup_key, payload, received_at)
            SELECT n.id, n.source, n.dedup_key, n.payload, CAST($1 AS BIGINT)
            FROM unnest(CAST($2 AS TEXT[]), CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS TEXT[])) AS n (id, source, dedup_key, payload)
            ON CONFLICT (source, dedup_key) DO NOTHING
            RETURNING id),
        r AS (
            INSERT INTO hub_runs (id, flow, flow_version, event_id, status, not_before, created_at, updated_at, order_key, order_position,
                                  lease_owner, lease_until)
            SELECT r.id, r.flow, r.flow_version, r.event_id, r.status, r.not_before, CAST($1 AS BIGINT), CAST($1 AS BIGINT),
                r.order_key, r.order_position, r.lease_owner, r.lease_until
            FROM unnest(CAST($6 AS TEXT[]), CAST($7 AS TEXT[]), CAST($8 AS TEXT[]), CAST($9 AS TEXT[]), CAST($10 AS TEXT[]),
                        CAST($11 AS BIGINT[]), CAST($12 AS TEXT[]), CAST($13 AS BIGINT[]), CAST($14 AS TEXT[]), CAST($15 AS BIGINT[]))
                AS r (id, flow, flow_version, event_id, status, not_before, order_key, order_position, lease_owner, lease_until)
            JOIN e ON e.id = r.event_id)
        SELECT id FROM e
        """
}
