import Flows
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Claims due runs from the store and executes them, as many at once as its slots allow. Runs held by
/// a worker that died are claimed again when its lease runs out; on graceful shutdown the
/// worker finishes the runs in flight, gives back the rest, and returns.
public final class Worker: Service {
    let store: Store
    let flows: FlowRegistry
    let engine: Engine
    let intake: Intake
    /// Where versions no longer in memory are found (after a restart, or another hub's edit).
    let archive: FlowArchive?
    var owner: String { intake.lease.owner }
    var lease: Duration { intake.lease.duration }
    let pollInterval: Duration
    let logger: Logger
    private var slots: RunSlots { intake.slots }
    /// The runs executing here now, claimed or handed over: the heartbeat renews their leases.
    private let executing = Mutex<Set<String>>([])

    init(store: Store, flows: FlowRegistry, engine: Engine, intake: Intake, archive: FlowArchive? = nil, pollInterval: Duration = .seconds(1),
         logger: Logger)
    {
        self.store = store
        self.flows = flows
        self.engine = engine
        self.intake = intake
        self.archive = archive
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        slots.accept(self)
        // The idle wait below lasts up to `pollInterval`: a shutdown wakes it instead of waiting it out.
        let heartbeat = Task { await self.renewLeases() }
        await withGracefulShutdownHandler { await self.claimAndExecute() } onGracefulShutdown: { [intake] in intake.wakeUp.signal() }
        // Runs handed over by intake are not in the group: wait for them (and for reservations
        // being stored) before the leases still held go back to the queue.
        slots.accept(nil)
        let deadline = ContinuousClock.now + lease
        // In a task of its own: cancelled (another service failed), this task's sleeps would return
        // at once and the wait would spin a core for up to a lease.
        await Task { [slots] in
            while slots.inFlight > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        }.value
        heartbeat.cancel()
        // A run still executing keeps its lease, to run out unrenewed: given back now, another hub
        // could take it while its step here may still send a message or make a payment link.
        try? await store.release(owner: owner, except: executing.withLock { Array($0) })
    }

