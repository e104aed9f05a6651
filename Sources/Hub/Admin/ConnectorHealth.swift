import Flows
import Foundation
import Logging

/// The health checks of every running connector instance that reports them
/// (`HealthReporting`), gathered concurrently, each instance bounded in time.
public struct ConnectorHealth: Sendable {
    /// One instance's checks.
    public struct Instance: Sendable {
        public var name: String
        public var type: String
        public var checks: [HealthCheck]
    }

    /// How long one instance may take before it counts as not answering.
    public static let timeout: Duration = .seconds(15)

    /// Asks every instance that reports health, at once; sorted by instance name.
    public static func survey(_ connectors: [String: any Connector], timeout: Duration = timeout) async -> [Instance] {
        await withTaskGroup(of: Instance?.self) { group in
            for (name, connector) in connectors {
                guard let reporter = connector as? any HealthReporting else { continue }
                let type = Swift.type(of: connector).spec.name
                group.addTask { Instance(name: name, type: type, checks: await checks(of: reporter, timeout: timeout)) }
            }
            var out: [Instance] = []
            for await instance in group { if let instance { out.append(instance) } }
            return out.sorted { $0.name < $1.name }
        }
    }

    /// The reporter's checks, or one error when it does not answer within `timeout`.
    static func checks(of reporter: any HealthReporting, timeout: Duration) async -> [HealthCheck] {
        await withTaskGroup(of: [HealthCheck]?.self) { group in
            group.addTask { await reporter.health() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? [.error("timeout", "no answer within \(timeout.components.seconds) s",
                                    russian: "Проверка не ответила за \(timeout.components.seconds) с.")]
        }
    }
}

/// The last survey, kept for `ttl` so the overview stays fast: one survey at a time however
/// many pages ask, an expired result served while the next survey runs, and a page never
/// waiting longer than it asks to (a service that does not answer must not stall the dashboard).
actor HealthCache {
    private let ttl: Duration
    private let survey: @Sendable () async -> [ConnectorHealth.Instance]
    private var current: (at: ContinuousClock.Instant, value: [ConnectorHealth.Instance])?
    private var running = false

    init(ttl: Duration = .seconds(60), survey: @escaping @Sendable () async -> [ConnectorHealth.Instance]) {
        self.ttl = ttl
        self.survey = survey
    }

    /// The fresh result; else the expired one while a new survey runs; else the new survey's
    /// result if it comes within `limit`, nil if not (it goes on and is kept for the next page).
    func value(waitingAtMost limit: Duration) async -> [ConnectorHealth.Instance]? {
        if let current, ContinuousClock.now - current.at < ttl { return current.value }
        if !running {
            running = true
            // Not tied to the page that started it: the result is for every page of the next minute.
            Task { [survey] in self.finish(await survey()) }
        }
        if let current { return current.value }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
            if let current { return current.value }
        }
        return nil
    }

    private func finish(_ value: [ConnectorHealth.Instance]) {
        current = (ContinuousClock.now, value)
        running = false
    }
}

extension ConnectorHealth {
    /// Connector instances built the way `hub serve` builds them, for a one-off health survey
    /// (`hub check --online`); they raise no events and run nothing in the background.
    public struct Standalone: Sendable {
        /// An instance that could not be built, and why (in English).
        public struct Problem: Sendable {
            public var name: String
            public var type: String
            public var message: String
            /// A flow uses it, so `hub serve` would refuse to start.
            public var needed: Bool
        }

        public var connectors: [String: any Connector] = [:]
        public var problems: [Problem] = []
    }

    /// Builds every instance of `catalog` that reports health; `needed` names the instances flows use.
    public static func standalone(catalog: Catalog, settings: HubSettings, needed: Set<String>, database: (any SQLDatabase)?,
                                  http: any HTTPClient = CurlHTTPClient()) -> Standalone
    {
        var out = Standalone()
        var logger = Logger(label: "hub.check")
        // The survey reports what went wrong; connector logs would say it twice.
        logger.logLevel = .critical
        for name in catalog.instanceNames {
            guard let instance = catalog.instance(name), let type = catalog.registry.type(named: instance.spec.name),
                  type is any HealthReporting.Type else { continue }
            let missing = instance.missingSettings(environment: settings.environment)
            if !missing.isEmpty {
                let fields = missing.map { field in "'\(field.name)'" + (field.environment.map { " (\($0))" } ?? "") }.joined(separator: ", ")
                out.problems.append(.init(name: name, type: instance.spec.name, message: "not configured: \(fields) missing", needed: needed.contains(name)))
                continue
            }
            let services = ConnectorServices(instance: name, logger: logger, database: database, http: http, events: NoEvents(), publicURL: settings.publicURL)
            do {
                out.connectors[name] = try type.init(config: instance.config(environment: settings.environment), services: services)
            } catch {
                out.problems.append(.init(name: name, type: instance.spec.name, message: "cannot start: \(error)", needed: true))
            }
        }
        return out
    }

    /// A survey receives nothing; an event reaching here is a bug, refused rather than lost silently.
    struct NoEvents: EventSink {
        func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
            throw ConnectorError.permanent("no-intake", "a health survey does not receive events")
        }
    }
}
