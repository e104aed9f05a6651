import Flows
import Foundation

/// The deployment's settings, from the environment variables every deployment and test harness share.
public struct HubSettings: Sendable {
    /// `postgres://…` (any libpq URI or key=value string) or `sqlite:PATH`.
    public var databaseURL: String
    public var listenHost: String
    public var listenPort: Int
    /// The public base URL, without a trailing slash.
    public var publicURL: String
    public var flowsPath: String
    /// `hub.yaml`, when present.
    public var configPath: String
    public var adminPassword: String?
    /// `HUB_KEEP_RUNS`: how long finished runs stay (`90d`); nil (unset, or `forever`) keeps them all.
    public var keepRuns: Duration?
    /// `HUB_INTAKE_TIMEOUT`: how long a webhook waits for PostgreSQL before it is answered 503 (`10s`).
    public var intakeTimeout: Duration
    /// `HUB_METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>`.
    public var metricsToken: String?
    public var environment: [String: String]

    public static let defaultDatabaseURL = "sqlite:hub.db"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.environment = environment
        databaseURL = environment["HUB_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? HubSettings.defaultDatabaseURL
        let listen = environment["HUB_LISTEN"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:8080"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw HubError(code: "bad-setting", "HUB_LISTEN must be HOST:PORT, e.g. 127.0.0.1:8080")
        }
        listenHost = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        listenPort = port
        let publicURL = environment["HUB_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://\(listen)"
        // Prodamus and Telegram are given URLs under it: without a scheme and host they lead nowhere.
        guard let parsed = URL(string: publicURL), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
              !(parsed.host ?? "").isEmpty else {
            throw HubError(code: "bad-setting", "HUB_PUBLIC_URL must be the hub's address as clients reach it, e.g. https://hub.example.ru")
        }
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        flowsPath = environment["HUB_FLOWS"].flatMap { $0.isEmpty ? nil : $0 } ?? "flows"
        configPath = environment["HUB_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "hub.yaml"
        adminPassword = environment["HUB_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        keepRuns = try HubSettings.keepRuns(environment["HUB_KEEP_RUNS"])
        metricsToken = environment["HUB_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        intakeTimeout = .seconds(10)
        if let text = environment["HUB_INTAKE_TIMEOUT"], !text.isEmpty {
            // Under a second refuses webhooks a busy database would have taken; past two minutes the provider gave up already.
            guard let timeout = FlowCompiler.duration(text), timeout >= .seconds(1), timeout <= .seconds(120) else {
                throw HubError(code: "bad-setting", "HUB_INTAKE_TIMEOUT must be a duration from 1s to 120s (e.g. 10s), not '\(text)'")
            }
            intakeTimeout = timeout
        }
    }

    /// The shortest `HUB_KEEP_RUNS`: a failed run stays long enough to be looked at and retried,
    /// and a number meant as days but read as seconds (`90`) cannot wipe the history.
    public static let minimumKeep = Duration.seconds(7 * 86400)

    /// A `HUB_KEEP_RUNS` value (`setting` names it in the error).
    public static func keepRuns(_ text: String?, setting: String = "HUB_KEEP_RUNS") throws -> Duration? {
        guard let text, !text.isEmpty, text != "forever" else { return nil }
        guard let keep = FlowCompiler.duration(text), keep >= minimumKeep else {
            throw HubError(code: "bad-setting", "\(setting) must be a duration of at least \(minimumKeep.components.seconds / 86400) days (e.g. 90d, or 2160h) or 'forever', not '\(text)'")
        }
        return keep
    }

    /// The connector instances: `hub.yaml` when it exists, else every built-in under its default name.
    /// A file `HUB_CONFIG` names that is not there, or a file that cannot be read, is an error:
    /// carrying on with the defaults would run the hub with other settings than the admin wrote.
    public func catalog(registry: ConnectorRegistry) -> (catalog: Catalog, diagnostics: [Diagnostic], source: String?) {
        let start = SourceLocation(file: configPath, line: 1, column: 1)
        guard FileManager.default.fileExists(atPath: configPath) else {
            let named = !(environment["HUB_CONFIG"] ?? "").isEmpty
            return (Catalog.defaults(registry), named ? [.error(at: start, "no such file (HUB_CONFIG names it)", code: "missing-file")] : [], nil)
        }
        guard let data = FileManager.default.contents(atPath: configPath), let text = String(data: data, encoding: .utf8) else {
            return (Catalog.defaults(registry), [.error(at: start, "cannot read the file as UTF-8 text", code: "unreadable-file")], nil)
        }
        var compiler = FlowCompiler(catalog: Catalog(registry: registry), environment: environment)
        let (catalog, diagnostics) = compiler.compileConfig(text, file: configPath)
        return (catalog, diagnostics, text)
    }
}

extension HubSettings {
    /// The connector instances for a command that acts on them: `hub.yaml`'s errors stop it, as
    /// they stop `hub serve`, instead of leaving it to act on other instances than the hub's.
    /// A secret not set in this shell is no such error: these commands never use its value.
    public func checkedCatalog(registry: ConnectorRegistry) throws -> Catalog {
        let (catalog, diagnostics, source) = catalog(registry: registry)
        let errors = diagnostics.filter { $0.severity == .error && $0.code != "missing-env" }
        guard errors.isEmpty else {
            throw StartupError(diagnostics: errors, sources: source.map { [configPath: $0] } ?? [:])
        }
        return catalog
    }
}

extension HubSettings {
    /// The database for messages: the SQLite path, or the Postgres host and database without credentials.
    public var databaseDescription: String {
        if databaseURL.hasPrefix("sqlite:") { return databaseURL }
        if let url = URL(string: databaseURL), let host = url.host { return "postgres \(host)\(url.path)" }
        return "postgres"
    }
}
