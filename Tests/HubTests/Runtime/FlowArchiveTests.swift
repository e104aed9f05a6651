import Flows
import Foundation
@testable import Hub
import Testing

/// A run goes on under the flow version it began with, also after a restart or on another hub,
/// where that version is no longer in memory: steps named by position would otherwise shift
/// under an edit, and a step already done would run again.
@Suite(.timeLimit(.minutes(1))) struct FlowArchiveTests {
    static let before = """
        name: greet
        on: { http: /greet }
        steps:
          - do: core.set
            with: { values: { said: hello } }
          - do: core.set
            with: { values: { said: goodbye } }
        """
    /// The edit: a step added at the top, so the two above are step2 and step3 now.
    static let after = """
        name: greet
        on: { http: /greet }
        steps:
          - do: core.set
            with: { values: { said: welcome } }
          - do: core.set
            with: { values: { said: hello } }
          - do: core.set
            with: { values: { said: goodbye } }
        """

    static func archive(_ store: Store, running: Set<String> = ["core", "http"]) -> FlowArchive {
        FlowArchive(store: store, catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:], running: running)
    }

    /// Stores a run of `before` whose first step is done, as a hub that stopped would leave it.
    static func interruptedRun(_ store: Store) async throws -> String {
        let set = FlowSet.compile([("greet.yaml", before)], catalog: Catalog.defaults(BuiltinConnectors.registry))
        try await archive(store).record(set)
        let version = try #require(set.flows.first).version
        let id = try #require(try await store.storeEvent(source: "http:/greet", dedupKey: "one", payload: ["body": [:]],
                                                         runs: [NewRun(flow: "greet", flowVersion: version)])?.first)
        try await store.database.execute("""
            INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, updated_at)
            VALUES ($1, 'step1', 0, 'completed', 0, '{"said":"hello"}', 0)
            """, [.string(id)])
        return id
    }

    static func results(_ store: Store, _ id: String) async throws -> [String] {
        try await store.database.query("SELECT result FROM hub_run_steps WHERE run_id = $1 ORDER BY step_index", [.string(id)])
            .compactMap { $0["result"]?.stringValue }
    }

    @Test("resumed under the edited flow's hub, the run finishes its own version: hello is not said twice", arguments: TestDatabases.available)
    func resumesItsOwnVersion(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let id = try await Self.interruptedRun(store)
            let (_, worker) = try WorkerHarness.make(store, flows: [Self.after], owner: "test:2:archive", capacity: 2,
                                                     pollInterval: .milliseconds(20), archive: Self.archive(store))
            let task = Task { try await worker.run() }
            try await RunHandoffTests.waitFor(store, ["completed": 1])
            task.cancel()
            #expect(try await Self.results(store, id) == [#"{"said":"hello"}"#, #"{"said":"goodbye"}"#])
        }
    }

    @Test("a version that cannot run here any more is a dead letter saying why, not a run of another version")
    func anUnrunnableVersionIsADeadLetter() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            let id = try await Self.interruptedRun(store)
            let (_, worker) = try WorkerHarness.make(store, flows: [Self.after], owner: "test:3:archive", capacity: 2,
                                                     pollInterval: .milliseconds(20), archive: Self.archive(store, running: ["http"]))
            let task = Task { try await worker.run() }
            try await RunHandoffTests.waitFor(store, ["failed": 1])
            task.cancel()
            let error = try await store.database.query("SELECT error FROM hub_runs WHERE id = $1", [.string(id)]).first?["error"]?.stringValue
            #expect(error?.contains("of flow 'greet' no longer compiles here") == true, "\(error ?? "")")
            #expect(error?.contains("connector 'core' is not running") == true)
            #expect(try await Self.results(store, id) == [#"{"said":"hello"}"#])
        }
    }
}
