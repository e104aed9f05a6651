import Foundation
@testable import Hub
import Logging
import ServiceLifecycle
import Testing

/// `hub serve` stops as soon as it is told to: an idle worker does not wait out its poll for due runs.
@Suite struct WorkerShutdownTests {
    @Test("an idle worker returns at once on a graceful shutdown", arguments: TestDatabases.available)
    func idleWorkerStops(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            // An hour between polls: only the shutdown itself can end the worker's wait.
            let (_, worker) = try RunHandoffTests.setUp(store, capacity: 4, pollInterval: .seconds(3600))
            let group = ServiceGroup(configuration: .init(services: [worker], logger: Logger(label: "test")))
            let stopped = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    return true
                }
                tasks.addTask {
                    // Time for the first claim (nothing due) and the start of the idle wait.
                    try await Task.sleep(for: .milliseconds(300))
                    await group.triggerGracefulShutdown()
                    // Far more than a shutdown takes, far less than the poll interval.
                    try await Task.sleep(for: .seconds(30))
                    return false
                }
                let first = try await tasks.next() ?? false
                tasks.cancelAll()
                return first
            }
            #expect(stopped, "the worker was still waiting 30 s after the shutdown")
        }
    }
}
