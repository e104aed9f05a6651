import Emulators
import Foundation
@testable import Hub
import Hummingbird
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

    @Test("a run still executing when the shutdown stops waiting keeps its lease: no other hub takes it while its step may still act",
          arguments: TestDatabases.available)
    func aRunStillExecutingIsNotGivenBack(kind: TestDatabaseKind) async throws {
        let router = Router()
        router.post("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(4))
            return "done"
        }
        let server = try await EmulatorServer.start(router, name: "slow")
        defer { Task { await server.stop() } }
        try await StoreRunTests.withStore(kind) { store in
            let flow = """
                name: slow
                on: { http: /slow }
                steps:
                  - id: call
                    do: http.request
                    with: { url: "\(server.baseURL)/slow" }
                """
            // A one-second lease: the shutdown waits that long for runs handed over by intake.
            let (intake, worker) = try WorkerHarness.make(store, flows: [flow], owner: "test:1:shutdown", lease: .seconds(1), capacity: 4,
                                                          pollInterval: .seconds(3600))
            let group = ServiceGroup(configuration: .init(services: [worker], logger: Logger(label: "test")))
            let running = Task { try await group.run() }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await intake.emit(key: "http:/slow", payload: [:], dedupKey: "slow") == .accepted(runs: 1))
            try await Task.sleep(for: .milliseconds(300))
            await group.triggerGracefulShutdown()
            try await running.value
            // The worker has returned; the run's step is still waiting for its answer.
            let row = try #require(try await store.database.query("SELECT status, lease_owner FROM hub_runs").first)
            #expect(row["status"] == "running")
            #expect(row["lease_owner"] == "test:1:shutdown")
            try await Task.sleep(for: .seconds(4))
        }
    }
}
