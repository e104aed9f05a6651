import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// Nothing lost, nothing done twice: a child hub is SIGKILLed twice in the middle of a burst.
@Suite(.serialized, .timeLimit(.minutes(3))) struct CrashTests {
    static let flow = """
        name: effect
        on: { http: /hooks/pay }
        steps:
          - id: effect
            do: http.request
            retry: { attempts: 10, backoff: 100ms, max_delay: 1s }
            with:
              url: "${EFFECT_URL}/effects"
              json: { n: "{{ event.body.n }}" }
          - do: core.set
            with: { values: { done: "{{ effect.status }}" } }
        """

    @Test("SIGKILL twice during a burst of 500 events: each runs once, each effect happens once",
          arguments: TestDatabases.available)
    func killDuringBurst(kind: TestDatabaseKind) async throws {
        let recorder = EffectRecorder()
        let server = try await EmulatorServer.start(recorder.router(), name: "effects")
        let folder = try FlowFolder(["effect.yaml": Self.flow])
        defer { folder.remove() }
        try await TestDatabases.withURL(kind) { url in
            let environment = ["HUB_DATABASE_URL": url, "HUB_FLOWS": folder.flows, "EFFECT_URL": server.baseURL]
            let total = 500
            var acknowledged = Set<Int>()
            for round in 0..<3 {
                let hub = try HubProcess(environment: environment, workingDirectory: folder.root)
                let port = try await hub.waitForPort()
                let killAfter = round < 2 ? (round + 1) * total / 3 : Int.max
                // Send what is not acknowledged yet, 16 at a time, like a provider that retries.
                let pending = (0..<total).filter { !acknowledged.contains($0) }
                var index = 0
                while index < pending.count && acknowledged.count < killAfter {
                    let batch = pending[index..<min(index + 16, pending.count)]
                    index += batch.count
                    let results = await withTaskGroup(of: (Int, Int?).self) { group in
                        for n in batch {
                            group.addTask {
                                (n, await TestHTTP.postJSON("http://127.0.0.1:\(port)/hooks/pay", "{\"n\":\(n)}", key: "event-\(n)", timeout: 5))
                            }
                        }
                        return await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
                    }
                    for (n, status) in results where status == 202 || status == 200 { acknowledged.insert(n) }
                }
                if round < 2 {
                    hub.kill(SIGKILL)
                    _ = try await hub.waitForExit()
                } else {
                    #expect(acknowledged.count == total)
                    try await waitUntilAllCompleted(url: url, expected: total)
                    hub.kill(SIGTERM)
                    #expect(try await hub.waitForExit() == 0)
                }
            }
            let store = try Store.open(url, poolSize: 1)
            let events = try await store.database.query("SELECT COUNT(*) AS n FROM hub_events")
            let perEvent = try await store.database.query(
                "SELECT e.dedup_key, COUNT(r.id) AS runs, SUM(CASE WHEN r.status = 'completed' THEN 1 ELSE 0 END) AS done FROM hub_events e LEFT JOIN hub_runs r ON r.event_id = e.id GROUP BY e.dedup_key")
            await store.close()
            #expect(events.first?["n"]?.intValue == total)
            #expect(perEvent.count == total)
            #expect(perEvent.allSatisfy { $0["runs"]?.intValue == 1 && $0["done"]?.intValue == 1 })
            // Each run step's effect happened once at the API, keyed by run id + step id.
            let effects = recorder.effects
            #expect(effects.count == total)
            let bodies = Set(recorder.deliveries.compactMap { try? Value(json: $0.body)["n"]?.text })
            #expect(bodies.count == total)
            let repeated = recorder.deliveries.count - effects.count
            print("crash test (\(kind)): \(total) events, \(recorder.deliveries.count) deliveries, \(repeated) repeated deliveries absorbed by the idempotency key")
        }
        await server.stop()
    }

    private func waitUntilAllCompleted(url: String, expected: Int) async throws {
        let store = try Store.open(url, poolSize: 1)
        defer { Task { await store.close() } }
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let counts = try await store.runCounts()
            if counts["completed"] == expected { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("runs did not complete in time: \(try await store.runCounts())")
    }
}
