import Flows
import Foundation
@testable import Hub
import Logging
import Testing

/// Polling reloads only files that held still: a flow file missing for a moment (an editor saving
/// by rename, `git pull`) is never installed as "no flow", which would acknowledge events with no run.
@Suite(.serialized, .timeLimit(.minutes(1))) struct FlowWatcherTests {
    static func flow(_ path: String, message: String = "hi") -> String {
        "name: \(path.dropFirst())\non: { http: \(path) }\nsteps:\n  - do: core.log\n    with: { message: \(message) }\n"
    }

    static func watcher(_ folder: FlowFolder, _ registry: FlowRegistry, _ store: Store) -> FlowWatcher {
        let archive = FlowArchive(store: store, catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:], running: ["core"])
        return FlowWatcher(paths: [folder.flows], archive: archive, flows: registry, interval: .milliseconds(300), logger: Logger(label: "test.watcher"))
    }

    @Test func aFileMissingForAMomentIsNeverInstalledAsNoFlow() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in try await missingForAMoment(store) }
    }

    func missingForAMoment(_ store: Store) async throws {
        let folder = try FlowFolder(["payment.yaml": Self.flow("/pay"), "other.yaml": Self.flow("/other")])
        defer { folder.remove() }
        let registry = FlowRegistry(FlowSet.load(paths: [folder.flows], catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:]).flows)
        let watcher = Self.watcher(folder, registry, store)
        let task = Task { try await watcher.run() }
        defer { task.cancel() }
        let file = URL(fileURLWithPath: folder.flows).appendingPathComponent("payment.yaml")
        let aside = URL(fileURLWithPath: folder.flows).appendingPathComponent("payment.yaml.swp")
        var missing = 0
        // Six saves by rename, each leaving the file away for half a poll interval.
        for _ in 0..<6 {
            try FileManager.default.moveItem(at: file, to: aside)
            for _ in 0..<15 {
                if registry.flows(for: "http:/pay").isEmpty { missing += 1 }
                try await Task.sleep(for: .milliseconds(10))
            }
            try FileManager.default.moveItem(at: aside, to: file)
            for _ in 0..<30 {
                if registry.flows(for: "http:/pay").isEmpty { missing += 1 }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        #expect(missing == 0)
    }

    @Test func aChangeThatHoldsStillIsInstalled() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in try await holdsStill(store) }
    }

    func holdsStill(_ store: Store) async throws {
        let folder = try FlowFolder(["payment.yaml": Self.flow("/pay")])
        defer { folder.remove() }
        let registry = FlowRegistry(FlowSet.load(paths: [folder.flows], catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:]).flows)
        let watcher = Self.watcher(folder, registry, store)
        let task = Task { try await watcher.run() }
        defer { task.cancel() }
        try await Task.sleep(for: .milliseconds(100))
        try folder.write("payment.yaml", Self.flow("/paid"))
        try folder.write("new.yaml", Self.flow("/new"))
        for _ in 0..<100 where registry.flows(for: "http:/new").isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(registry.flows(for: "http:/paid").count == 1)
        #expect(registry.flows(for: "http:/new").count == 1)
        #expect(registry.flows(for: "http:/pay").isEmpty)
        // A file removed for good goes once it has stayed away.
        try FileManager.default.removeItem(atPath: folder.flows + "/new.yaml")
        for _ in 0..<100 where !registry.flows(for: "http:/new").isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(registry.flows(for: "http:/new").isEmpty)
    }

    /// Start-up refuses a flow whose trigger's connector cannot run; a reload refuses it too, in
    /// the same words, instead of installing a flow that never fires and a folder the next start refuses.
    @Test func aFlowWhoseTriggerConnectorIsNotRunningIsRefusedAsAtStartUp() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in try await triggerNotRunning(store) }
    }

    func triggerNotRunning(_ store: Store) async throws {
        let paid = "name: paid\non: prodamus.paid\nsteps:\n  - do: core.log\n    with: { message: paid }\n"
        let started = try FlowFolder(["paid.yaml": paid])
        defer { started.remove() }
        try "connectors: {}\n".write(to: started.root.appendingPathComponent("hub.yaml"), atomically: true, encoding: .utf8)
        let settings = try HubSettings(environment: ["HUB_FLOWS": started.flows, "HUB_CONFIG": started.root.appendingPathComponent("hub.yaml").path])
        var startUp: StartupError?
        do { _ = try await HubRuntime(settings: settings) } catch let error as StartupError { startUp = error }
        let refusal = try #require(startUp?.diagnostics.first { $0.code == "unconfigured" })

        let folder = try FlowFolder(["hook.yaml": Self.flow("/pay")])
        defer { folder.remove() }
        let registry = FlowRegistry(FlowSet.load(paths: [folder.flows], catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:]).flows)
        let lines = HubLogHandlerTests.Lines()
        let archive = FlowArchive(store: store, catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:], running: ["core"])
        let watcher = FlowWatcher(paths: [folder.flows], archive: archive, flows: registry, interval: .milliseconds(300),
                                  logger: Logger(label: "test.watcher") { HubLogHandler(label: $0, level: .info, stream: lines) })
        try folder.write("paid.yaml", paid)
        #expect(await watcher.reload())
        let logged = lines.written.withLock { $0 }.joined()
        #expect(logged.contains("flow change refused"))
        #expect(logged.contains("error: \(refusal.message) [unconfigured]"), "\(logged)")
        #expect(registry.flows(for: "prodamus.paid").isEmpty)
        #expect(registry.flows(for: "http:/pay").count == 1)
    }

    /// SIGHUP reloads whatever the files look like: here a linked flow's target is rewritten in
    /// place with the same size and modification time, which polling cannot see.
    @Test func sighupReloadsALinkedFlowWhoseTargetChanged() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in try await linkedTarget(store) }
    }

    func linkedTarget(_ store: Store) async throws {
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        let target = folder.root.appendingPathComponent("payment.yaml")
        try Self.flow("/pay").write(to: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: folder.flows + "/payment.yaml", withDestinationPath: target.path)
        let registry = FlowRegistry(FlowSet.load(paths: [folder.flows], catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:]).flows)
        #expect(registry.flows(for: "http:/pay").count == 1)
        let watcher = Self.watcher(folder, registry, store)
        let task = Task { try await watcher.run() }
        defer { task.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: target.path)[.modificationDate] as? Date)
        let handle = try FileHandle(forWritingTo: target)
        try handle.write(contentsOf: Data(Self.flow("/paz").utf8))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: target.path)
        // What the SIGHUP handler does (the signal itself is process-wide, and other tests' hubs
        // in this process may be set up to hear it too).
        watcher.hangUp()
        for _ in 0..<250 where registry.flows(for: "http:/paz").isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(registry.flows(for: "http:/paz").count == 1)
        #expect(registry.flows(for: "http:/pay").isEmpty)
    }
}
