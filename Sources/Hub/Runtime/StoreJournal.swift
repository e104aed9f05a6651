import Flows
import Foundation
import Metrics
import Synchronization

/// Records each step's outcome in the store as the engine reports it, renewing the worker's lease.
/// Also times steps: the engine calls the journal right after each one.
///
/// A step whose action leaves the outside world alone (`hasSideEffects: false`, or skipped by its
/// `if:`) is not written on its own: its record waits for the run's next write (a step with side
/// effects, a failure, or the finish). A run of pure steps then costs one write, not one per step;
/// after a crash such steps simply run again, which changes nothing outside.
final class StoreJournal: RunJournal {
    let store: Store
    let owner: String
    let lease: Duration
    let flow: String
    /// Whether a step's action has no side effects.
    let isPure: @Sendable (Step) -> Bool
    private let clock = ContinuousClock()
    private let last: Mutex<ContinuousClock.Instant>
    private let waiting = Mutex<[StepOutcome]>([])

    init(store: Store, owner: String, lease: Duration, flow: String, isPure: @escaping @Sendable (Step) -> Bool) {
        self.store = store
        self.owner = owner
        self.lease = lease
        self.flow = flow
        self.isPure = isPure
        self.last = Mutex(ContinuousClock().now)
    }

    func stepFinished(runID: String, step: Step, index: Int, result: Value, skipped: Bool) async throws {
        if !skipped { time(step) }
        let outcome = StepOutcome.finished(step.id, index: index, result: result, skipped: skipped)
        if skipped || isPure(step) {
            waiting.withLock { $0.append(outcome) }
            return
        }
        try await store.recordSteps(runID: runID, owner: owner, lease: lease, takeWaiting() + [outcome])
    }

    func stepFailed(runID: String, step: Step, index: Int, attempt: Int, error: ConnectorError) async throws {
        time(step)
        MetricsCache.counter("hub_step_failures_total", [("flow", flow), ("step", step.id), ("code", error.code)]).increment()
        try await store.recordSteps(runID: runID, owner: owner, lease: lease, takeWaiting() + [.failed(step.id, index: index, error: error.description)])
    }

    /// Finishes the run together with the records still waiting.
    func finish(runID: String, status: RunStatus, notBefore: Int64? = nil, failedStep: String? = nil, error: String? = nil) async throws {
        try await store.finish(runID: runID, owner: owner, status: status, notBefore: notBefore, failedStep: failedStep, error: error,
                               steps: takeWaiting())
    }

    private func takeWaiting() -> [StepOutcome] {
        waiting.withLock { waiting in
            defer { waiting.removeAll() }
            return waiting
        }
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
