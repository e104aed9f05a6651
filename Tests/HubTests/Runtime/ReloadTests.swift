import Flows
import Foundation
@testable import Hub
import Testing

/// Hot reload: valid changes are swapped in, invalid ones refused while the old flows keep running.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReloadTests {
    static func flow(_ path: String) -> String {
        "name: \(path.dropFirst())\non: { http: \(path) }\nsteps:\n  - do: core.log\n    with: { message: hi }\n"
    }

    @Test func changedFlowsAreCheckedThenSwappedIn() async throws {
        let folder = try FlowFolder(["a.yaml": Self.flow("/a")])
        defer { folder.remove() }
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": "sqlite:" + folder.root.appendingPathComponent("hub.db").path,
                                               "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        let port = try await hub.waitForPort()
        let base = "http://127.0.0.1:\(port)"
        #expect(await TestHTTP.postJSON(base + "/a", "{}") == 202)
        #expect(await TestHTTP.postJSON(base + "/b", "{}") == 404)

        try folder.write("b.yaml", Self.flow("/b"))
        hub.kill(SIGHUP)
        #expect(try await Self.eventually { await TestHTTP.postJSON(base + "/b", "{}") == 202 })

        // A broken file is refused with its diagnostics; /a and /b keep working.
        try folder.write("c.yaml", "name: c\non: { http: /c }\nsteps:\n  - do: core.lgo\n")
        hub.kill(SIGHUP)
        #expect(try await Self.eventually { hub.stderr.contains("unknown action 'core.lgo'") })
        #expect(await TestHTTP.postJSON(base + "/a", "{}") == 202)
        #expect(await TestHTTP.postJSON(base + "/c", "{}") == 404)

        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
    }

    @Test func serveRefusesToStartOnInvalidFlows() async throws {
        let folder = try FlowFolder(["bad.yaml": "on: db.payd\nsteps: []\n"])
        defer { folder.remove() }
        let hub = try HubProcess(environment: ["HUB_DATABASE_URL": "sqlite:" + folder.root.appendingPathComponent("hub.db").path,
                                               "HUB_FLOWS": folder.flows], workingDirectory: folder.root)
        #expect(try await hub.waitForExit() == 1)
        #expect(hub.stderr.contains("bad.yaml:1:8: error: unknown trigger 'db.payd' [unknown-trigger]"))
        #expect(hub.stderr.contains("bad.yaml:2:8: error: the flow has no steps [empty-steps]"))
        #expect(hub.stderr.contains("refusing to start"))
    }

    static func eventually(_ condition: () async -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
