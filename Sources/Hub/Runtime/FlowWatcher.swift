import Dispatch
import Flows
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Hot reload: when a flow file changes (checked every `interval`, or at once on SIGHUP) the
/// folder is checked again and, only if it is clean, swapped in atomically. An invalid change is
/// refused with its diagnostics; the old flows keep running. Runs in flight keep their version.
///
/// A change found by polling is installed only once the files have held still for a whole
/// interval: an editor saving by rename, `git pull` or a copy leaves a moment with a file
/// missing or half written, and installing that moment would drop a flow (a payment would be
/// acknowledged with no run to take it). SIGHUP is the admin saying "now" and reloads at once.
final class FlowWatcher: Service {
    let paths: [String]
    /// The catalog, environment and running instances flows are checked against; each version
    /// installed is archived first.
    let archive: FlowArchive
    let flows: FlowRegistry
    let interval: Duration
    let logger: Logger
    private let hangup = WakeUp()
    private let hungUp = Atomic<Bool>(false)

    init(paths: [String], archive: FlowArchive, flows: FlowRegistry, interval: Duration = .seconds(2), logger: Logger) {
        self.paths = paths
        self.archive = archive
        self.flows = flows
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP)
        source.setEventHandler { [self] in
            hungUp.store(true, ordering: .relaxed)
            hangup.signal()
        }
        source.resume()
        defer { source.cancel() }
        let fingerprint = Self.fingerprint(paths)
        try? await cancelWhenGracefulShutdown { try await self.watch(from: fingerprint) }
    }

    private func watch(from start: [String]) async throws {
        var loaded = start
        var previous = start
        while !Task.isCancelled {
            await hangup.wait(timeout: interval)
            let asked = hungUp.exchange(false, ordering: .relaxed)
            let current = Self.fingerprint(paths)
            defer { previous = current }
            guard current != loaded, current == previous || asked else { continue }
            if await reload(ifStill: current) { loaded = current }
        }
    }

    /// Checks the flows again and installs them if clean (and, given `expected`, if the files
    /// did not change while they were read). False when it should be tried again: the files
    /// moved on meanwhile, or the database could not archive the new versions.
    func reload(ifStill expected: [String]? = nil) async -> Bool {
        let set = FlowSet.load(paths: paths, catalog: archive.catalog, environment: archive.environment)
        if let expected, Self.fingerprint(paths) != expected {
            logger.info("flow files changed while being read; they are read again once they hold still")
            return false
        }
        let diagnostics = set.diagnostics + HubRuntime.unavailableInstances(set.flows, running: archive.running)
        if diagnostics.hasErrors {
            logger.error("flow change refused; the previous flows keep running",
                         metadata: ["diagnostics": "\(set.rendered())"])
            return true
        }
        do {
            try await archive.record(set)
        } catch {
            logger.warning("flow change waits: its versions cannot be archived yet", metadata: ["error": "\(error)"])
            return false
        }
        flows.replace(with: set.flows)
        logger.notice("flows reloaded", metadata: ["count": "\(set.flows.count)"])
        return true
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