    /// Every third of a lease, extends the leases of the runs executing here, so none runs out
    /// while its step is still at work. Only these runs: a run this worker failed to give back
    /// (the database was away) must still expire and be resumed.
    private func renewLeases() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: lease / 3)
            let runs = executing.withLock { Array($0) }
            guard !runs.isEmpty, !Task.isCancelled else { continue }
            do {
                try await store.renewLeases(runs, owner: owner, lease: lease)
            } catch {
                logger.warning("cannot renew the leases of running runs", metadata: ["error": "\(error)", "runs": "\(runs.count)"])
            }
        }
    }

    /// Claims runs as slots free up and executes each in a task of its own, until the shutdown.
    private func claimAndExecute() async {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let free = slots.free
                guard free > 0 else {
                    // Runs may be queued behind the full worker: look again when a slot frees.
                    slots.markBacklog()
                    await intake.wakeUp.wait(timeout: pollInterval)
                    continue
                }
                let claimed: [ClaimedRun]
                do {
                    claimed = try await store.claim(owner: owner, limit: free, lease: lease)
                } catch {
                    logger.warning("cannot claim runs; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                slots.take(claimed.count)
                for run in claimed {
                    group.addTask {
                        await self.execute(run, state: nil)
                        self.slots.release()
                    }
                }
                // Fewer than asked for: the queue is drained until the next signal.
                if claimed.count < free { await intake.wakeUp.wait(timeout: pollInterval) }
            }
        }
    }

    /// Runs one run to its next stop: done, failed, or waiting for a retry. A run claimed from
    /// the store has no `state` yet: its event and finished steps are loaded first.
    func execute(_ run: ClaimedRun, state: RunState?) async {
        let metadata: Logger.Metadata = ["run.id": "\(run.id)", "flow.name": "\(run.flow)"]
        // Claimed again while it still executes here (its lease ran out while the database was
        // away, so the heartbeat could not renew it): the execution in progress goes on alone.
        guard executing.withLock({ $0.insert(run.id).inserted }) else {
            logger.warning("run claimed again while it executes here; left to the execution in progress", metadata: metadata)
            return
        }
        defer { _ = executing.withLock { $0.remove(run.id) } }
        do {
            let flow = try await flow(for: run)
            let state = if let state { state } else { try await store.state(of: run) }
            if let stale = try await pastGrace(run, flow: flow, state: state) {
                logger.warning("scheduled run not started: its slot is past its grace", metadata: metadata.merging(["error": "\(stale)"]) { a, _ in a })
                // A failure like any other: `hub.run_failed` flows hear that the day's link did not go out.
                let failure = StepFailure(flow: flow.name, stepID: flow.steps.first?.id ?? "", error: .permanent("past-grace", stale),
                                          attempts: 0, handler: nil)
                try await intake.reportFailure(failure, run: run, event: state.event, flow: flow)
                try await store.finish(runID: run.id, owner: owner, status: .failed, error: stale)
                MetricsCache.counter("hub_runs_finished_total", [("flow", flow.name), ("status", "failed")]).increment()
                return
            }
            let specs = engine.specs
            let journal = StoreJournal(store: store, owner: owner, lease: lease, flow: flow.name) { step in
                specs[step.instance]?.action(step.action)?.hasSideEffects == false
            }
            switch try await engine.execute(flow, state: state, journal: journal) {
            case .completed:
                try await journal.finish(runID: run.id, status: .completed)
                MetricsCache.counter("hub_runs_finished_total", [("flow", flow.name), ("status", "completed")]).increment()
            case .retry(let stepID, let delay, let error):
                logger.debug("step will be retried", metadata: metadata.merging(["step.id": "\(stepID)", "error": "\(error)"]) { a, _ in a })
                try await journal.finish(runID: run.id, status: .queued, notBefore: Store.now() + delay.milliseconds)
            case .failed(let failure):
                logger.error("run failed", metadata: metadata.merging(["step.id": "\(failure.stepID)", "error": "\(failure.error)"]) { a, _ in a })
                // Reported before the run is marked failed: if storing the report fails, the run is
                // still held and goes back to the queue below, so the report is made later rather
                // than never, and only once: its key is the run's and its re-plays'.
                try await intake.reportFailure(failure, run: run, event: state.event, flow: flow)
                try await journal.finish(runID: run.id, status: .failed, failedStep: failure.stepID, error: failure.error.description)
                MetricsCache.counter("hub_runs_finished_total", [("flow", flow.name), ("status", "failed")]).increment()
            }
        } catch let error as HubError where Self.unresumable.contains(error.code) {
            // Waiting will not make it readable: a dead letter, not a retry every 5 s for ever.
            logger.error("run cannot be resumed", metadata: metadata.merging(["error": "\(error)"]) { a, _ in a })
            try? await store.finish(runID: run.id, owner: owner, status: .failed, error: error.message)
        } catch {
            // The database went away or the lease was lost: leave the run for a later claim.
            logger.warning("run interrupted; it will be resumed", metadata: metadata.merging(["error": "\(error)"]) { a, _ in a })
            try? await store.finish(runID: run.id, owner: owner, status: .queued, notBefore: Store.now() + 5000)
        }
    }

    /// Errors that waiting does not cure: the run becomes a dead letter.
    static let unresumable: Set = ["unreadable-run", "no-flow", "flow-version"]

    /// The flow version the run began with: in memory, else restored from the archive. Only a run
    /// stored before versions were archived goes on under the current version of its flow.
    private func flow(for run: ClaimedRun) async throws -> Flow {
        if let flow = flows.flow(named: run.flow, version: run.flowVersion) { return flow }
        switch try await archive?.restore(name: run.flow, version: run.flowVersion) {
        case .success(let flow)?:
            flows.remember(flow)
            return flow
        case .failure(let error)?:
            throw error
        case nil:
            guard let current = flows.flow(named: run.flow) else { throw HubError(code: "no-flow", "flow '\(run.flow)' no longer exists") }
            logger.warning("run's flow version is not archived; it goes on under the current version",
                           metadata: ["run.id": "\(run.id)", "flow.name": "\(run.flow)"])
            return current
        }
    }
}
