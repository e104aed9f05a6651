import Logging
import ServiceLifecycle

/// A service whose graceful stop may take at most `limit`. The HTTP server's stop waits for the
/// requests in progress, and a client that sends half a request and then a byte now and then (or
/// nothing, until the idle timeout) would hold the whole hub's stop; past the limit its remaining
/// requests are cancelled and their connections closed, and the rest of the hub stops as usual.
struct BoundedStop: Service {
    let service: any Service
    let limit: Duration
    let logger: Logger

    func run() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await service.run()
                return true
            }
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: limit)
                return false
            }
            // The first to finish decides: the service (stopped in time, or failed), or the limit.
            if try await group.next() == false {
                logger.warning("requests still in progress when the stop's limit passed; closing their connections", metadata: ["limit": "\(limit)"])
            }
            group.cancelAll()
            // What the cancelled one throws (a CancellationError) is the cancellation's own doing.
            while (try? await group.next()) != nil {}
        }
    }
}
