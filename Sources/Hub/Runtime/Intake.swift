import Flows
import Logging
import Metrics

/// Receives events from connectors and webhooks: finds the flows they start, stores the
/// event and its runs in one transaction, and wakes the workers. Only after `emit` returns
/// may a webhook be acknowledged (persist, then acknowledge). Fresh runs go straight to this
/// hub's worker when it has a free slot (see `RunSlots`).
public final class Intake: EventSink {
    let store: Store
    let flows: FlowRegistry
    let wakeUp: WakeUp
    let slots: RunSlots
    /// The lease this hub's worker holds on its runs.
    let lease: (owner: String, duration: Duration)
    /// How long a webhook waits for PostgreSQL before it is answered 503 (`HUB_INTAKE_TIMEOUT`).
    let writeTimeout: Duration
    let logger: Logger
    /// Concurrent events share a transaction on Postgres, which pays a round trip and a commit
    /// for each. None on SQLite: its transactions are group-committed already, and a second
    /// layer there only added a wait per webhook (intake went 10–30 % faster without it).
    private let batcher: Batcher<NewEvent, [String]?>?
    private let accepted = Counter(label: "hub_events_total", dimensions: [("outcome", "accepted")])
    private let duplicates = Counter(label: "hub_events_total", dimensions: [("outcome", "duplicate")])

    /// `concurrency`: runs in flight at once. Room for all fresh runs of a busy moment (runs a
    /// second × seconds each takes to finish) keeps them on the hand-off path; a run that finds
    /// no slot is stored queued and costs a claim and a reload of its event later (at 64 that
    /// happened under Postgres load).
    init(store: Store, flows: FlowRegistry, owner: String, lease: Duration = .seconds(60), concurrency: Int = 256,
         writeTimeout: Duration = .seconds(10), logger: Logger) {
        self.store = store
        self.writeTimeout = writeTimeout
        self.flows = flows
        wakeUp = WakeUp()
        slots = RunSlots(capacity: concurrency, wakeUp: wakeUp)
        self.lease = (owner, lease)
        self.logger = logger
        batcher = store.database.dialect == .postgres ? Batcher(limit: 256) { [store] in await store.storeEvents($0) } : nil
    }

