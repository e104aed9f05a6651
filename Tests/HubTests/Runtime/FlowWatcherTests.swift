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
}
