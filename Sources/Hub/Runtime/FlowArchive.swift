import Flows
import Foundation

/// Every flow version a run was stored under, kept in the database with its text, so a run
/// resumed after a restart, or by another hub, goes on under the version it began with.
///
/// Taking the current version instead would be wrong: steps without an `id` are named by
/// position, so a step added above them renames them, and a run resumed under the edited flow
/// would find no record of what it already did and do it again (a second message).
public struct FlowArchive: Sendable {
    let store: Store
    let catalog: Catalog
    let environment: [String: String]
    /// The connector instances this hub runs: a version using another cannot run here.
    let running: Set<String>

    public init(store: Store, catalog: Catalog, environment: [String: String], running: Set<String>) {
        self.store = store
        self.catalog = catalog
        self.environment = environment
        self.running = running
    }

    /// Keeps the text of each flow of `set` under its version. Called before a set is installed,
    /// so no run is stored under a version the database does not hold.
    public func record(_ set: FlowSet) async throws {
        let rows: [[Value]] = set.flows.compactMap { flow in
            set.sources[flow.file].map { [.string(flow.version), .string(flow.name), .string(flow.file), .string($0), .millis(Store.now())] }
        }
        guard !rows.isEmpty else { return }
        try await store.database.transaction { db in
            for row in rows {
                try db.execute("""
                    INSERT INTO hub_flow_versions (version, name, file, source, created_at) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (version) DO NOTHING
                    """, row)
            }
        }
    }

    /// The flow `name` as it was at `version`, compiled again from its stored text; nil when the
    /// database does not hold that version (runs stored before versions were kept).
    func restore(name: String, version: String) async throws -> Result<Flow, HubError>? {
        guard let row = try await store.database.query("SELECT name, file, source FROM hub_flow_versions WHERE version = $1",
                                                       [.string(version)]).first,
              let source = row["source"]?.stringValue, row["name"]?.stringValue == name
        else { return nil }
        var compiler = FlowCompiler(catalog: catalog, environment: environment)
        let (flow, diagnostics) = compiler.compile(source, file: row["file"]?.stringValue ?? "\(name).yaml")
        let problems = diagnostics.filter { $0.severity == .error } + HubRuntime.unavailableInstances(flow.map { [$0] } ?? [], running: running)
        guard let flow, flow.version == version, problems.isEmpty else {
            let reasons = problems.map(\.headline).joined(separator: "; ")
            return .failure(HubError(code: "flow-version", "version \(version) of flow '\(name)' no longer compiles here: \(reasons)"))
        }
        return .success(flow)
    }
}