    public func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
        try await emit(key: "\(event.instance).\(event.trigger)", payload: event.payload, dedupKey: event.dedupKey, order: event.order)
    }

    public func emit(_ events: [IncomingEvent]) async throws -> [EmitOutcome] {
        try await store(events.map { Pending(key: "\($0.instance).\($0.trigger)", payload: $0.payload, dedupKey: $0.dedupKey, order: $0.order) })
            .map { ids in ids.map { .accepted(runs: $0.count) } ?? .duplicate }
    }

    /// Stores an event under a trigger key; flows whose `if:` rejects the event get no run.
    /// `screened`, when given, is what the flows' `if:` sees instead of `payload`: more than is
    /// stored (a caller's secret header, say), since only the payload is kept and run.
    @discardableResult
    public func emit(key: String, payload: Value, dedupKey: String, order: EventOrder? = nil, screened: Value? = nil) async throws -> EmitOutcome {
        guard let ids = try await store([Pending(key: key, payload: payload, dedupKey: dedupKey, order: order, screened: screened)])[0] else {
            return .duplicate
        }
        return .accepted(runs: ids.count)
    }

    public func emitAndWait(_ event: IncomingEvent, timeout: Duration) async throws -> RunResult {
        guard let id = try await store(key: "\(event.instance).\(event.trigger)", payload: event.payload, dedupKey: event.dedupKey,
                                       order: event.order)?.first else {
            return .noRun
        }
        let deadline = ContinuousClock.now + timeout
        // Short runs (a form's redirect) finish within a few milliseconds: look early, then back off.
        var pause = Duration.milliseconds(1)
        while ContinuousClock.now < deadline {
            if let found = try await store.run(id: id) {
                switch found.run.status {
                case RunStatus.completed.rawValue:
                    var results: [String: Value] = [:]
                    for step in found.steps { results[step.stepID] = step.result.flatMap { try? Value(json: $0) } ?? .null }
                    return .completed(results)
                case RunStatus.failed.rawValue:
                    return .failed(found.run.error ?? "the run failed")
                default: break
                }
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(15))
        }
        return .pending
    }

    /// An event on its way into the store.
    private struct Pending {
        var key: String
        var payload: Value
        var dedupKey: String
        var order: EventOrder?
        var screened: Value? = nil
    }

    /// Stores the event and its runs; `nil` for a duplicate.
    private func store(key: String, payload: Value, dedupKey: String, order: EventOrder?) async throws -> [String]? {
        try await store([Pending(key: key, payload: payload, dedupKey: dedupKey, order: order)])[0]
    }

    /// Stores events and their runs in one transaction; per event the run ids (none, and nothing
    /// stored, for an event no flow takes), or `nil` for a duplicate. Runs that may start at once
    /// and find a free slot are stored leased to this hub and handed to its worker with the event.
    /// Throws if any event could not be stored.
    private func store(_ events: [Pending]) async throws -> [[String]?] {
        let until = Store.now() + lease.duration.milliseconds
        var handed: [[Bool]] = []
        // One delivery's events often share a payload (Prodamus' `paid` and `notification`): serialised once.
        var previous: (payload: Value, json: String)?
        let items = events.map { event in
            var runs = flows.flows(for: event.key).filter { $0.accepts(event.screened ?? event.payload) }.map { NewRun(flow: $0.name, flowVersion: $0.version, order: event.order) }
            // A run with an order key may have to wait for an earlier one: it goes through the queue.
            let reserved = runs.map { _ in event.order == nil && slots.reserve() }
            for index in runs.indices where reserved[index] { runs[index].lease = RunLease(owner: lease.owner, until: until) }
            handed.append(reserved)
            let json = previous.flatMap { $0.payload == event.payload ? $0.json : nil } ?? event.payload.json
            previous = (event.payload, json)
            return NewEvent(source: event.key, dedupKey: event.dedupKey, payload: event.payload, payloadJSON: json, runs: runs)
        }
        var stored: [[String]?] = []
        var failure: (any Error)?
        var queued = false
        // An event that starts no run is acknowledged without a row: nothing would read it back
        // (Prodamus' `notification` beside `paid` wrote the same payload a second time).
        let starting = items.filter { !$0.runs.isEmpty }
        var written = starting.isEmpty ? [] : await write(starting)[...]
        let results = items.map { $0.runs.isEmpty ? .success([]) : written.removeFirst() }
        // A write that took half a lease (a database answering slowly) stored leases that soon
        // run out: those runs go through the queue, where an expired lease is claimed in order,
        // rather than being executed here while another hub may claim them too.
        let late = Store.now() > until - lease.duration.milliseconds / 2
        for (index, (item, result)) in zip(items, results).enumerated() {
            guard case .success(let ids?) = result else {
                // Not stored (a duplicate, or the database failed): the reserved slots go back.
                for _ in handed[index].filter({ $0 }) { slots.release() }
                switch result {
                case .failure(let error): failure = error
                case .success: duplicates.increment()
                }
                stored.append(nil)
                continue
            }
            accepted.increment()
            for (position, (run, id)) in zip(item.runs, ids).enumerated() {
                MetricsCache.counter("hub_runs_started_total", [("flow", run.flow)]).increment()
                if handed[index][position] && late {
                    slots.release()
                    queued = true
                } else if handed[index][position] {
                    slots.start(ClaimedRun(id: id, flow: run.flow, flowVersion: run.flowVersion, eventID: item.eventID),
                                RunState(runID: id, event: item.payload))
                } else {
                    queued = true
                }
            }
            stored.append(ids)
        }
        if queued {
            slots.markBacklog()
            wakeUp.signal()
        }
        // The events that were stored stay stored (a redelivery finds them as duplicates).
        if let failure { throw failure }
        return stored
    }

    /// Through the batcher on Postgres, straight into SQLite's group commit otherwise.
    ///
    /// A PostgreSQL server that stops answering (a network dropping packets, a hung host) refuses
    /// nothing: the statement waits for TCP to give up, many minutes. So the caller is answered
    /// "unavailable" after `writeTimeout` and the provider delivers again later. The write goes on; if
    /// it lands after all, the redelivery is a duplicate, and runs it stored leased to this hub are
    /// claimed from the queue once that lease runs out.
    private func write(_ events: [NewEvent]) async -> [Result<[String]?, any Error>] {
        guard let batcher else { return await store.storeEvents(events) }
        if let results = await Deadline.result(within: writeTimeout, of: { await batcher.submit(events) }) { return results }
        logger.error("the database did not answer in time; the webhook is refused for a retry",
                     metadata: ["timeout": "\(writeTimeout)", "events": "\(events.count)"])
        let timeout = SQLError(kind: .unavailable, code: "timeout", message: "the database did not answer within \(writeTimeout)")
        return events.map { _ in .failure(timeout) }
    }

    /// Tells `hub.run_failed` flows, and the step's `on_error` flow, that a run failed for good.
    /// One report per failure: a report stored before a later write failed (or the hub died) is
    /// found again when the run fails again, and a run an admin re-played reports anew.
    func reportFailure(_ failure: StepFailure, run: ClaimedRun, event: Value, flow: Flow) async throws {
        // A failing error flow does not report itself, or one failure could feed a loop.
        if case .runFailed = flow.trigger { return }
        let payload: Value = ["flow": .string(flow.name), "run_id": .string(run.id), "step": .string(failure.stepID),
                              "error": .string(failure.error.description), "event": event]
        let dedupKey = "\(run.id):\(run.retries)"
        try await emit(key: "hub.run_failed", payload: payload, dedupKey: dedupKey)
        if let handler = failure.handler, let target = flows.flow(named: handler) {
            _ = try await store.storeEvent(source: "on_error:\(handler)", dedupKey: dedupKey, payload: payload,
                                           runs: [NewRun(flow: target.name, flowVersion: target.version)])
            wakeUp.signal()
        }
    }
}
