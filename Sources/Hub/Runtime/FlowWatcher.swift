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
/// acknowledged with no run to take it). SIGHUP is the admin saying "now" and reloads at once,
/// whether or not the files look changed (a file made readable, an edit that kept its size and time).
final class FlowWatcher: Service {
    let paths: [String]
    /// The catalog, environment and running instances flows are checked against; each version
    /// installed is archived first.
    let archive: FlowArchive
    let flows: FlowRegistry
    /// Where an instance's missing settings are reported, as at start-up.
    let configPath: String
    /// The files' fingerprint when the running flows were read; nil: as they are when watching starts.
    let loaded: [String]?
    let interval: Duration
    let logger: Logger
    private let hangup = WakeUp()
    private let hungUp = Atomic<Bool>(false)

    init(paths: [String], archive: FlowArchive, flows: FlowRegistry, configPath: String = "hub.yaml", loaded: [String]? = nil,
         interval: Duration = .seconds(2), logger: Logger)
    {
        self.paths = paths
        self.archive = archive
        self.flows = flows
        self.configPath = configPath
        self.loaded = loaded
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP)
        source.setEventHandler { [self] in hangUp() }
        source.resume()
        defer { source.cancel() }
        let fingerprint = loaded ?? Self.fingerprint(paths)
        try? await cancelWhenGracefulShutdown { try await self.watch(from: fingerprint) }
    }

    /// What SIGHUP does: reload at once, whatever the files look like.
    func hangUp() {
        hungUp.store(true, ordering: .relaxed)
        hangup.signal()
    }

    private func watch(from start: [String]) async throws {
        var loaded = start
        var previous = start
        var asked = false
        while !Task.isCancelled {
            await hangup.wait(timeout: interval)
            // A SIGHUP stays asked until its reload is done (not when the files moved meanwhile).
            asked = hungUp.exchange(false, ordering: .relaxed) || asked
            let current = Self.fingerprint(paths)
            defer { previous = current }
            guard asked || (current != loaded && current == previous) else { continue }
            if await reload(ifStill: current) {
                loaded = current
                asked = false
            }
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
        let diagnostics = set.diagnostics
            + HubRuntime.unconfiguredInstances(set.flows, catalog: archive.catalog, environment: archive.environment, configPath: configPath)
        if diagnostics.hasErrors {
            let rendered = diagnostics.map { $0.rendered(source: set.sources[$0.location.file]) }.joined(separator: "\n")
            logger.error("flow change refused; the previous flows keep running", metadata: ["diagnostics": "\(rendered)"])
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

    /// Names, sizes, modification times, file numbers and permissions of the flow files: cheap
    /// to compare every few seconds. A link is followed, so an edit of its target counts, and so
    /// does a `chmod` that makes a file readable.
    static func fingerprint(_ paths: [String]) -> [String] {
        paths.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
            let files = isDirectory.boolValue ? FlowSet.flowFiles(in: path) : [path]
            return files.map { file in
                let target = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
                let attributes = try? FileManager.default.attributesOfItem(atPath: target)
                let size = attributes?[.size] as? Int ?? -1
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                let number = attributes?[.systemFileNumber].map { "\($0)" } ?? "-"
                let permissions = attributes?[.posixPermissions].map { "\($0)" } ?? "-"
                return "\(file)|\(target)|\(size)|\(modified)|\(number)|\(permissions)"
            }
        }
    }
}
