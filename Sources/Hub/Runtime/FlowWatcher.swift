import Dispatch
import Flows
import Foundation
import Logging
import ServiceLifecycle

/// Hot reload: when a flow file changes (checked every `interval`, or at once on SIGHUP) the
/// folder is checked again and, only if it is clean, swapped in atomically. An invalid change is
/// refused with its diagnostics; the old flows keep running. Runs in flight keep their version.
final class FlowWatcher: Service {
    let paths: [String]
    let catalog: Catalog
    let environment: [String: String]
    let flows: FlowRegistry
    let running: Set<String>
    let interval: Duration
    let logger: Logger
    private let hangup = WakeUp()

    init(paths: [String], catalog: Catalog, environment: [String: String], flows: FlowRegistry, running: Set<String>,
         interval: Duration = .seconds(2), logger: Logger)
    {
        self.paths = paths
        self.catalog = catalog
        self.environment = environment
        self.flows = flows
        self.running = running
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP)
        source.setEventHandler { [hangup] in hangup.signal() }
        source.resume()
        defer { source.cancel() }
        let fingerprint = Self.fingerprint(paths)
        try? await cancelWhenGracefulShutdown { try await self.watch(from: fingerprint) }
    }

    private func watch(from start: [String]) async throws {
        var fingerprint = start
        while !Task.isCancelled {
            await hangup.wait(timeout: interval)
            let current = Self.fingerprint(paths)
            guard current != fingerprint else { continue }
            fingerprint = current
            _ = reload()
        }
    }

    /// Checks the flows again and installs them if clean. Returns the diagnostics.
    @discardableResult
    func reload() -> [Diagnostic] {
        let set = FlowSet.load(paths: paths, catalog: catalog, environment: environment)
        var diagnostics = set.diagnostics
        diagnostics += HubRuntime.unavailableInstances(set.flows, running: running)
        if diagnostics.hasErrors {
            logger.error("flow change refused; the previous flows keep running",
                         metadata: ["diagnostics": "\(set.rendered())"])
            return diagnostics
        }
        flows.replace(with: set.flows)
        logger.notice("flows reloaded", metadata: ["count": "\(set.flows.count)"])
        return diagnostics
    }

    /// Names, sizes and modification times of the flow files: cheap to compare every few seconds.
    static func fingerprint(_ paths: [String]) -> [String] {
        paths.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
            let files = isDirectory.boolValue ? FlowSet.flowFiles(in: path) : [path]
            return files.map { file in
                let attributes = try? FileManager.default.attributesOfItem(atPath: file)
                let size = attributes?[.size] as? Int ?? -1
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                return "\(file)|\(size)|\(modified)"
            }
        }
    }
}
