import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Hub
import Testing

/// `/metrics`: the Prometheus figures of a running hub, behind `HUB_METRICS_TOKEN` when one is set
/// (the counts per flow are the business's sales figures).
@Suite(.serialized, .timeLimit(.minutes(2))) struct MetricsEndpointTests {
    /// One pure step behind `http: /noted`.
    static let flow = RunHandoffTests.flow

    @Test func metricsCountRunsPerFlowAndAskForTheTokenWhenOneIsSet() async throws {
        let folder = try FlowFolder(["noted.yaml": Self.flow])
        defer { folder.remove() }
        let database = "sqlite:" + folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows, "HUB_METRICS_TOKEN": "scrape-TOKEN-77"],
                                 workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        let base = "http://127.0.0.1:\(port)"
        for n in 0..<3 { #expect(await TestHTTP.postJSON(base + "/noted", #"{"n":\#(n)}"#, key: "k\(n)") == 202) }
        let store = try Store.open(database, poolSize: 1)
        for _ in 0..<100 where try await store.runCounts() != ["completed": 3] { try await Task.sleep(for: .milliseconds(50)) }
        await store.close()

        func metrics(_ authorization: String?) async throws -> (status: Int, body: String, challenge: String?) {
            var request = URLRequest(url: URL(string: base + "/metrics")!)
            if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "WWW-Authenticate"))
        }
        for refused in [nil, "Bearer wrong", "scrape-TOKEN-77", "Basic c2NyYXBlLVRPS0VOLTc3"] {
            let answer = try await metrics(refused)
            #expect(answer.status == 401, "\(refused ?? "no header")")
            #expect(answer.challenge == "Bearer")
            #expect(!answer.body.contains("hub_runs"))
        }
        let scraped = try await metrics("Bearer scrape-TOKEN-77")
        #expect(scraped.status == 200)
        #expect(scraped.body.contains(#"hub_runs_started_total{flow="noted"} 3"#), "\(scraped.body)")
        #expect(scraped.body.contains(#"hub_runs_finished_total{flow="noted",status="completed"} 3"#))
        #expect(scraped.body.contains(#"hub_events_total{outcome="accepted"} 3"#))
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
    }

    @Test func withoutATokenMetricsAreServedToAnyone() async throws {
        let folder = try FlowFolder(["noted.yaml": Self.flow])
        defer { folder.remove() }
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": "sqlite:" + folder.root.appendingPathComponent("hub.db").path,
                                               "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        let answer = try #require(await TestHTTP.get("http://127.0.0.1:\(port)/metrics"))
        #expect(answer.status == 200)
        #expect(answer.body.contains("# TYPE hub_events_total counter"), "\(answer.body)")
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
    }
}
