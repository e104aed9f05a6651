import Flows
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The composition root: opens the store, checks config and flows, starts connector
/// instances, and runs the server, workers, scheduler and flow watcher as one service group.
public final class HubRuntime: Sendable {
    public let settings: HubSettings
    public let store: Store
    public let flows: FlowRegistry
    public let intake: Intake
    public let connectors: [String: any Connector]
    let catalog: Catalog
    let logger: Logger
    let clock: any WallClock
    let ownerID: String
    /// The flow files as they were when read at start-up (see `FlowWatcher`).
    let flowsFingerprint: [String]

    /// Everything `hub serve` needs, checked; throws `StartupError` with diagnostics when the config or flows are invalid.
    public init(settings: HubSettings, registry: ConnectorRegistry = BuiltinConnectors.registry, http: any HTTPClient = CurlHTTPClient(),
                clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "hub")) async throws
    {
        _ = HubMetrics.registry  // metrics created before the bootstrap would go nowhere
        self.settings = settings
        self.logger = logger
        self.clock = clock
        ownerID = "\(HubRuntime.host):\(getpid()):\(UUID().uuidString.prefix(8))"

        let (catalog, configDiagnostics, configSource) = settings.catalog(registry: registry)
        // Taken before reading, so the watcher installs an edit made while the flows were read.
        flowsFingerprint = FlowWatcher.fingerprint([settings.flowsPath])
        let set = FlowSet.load(paths: [settings.flowsPath], catalog: catalog, environment: settings.environment)
        var sources = set.sources
        sources[settings.configPath] = configSource
        let needed = HubRuntime.instancesUsed(by: set.flows)
        let diagnostics = configDiagnostics + set.diagnostics
            + HubRuntime.unconfiguredInstances(set.flows, catalog: catalog, environment: settings.environment, configPath: settings.configPath)
        guard !diagnostics.hasErrors else { throw StartupError(diagnostics: diagnostics.sortedByLocation, sources: sources) }
        for warning in diagnostics { logger.warning("\(warning.headline)") }
        self.catalog = catalog

        store = try Store.open(settings.databaseURL)
        try await store.migrate(connectors: Array(registry.types.values))
        let orphans = try await store.releaseOrphans(host: HubRuntime.host) { pid in kill(pid, 0) == 0 || errno != ESRCH }
        if orphans > 0 { logger.notice("resuming runs of a hub that stopped abruptly", metadata: ["count": "\(orphans)"]) }
        try await FlowArchive(store: store, catalog: catalog, environment: settings.environment, running: []).record(set)
        flows = FlowRegistry(set.flows)
        intake = Intake(store: store, flows: flows, owner: ownerID, writeTimeout: settings.intakeTimeout, logger: logger)

        var connectors: [String: any Connector] = [:]
        for name in catalog.instanceNames {
            let instance = catalog.instance(name)!
            // Connectors no flow uses and that cannot be configured stay off, so a partial setup still runs.
            if !needed.contains(name) && !instance.missingSettings(environment: settings.environment).isEmpty { continue }
            guard let type = registry.type(named: instance.spec.name) else { continue }
            var connectorLogger = logger
            connectorLogger[metadataKey: "connector"] = "\(name)"
            let services = ConnectorServices(instance: name, logger: connectorLogger, database: store.database, http: http,
                                             events: intake, publicURL: settings.publicURL)
            do {
                connectors[name] = try type.init(config: instance.config(environment: settings.environment), services: services)
            } catch {
                throw StartupError(diagnostics: [.error(at: instance.location ?? SourceLocation(file: settings.configPath, line: 1, column: 1),
                                                        "connector '\(name)' cannot start: \(error)", code: "connector-failed")], sources: sources)
            }
        }
        self.connectors = connectors
    }

    /// This machine's name, without colons (they separate the parts of a worker's id).
    static let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: ":", with: "_")

    /// The connector instances flows use: in their steps, and the one raising their trigger.
    static func instancesUsed(by flows: [Flow]) -> Set<String> {
        Set(flows.flatMap { flow in flow.steps.map(\.instance) + (flow.trigger.instance.map { [$0] } ?? []) })
    }

    /// Instances flows use that lack required settings, so they cannot run. Start-up refuses
    /// them, and a reload refuses them in the same words: a flow on such an instance would never
    /// fire, and the next start would refuse the folder.
    static func unconfiguredInstances(_ flows: [Flow], catalog: Catalog, environment: [String: String], configPath: String) -> [Diagnostic] {
        instancesUsed(by: flows).sorted().compactMap { name in
            guard let instance = catalog.instance(name) else { return nil }
            let missing = instance.missingSettings(environment: environment)
            guard !missing.isEmpty else { return nil }
            return .error(at: instance.location ?? SourceLocation(file: configPath, line: 1, column: 1),
                          "connector '\(name)' is not configured: " + missing.map { "'\($0.name)'" }.joined(separator: ", ") + " missing",
                          code: "unconfigured", notes: missing.compactMap { $0.environment.map { "set \($0) in the environment" } })
        }
    }

    /// Instances that flows use but that are not running here.
    static func unavailableInstances(_ flows: [Flow], running: Set<String>) -> [Diagnostic] {
        flows.flatMap { flow in
            flow.steps.filter { !running.contains($0.instance) }.map {
                Diagnostic.error(at: $0.location, "connector '\($0.instance)' is not running (not configured)", code: "unconfigured")
            }
        }
    }

    /// Runs until SIGTERM/SIGINT: then stops intake, finishes or releases runs in flight, and returns.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let engine = Engine(connectors: connectors, logger: logger)
        let archive = FlowArchive(store: store, catalog: catalog, environment: settings.environment, running: Set(connectors.keys))
        let worker = Worker(store: store, flows: flows, engine: engine, intake: intake, archive: archive, logger: logger)
        let scheduler = Scheduler(store: store, flows: flows, wakeUp: intake.wakeUp, clock: clock, logger: logger)
        let watcher = FlowWatcher(paths: [settings.flowsPath], archive: archive, flows: flows, configPath: settings.configPath,
                                  loaded: flowsFingerprint, logger: logger)
        let admin = AdminDashboard(
            store: store, flows: flows, connectors: connectors,
            connectorStates: catalog.instanceNames.map { name in
                AdminDashboard.ConnectorState(name: name, type: catalog.instance(name)?.spec.name ?? name, running: connectors[name] != nil)
            },
            specs: catalog.registry.specs, publicURL: settings.publicURL, keepRuns: settings.keepRuns,
            wakeUp: { [intake] in intake.wakeUp.signal() }, logger: logger)
        try await admin.prepare(adminPassword: settings.adminPassword)
        let server = HTTPServer(intake: intake, flows: flows, store: store, connectorRoutes: connectors.values.flatMap(\.routes), admin: admin,
                                metricsToken: settings.metricsToken)
        let app = Application(
            router: server.router(),
            // A connection that sends nothing for this long is closed, even in the middle of a
            // request: a client that stalls would otherwise hold its socket (and the stop) for ever.
            server: .http1(configuration: .init(idleTimeout: HTTPServer.idleTimeout)),
            configuration: .init(address: .hostname(settings.listenHost, port: settings.listenPort), serverName: "session-hub"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let pruner = settings.keepRuns.map { keep in
            [RunPruner(store: store, keep: keep, connectors: Array(catalog.registry.types.values), logger: logger)]
        } ?? []
        let connectorServices = connectors.map { name, connector in ConnectorService(name: name, connector: connector, logger: logger) }
        // The group stops services in reverse order: the server (intake) first, the workers last.
        let group = ServiceGroup(
            configuration: .init(services: [worker, scheduler, watcher] as [any Service] + pruner + connectorServices
                                     + [BoundedStop(service: app, limit: HTTPServer.stopLimit, logger: logger)],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await store.close()
    }
}

/// A connector's long-running work (`Connector.run`) as a service; a failure is logged, never a crash.
struct ConnectorService: Service {
    let name: String
    let connector: any Connector
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await connector.run() }
        } catch is CancellationError {
        } catch {
            logger.error("connector stopped", metadata: ["connector": "\(name)", "error": "\(error)"])
        }
        // A service that returns early would stop the whole group; wait for the shutdown instead.
        try? await gracefulShutdown()
    }
}

/// The config or flows are invalid: the hub refuses to start and shows why.
public struct StartupError: Error, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var sources: [String: String]

    public var description: String {
        diagnostics.map { $0.rendered(source: sources[$0.location.file]) }.joined(separator: "\n")
    }
}

extension Trigger {
    /// The connector instance that raises this trigger, if any.
    var instance: String? { if case .event(let instance, _) = self { instance } else { nil } }
}
