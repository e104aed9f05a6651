import Flows
import Logging
import Metrics
import ServiceLifecycle

/// Keeps the run history to `HUB_KEEP_RUNS`: soon after start, then every `interval`, deletes
/// the finished runs older than that (see `Store.pruneRuns`). Several hubs on one database may
/// each run one; a run deleted by one is simply not found by the other.
final class RunPruner: Service {
    let store: Store
    let keep: Duration
    /// The connector types whose records of deleted runs go too.
    let connectors: [any Connector.Type]
    let interval: Duration
    let logger: Logger
    private let pruned = Counter(label: "hub_runs_pruned_total")

    init(store: Store, keep: Duration, connectors: [any Connector.Type] = BuiltinConnectors.all, interval: Duration = .seconds(3600),
         logger: Logger)
    {
        self.store = store
        self.keep = keep
        self.connectors = connectors
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            // Start-up is busy enough (orphaned runs resume, connectors connect): prune a minute later.
            try await Task.sleep(for: min(.seconds(60), self.interval))
            while !Task.isCancelled {
                await self.pruneOnce()
                try await Task.sleep(for: self.interval)
            }
        }
    }

    /// One pass; a failure is logged and the next pass tries again.
    func pruneOnce() async {
        do {
            let result = try await store.pruneRuns(olderThan: keep, connectors: connectors)
            pruned.increment(by: result.runs)
            if result.runs > 0 || result.slots > 0 {
                logger.info("pruned finished runs", metadata: ["runs": "\(result.runs)", "events": "\(result.events)", "records": "\(result.records)",
                                                               "schedule_slots": "\(result.slots)",
                                                               "keep_hours": "\(keep.components.seconds / 3600)"])
            }
        } catch {
            logger.warning("cannot prune finished runs; will retry", metadata: ["error": "\(error)"])
        }
    }
}
