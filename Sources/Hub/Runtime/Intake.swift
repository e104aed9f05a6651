import Flows
import Logging
import Metrics

/// Receives events from connectors and webhooks: finds the flows they start, stores the
/// event and its runs in one transaction, and wakes the workers. Only after `emit` returns
/// may a webhook be acknowledged (persist, then acknowledge).
public final class Intake: EventSink {
    let store: Store
    let flows: FlowRegistry
    let wakeUp: WakeUp
    let logger: Logger
    private let batcher: EventBatcher
    private let accepted = Counter(label: "hub_events_total", dimensions: [("outcome", "accepted")])
    private let duplicates = Counter(label: "hub_events_total", dimensions: [("outcome", "duplicate")])

    init(store: Store, flows: FlowRegistry, wakeUp: WakeUp, logger: Logger) {
        self.store = store
        self.flows = flows
        self.wakeUp = wakeUp
        self.logger = logger
        batcher = EventBatcher(store: store)
    }

    public func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
        try await emit(key: "\(event.instance).\(event.trigger)", payload: event.payload, dedupKey: event.dedupKey, order: event.order)
    }

    /// Stores an event under a trigger key; flows whose `if:` rejects the event get no run.
    @discardableResult
    public func emit(key: String, payload: Value, dedupKey: String, order: EventOrder? = nil) async throws -> EmitOutcome {
        guard let ids = try await store(key: key, payload: payload, dedupKey: dedupKey, order: order) else { return .duplicate }
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

    /// Stores the event and its runs; `nil` for a duplicate.
    private func store(key: String, payload: Value, dedupKey: String, order: EventOrder?) async throws -> [String]? {
        let scope = Scope(values: ["event": payload])
        let runs = flows.flows(for: key).filter { flow in
            guard let condition = flow.condition else { return true }
            return (try? condition.evaluate(in: scope).isTruthy) ?? false
        }.map { NewRun(flow: $0.name, flowVersion: $0.version, order: order) }
        guard let ids = try await batcher.store(EventBatcher.Item(source: key, dedupKey: dedupKey, payload: payload, runs: runs)) else {
            duplicates.increment()
            return nil
        }
        accepted.increment()
        for flow in runs { MetricsCache.counter("hub_runs_started_total", [("flow", flow.flow)]).increment() }
        if !ids.isEmpty { wakeUp.signal() }
        return ids
    }

    /// Tells `hub.run_failed` flows, and the step's `on_error` flow, that a run failed for good.
    func reportFailure(_ failure: StepFailure, runID: String, event: Value, flow: Flow) async throws {
        // A failing error flow does not report itself, or one failure could feed a loop.
        if case .runFailed = flow.trigger { return }
        let payload: Value = ["flow": .string(flow.name), "run_id": .string(runID), "step": .string(failure.stepID),
                              "error": .string(failure.error.description), "event": event]
        let dedupKey = "\(runID):\(Store.now())"
        try await emit(key: "hub.run_failed", payload: payload, dedupKey: dedupKey)
        if let handler = failure.handler, let target = flows.flow(named: handler) {
            _ = try await store.storeEvent(source: "on_error:\(handler)", dedupKey: dedupKey, payload: payload,
                                           runs: [NewRun(flow: target.name, flowVersion: target.version)])
            wakeUp.signal()
        }
    }
}
