import Flows
import Foundation
import Metrics
import Synchronization

/// Records each step's outcome in the store as the engine reports it, renewing the worker's lease.
/// Also times steps: the engine calls the journal right after each one.
final class StoreJournal: RunJournal {
    let store: Store
    let owner: String
    let lease: Duration
    let flow: String
    private let clock = ContinuousClock()
    private let last: Mutex<ContinuousClock.Instant>

    init(store: Store, owner: String, lease: Duration, flow: String) {
        self.store = store
        self.owner = owner
        self.lease = lease
        self.flow = flow
        self.last = Mutex(ContinuousClock().now)
    }

    func stepFinished(runID: String, step: Step, index: Int, result: Value, skipped: Bool) async throws {
        if !skipped { time(step) }
        try await store.recordStep(runID: runID, owner: owner, lease: lease, stepID: step.id, index: index, result: result, skipped: skipped)
    }

    func stepFailed(runID: String, step: Step, index: Int, attempt: Int, error: ConnectorError) async throws {
        time(step)
        MetricsCache.counter("hub_step_failures_total", [("flow", flow), ("step", step.id), ("code", error.code)]).increment()
        try await store.recordStepFailure(runID: runID, owner: owner, lease: lease, stepID: step.id, index: index, error: error.description)
    }

    private func time(_ step: Step) {
        let now = clock.now
        let elapsed = last.withLock { previous in
            defer { previous = now }
            return previous.duration(to: now)
        }
        MetricsCache.timer("hub_step_duration_seconds", [("flow", flow), ("step", step.id)]).record(duration: elapsed)
    }
}
