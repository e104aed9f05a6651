import Flows
import Foundation
@testable import Hub
import Logging
import Testing

/// Fresh runs go from intake straight to the hub's own worker: stored already leased to it,
/// executed without a claim; with no room (or no worker) they wait in the queue.
@Suite struct RunHandoffTests {
    static let flow = """
        name: noted
        on: { http: /noted }
        steps:
          - id: noted
            do: core.set
            with: { values: { n: "{{ event.body.n }}" } }
        """

    static func setUp(_ store: Store, capacity: Int, pollInterval: Duration = .seconds(1)) throws -> (Intake, Worker) {
        try WorkerHarness.make(store, flows: [Self.flow], owner: "test:1:handoff", capacity: capacity, pollInterval: pollInterval)
    }

    @Test("with room, a run is handed over and completes without any claim", arguments: TestDatabases.available)
    func handedOver(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            // Room for all ten, so none has to wait for another to finish.
            let (intake, worker) = try Self.setUp(store, capacity: 16)
            // The worker's claim loop never runs here: only a hand-off can execute the runs.
            intake.slots.accept(worker)
            for n in 0..<10 {
                #expect(try await intake.emit(key: "http:/noted", payload: ["body": ["n": .number(Double(n))]], dedupKey: "e\(n)") == .accepted(runs: 1))
            }
            try await Self.waitFor(store, ["completed": 10])
            let steps = try await store.database.query("SELECT result FROM hub_run_steps ORDER BY result")
            #expect(steps.count == 10)
            #expect(intake.slots.inFlight == 0)
        }
    }

    @Test("without a worker, or with every slot taken, runs wait in the queue", arguments: TestDatabases.available)
    func queuedWithoutRoom(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let (intake, worker) = try Self.setUp(store, capacity: 2)
            _ = try await intake.emit(key: "http:/noted", payload: ["body": ["n": 0]], dedupKey: "before")
            #expect(try await store.runCounts() == ["queued": 1])
            intake.slots.accept(worker)
            // Both slots taken (as by runs in flight): the next run is queued, not handed over.
            #expect(intake.slots.reserve() && intake.slots.reserve())
            _ = try await intake.emit(key: "http:/noted", payload: ["body": ["n": 1]], dedupKey: "full")
            #expect(try await store.runCounts() == ["queued": 2])
            let owners = try await store.database.query("SELECT COUNT(*) AS n FROM hub_runs WHERE lease_owner IS NOT NULL")
            #expect(owners.first?["n"]?.intValue == 0)
            intake.slots.release()
            intake.slots.release()
        }
    }

    static func waitFor(_ store: Store, _ counts: [String: Int]) async throws {
        for _ in 0..<500 {
            if try await store.runCounts() == counts { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await store.runCounts() == counts)
    }

    @Test("a body nested as deep as intake takes is resumed from the store too", arguments: TestDatabases.available)
    func deepBodyResumes(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let (intake, worker) = try Self.setUp(store, capacity: 4, pollInterval: .milliseconds(20))
            // 256 levels, as Value(json:) accepts from a request; stored under "body", one deeper.
            let text = String(repeating: "[", count: 255) + "{\"n\":7}" + String(repeating: "]", count: 255)
            let body = try Value(json: text)
            // No worker yet: the run waits in the queue and is later claimed and loaded from the store.
            #expect(try await intake.emit(key: "http:/noted", payload: ["body": body], dedupKey: "deep") == .accepted(runs: 1))
            let task = Task { try await worker.run() }
            try await Self.waitFor(store, ["completed": 1])
            task.cancel()
        }
    }

    @Test("a run whose stored event cannot be read is dead-lettered, not retried for ever", arguments: TestDatabases.available)
    func unreadableRunIsDeadLettered(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let (intake, worker) = try Self.setUp(store, capacity: 4, pollInterval: .milliseconds(20))
            #expect(try await intake.emit(key: "http:/noted", payload: ["body": ["n": 1]], dedupKey: "broken") == .accepted(runs: 1))
            try await store.database.execute("UPDATE hub_events SET payload = '{\"body\": [' WHERE dedup_key = 'broken'")
            let task = Task { try await worker.run() }
            try await Self.waitFor(store, ["failed": 1])
            task.cancel()
            let error = try await store.database.query("SELECT error FROM hub_runs").first?["error"]?.stringValue ?? ""
            #expect(error.contains("its stored event cannot be read: invalid JSON"))
        }
    }
}
