import Emulators
import Flows
import Foundation
@testable import Hub
import Logging
import ServiceLifecycle
import Testing

/// A step that takes longer than a lease: the worker executing it keeps renewing the run's
/// lease, so no worker (another hub's, or its own) claims the run again and repeats the step.
@Suite(.timeLimit(.minutes(1))) struct LeaseHeartbeatTests {
    static let flow = """
        name: slow
        on: { http: /slow }
        steps:
          - id: call
            do: http.request
            with:
              url: "${EFFECT_URL}/slow"
              json: { n: 1 }
          - do: core.set
            with: { values: { status: "{{ call.status }}" } }
        """

    /// A hub's intake and worker on `store`, with a short lease and a fast poll.
    static func hub(_ store: Store, owner: String, lease: Duration, environment: [String: String]) throws -> (Intake, Worker) {
        try WorkerHarness.make(store, flows: [Self.flow], environment: environment, owner: owner, lease: lease, capacity: 4,
                               pollInterval: .milliseconds(50))
    }

    @Test("a call of 1.5 s under a lease of 300 ms is made once, with a second hub polling", arguments: TestDatabases.available)
    func slowStepRunsOnce(kind: TestDatabaseKind) async throws {
        let recorder = EffectRecorder()
        recorder.delayAnswers(by: .milliseconds(1500))
        let server = try await EmulatorServer.start(recorder.router(), name: "effects")
        defer { Task { await server.stop() } }
        try await StoreRunTests.withStore(kind) { store in
            let environment = ["EFFECT_URL": server.baseURL]
            let (intake, first) = try Self.hub(store, owner: "test:1:first", lease: .milliseconds(300), environment: environment)
            let (_, second) = try Self.hub(store, owner: "test:2:second", lease: .milliseconds(300), environment: environment)
            let group = ServiceGroup(configuration: .init(services: [first, second], logger: Logger(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // Both workers are claiming before the event arrives.
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await intake.emit(key: "http:/slow", payload: ["body": [:]], dedupKey: "one") == .accepted(runs: 1))
                for _ in 0..<400 where try await store.runCounts() != ["completed": 1] { try await Task.sleep(for: .milliseconds(10)) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await store.runCounts() == ["completed": 1])
            #expect(recorder.deliveries.count == 1)
        }
    }
}
