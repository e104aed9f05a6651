import Flows
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Claims due runs from the store and executes them, up to `concurrency` at once. Runs held by
/// a worker that died are claimed again when its lease runs out; on graceful shutdown the
/// worker finishes the runs in flight, gives back the rest, and returns.
public final class Worker: Service {
    let store: Store
    let flows: FlowRegistry
    let engine: Engine
    let intake: Intake
    let owner: String
    let concurrency: Int
    let lease: Duration
    let pollInterval: Duration
    let logger: Logger
    private let inFlight = Atomic<Int>(0)

    init(store: Store, flows: FlowRegistry, engine: Engine, intake: Intake, owner: String, concurrency: Int = 16,
         lease: Duration = .seconds(120), pollInterval: Duration = .seconds(1), logger: Logger)
    {
        self.store = store
        self.flows = flows
        self.engine = engine
        self.intake = intake
        self.owner = owner
        self.concurrency = concurrency
        self.lease = lease
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let free = concurrency - inFlight.load(ordering: .acquiring)
                guard free > 0 else {
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
                if claimed.isEmpty {
                    await intake.wakeUp.wait(timeout: pollInterval)
                    continue
                }
                for run in claimed {
                    inFlight.add(1, ordering: .acquiringAndReleasing)
                    group.addTask {
                        await self.execute(run)
                        self.inFlight.subtract(1, ordering: .acquiringAndReleasing)
                        self.intake.wakeUp.signal()
                    }
                }
            }
        }
        try? await store.release(owner: owner)
    }

    /// Runs one claimed run to its next stop: done, failed, or waiting for a retry.
    func execute(_ run: ClaimedRun) async {
        let metadata: Logger.Metadata = ["run.id": "\(run.id)", "flow.name": "\(run.flow)"]
        guard let flow = flows.flow(named: run.flow, version: run.flowVersion) else {
            logger.error("run's flow no longer exists", metadata: metadata)
            try? await store.finish(runID: run.id, owner: owner, status: .failed, error: "flow '\(run.flow)' no longer exists")
            return
        }
        do {
            let state = try await store.state(of: run)
            let journal = StoreJournal(store: store, owner: owner, lease: lease, flow: flow.name)
            switch try await engine.execute(flow, state: state, journal: journal) {
            case .completed:
                try await store.finish(runID: run.id, owner: owner, status: .completed)
                Counter(label: "hub_runs_finished_total", dimensions: [("flow", flow.name), ("status", "completed")]).increment()
            case .retry(let stepID, let delay, let error):
                logger.debug("step will be retried", metadata: metadata.merging(["step.id": "\(stepID)", "error": "\(error)"]) { a, _ in a })
                try await store.finish(runID: run.id, owner: owner, status: .queued, notBefore: Store.now() + delay.milliseconds)
            case .failed(let failure):
                logger.error("run failed", metadata: metadata.merging(["step.id": "\(failure.stepID)", "error": "\(failure.error)"]) { a, _ in a })
                try await store.finish(runID: run.id, owner: owner, status: .failed, failedStep: failure.stepID, error: failure.error.description)
                Counter(label: "hub_runs_finished_total", dimensions: [("flow", flow.name), ("status", "failed")]).increment()
                try await intake.reportFailure(failure, runID: run.id, event: state.event, flow: flow)
            }
        } catch {
            // The database went away or the lease was lost: leave the run for a later claim.
            logger.warning("run interrupted; it will be resumed", metadata: metadata.merging(["error": "\(error)"]) { a, _ in a })
            try? await store.finish(runID: run.id, owner: owner, status: .queued, notBefore: Store.now() + 5000)
        }
    }
}
