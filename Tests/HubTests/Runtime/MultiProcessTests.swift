import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// Two hub processes on one PostgreSQL database share the work without doing anything twice.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MultiProcessTests {
    @Test("two hubs on one Postgres: 1,000 events, each processed once",
          .enabled(if: TestDatabases.postgresURL != nil, "needs HUB_TEST_POSTGRES_URL"))
    func twoHubsShareTheQueue() async throws {
        let recorder = EffectRecorder()
        let server = try await EmulatorServer.start(recorder.router(), name: "effects")
        let folder = try FlowFolder(["effect.yaml": CrashTests.flow])
        defer { folder.remove() }
        try await TestDatabases.withURL(.postgres) { url in
            let environment = ["HUB_DATABASE_URL": url, "HUB_FLOWS": folder.flows, "EFFECT_URL": server.baseURL]
            let first = try HubProcess(environment: environment, workingDirectory: folder.root)
            let second = try HubProcess(environment: environment, workingDirectory: folder.root)
            let ports = [try await first.waitForPort(), try await second.waitForPort()]
            let total = 1000
            var acknowledged = 0
            for start in stride(from: 0, to: total, by: 20) {
                acknowledged += await withTaskGroup(of: Int.self) { group in
                    for n in start..<min(start + 20, total) {
                        group.addTask {
                            let status = await TestHTTP.postJSON("http://127.0.0.1:\(ports[n % 2])/hooks/pay", "{\"n\":\(n)}", key: "e\(n)")
                            return status == 202 ? 1 : 0
                        }
                    }
                    return await group.reduce(0, +)
                }
            }
            #expect(acknowledged == total)
            let store = try Store.open(url, poolSize: 1)
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline, try await store.runCounts()["completed"] != total {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await store.runCounts() == ["completed": total])
            await store.close()
            #expect(recorder.effects.count == total)
            #expect(recorder.deliveries.count == total, "no effect was delivered twice")
            first.kill(SIGTERM)
            second.kill(SIGTERM)
            #expect(try await first.waitForExit() == 0)
            #expect(try await second.waitForExit() == 0)
        }
        await server.stop()
    }
}
