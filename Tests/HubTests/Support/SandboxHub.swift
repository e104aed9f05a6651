import Emulators
import Flows
import Foundation
@testable import Hub

/// A child hub on SQLite with the repository's flows, wired to the sandbox's emulators exactly as
/// `hub serve` wires them when no credentials are set.
struct SandboxHub {
    static let adminPassword = "sandbox admin password"

    let sandbox: Sandbox
    let folder: FlowFolder
    let hub: HubProcess
    let url: String
    let database: String
    let environment: [String: String]

    /// Starts a sandbox and a hub; in `folder`, the database of an earlier one's, as a newcomer
    /// who stops `swift run hub` and starts it again in the same directory.
    static func start(in folder: FlowFolder? = nil) async throws -> SandboxHub {
        let port = TestHTTP.freePort()
        let url = "http://127.0.0.1:\(port)"
        let sandbox = try await Sandbox.start(siteURL: url)
        let folder = try folder ?? FlowFolder([:])
        for file in FlowSet.flowFiles(in: Repository.path("flows")) {
            try folder.write(URL(fileURLWithPath: file).lastPathComponent, String(contentsOfFile: file, encoding: .utf8))
        }
        let database = folder.root.appendingPathComponent("hub.db").path
        var environment = sandbox.environment
        environment.merge([
            "HUB_DATABASE_URL": "sqlite:" + database, "HUB_FLOWS": folder.flows, "HUB_LISTEN": "127.0.0.1:\(port)",
            "HUB_PUBLIC_URL": url, "HUB_ADMIN_PASSWORD": adminPassword,
        ]) { _, new in new }
        let hub = try HubProcess(environment: environment, workingDirectory: folder.root)
        _ = try await hub.waitForPort()
        return SandboxHub(sandbox: sandbox, folder: folder, hub: hub, url: url, database: database, environment: environment)
    }

    /// `hub run FLOW` against the same database, as an admin would type it.
    func runNow(_ flow: String) async throws -> Int32 {
        try await HubProcess(environment: environment, workingDirectory: folder.root, arguments: ["run", flow]).waitForExit()
    }

    /// Stops the hub (asserting a clean exit is the caller's business) and the emulators; the
    /// folder with the database goes too unless it is kept for another start.
    func stop(keepingFolder: Bool = false) async throws -> Int32 {
        hub.kill(SIGTERM)
        let status = try await hub.waitForExit()
        await sandbox.stop()
        if !keepingFolder { folder.remove() }
        return status
    }
}
