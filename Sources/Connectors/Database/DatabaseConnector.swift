import Flows
import Foundation
import Logging

/// The funnel's data in the hub's own database (SQLite or PostgreSQL): members, payments,
/// Telegram invites and support threads, plus the admin's named SQL queries.
///
/// Every action is safe to call twice with the same inputs (a resumed run does): registrations
/// match by phone or e-mail, payments by our order number, invites by their link.
public struct DatabaseConnector: Connector {
    /// Type `database`, default instance `db`; one action per file (`DatabaseConnector+MarkPaid.swift`).
    public static let spec = ConnectorSpec(
        name: "database",
        summary: "The sales funnel's members, payments and Telegram invites in the hub's database, and the admin's named SQL queries.",
        defaultInstance: "db",
        config: [
            .optional(Key.queries, .object,
                      "named SQL the 'query' and 'exec' actions run: name → SQL text with $1…$n placeholders, e.g. { paid_today: \"SELECT … WHERE paid_at > $1\" }"),
            .optional(Key.orderPrefix, .string, "the prefix of our order numbers", default: .string(OrderNumber.defaultPrefix)),
        ],
        actions: [
            upsertMemberSpec, markPaidSpec, findMemberSpec, bindTelegramSpec, recordInviteSpec,
            checkJoinSpec, markJoinedSpec, markLeftSpec, querySpec, execSpec,
            supportThreadSpec, supportLogSpec, setSupportModeSpec, supportClientForSpec,
        ]
    )

    /// The `funnel_*` tables, applied by the hub under the component name "database".
    public static var migrations: [SchemaMigration] { [FunnelSchema.initial, FunnelSchema.support, FunnelSchema.memberSearch, FunnelSchema.revokedInvites, FunnelSchema.supportChat, FunnelSchema.leftAt, FunnelSchema.orderTokens] }

    let database: any SQLDatabase
    /// The admin's named queries, by name.
    let queries: [String: String]
    let orderPrefix: String
    /// The hub's public base URL, for links to the dashboard.
    let publicURL: String
    let logger: Logger

    /// Builds the instance; throws when the hub has no database or a named query is not SQL text.
    public init(config: ConnectorConfig, services: ConnectorServices) throws {
        guard let database = services.database else {
            throw ConnectorError.permanent("no-database", "the database connector needs the hub's database, and none was handed to '\(services.instance)'")
        }
        var queries: [String: String] = [:]
        for (name, sql) in config[Key.queries]?.objectValue ?? [:] {
            guard let text = sql.stringValue, !text.trimmed.isEmpty else {
                throw ConnectorError.permanent("bad-config", "query '\(name)' of '\(services.instance)' must be SQL text, found \(sql.typeName)")
            }
            queries[name] = text
        }
        self.database = database
        self.queries = queries
        self.orderPrefix = config.get(Key.orderPrefix) ?? OrderNumber.defaultPrefix
        self.publicURL = services.publicURL
        self.logger = services.logger
    }

    /// Runs one declared action; bad input is a permanent `ConnectorError`, an unreachable or busy database a retryable one.
    public func perform(_ call: ActionCall) async throws -> Value {
        let inputs = call.inputs
        switch call.action {
        case Self.upsertMemberSpec.name: return try await upsertMember(inputs, key: call.idempotencyKey)
        case Self.markPaidSpec.name: return try await markPaid(inputs)
        case Self.findMemberSpec.name: return try await findMember(inputs)
        case Self.bindTelegramSpec.name: return try await bindTelegram(inputs)
        case Self.recordInviteSpec.name: return try await recordInvite(inputs)
        case Self.checkJoinSpec.name: return try await checkJoin(inputs)
        case Self.markJoinedSpec.name: return try await markJoined(inputs)
        case Self.markLeftSpec.name: return try await markLeft(inputs)
        case Self.querySpec.name: return try await runQuery(inputs)
        case Self.execSpec.name: return try await runExec(inputs)
        case Self.supportThreadSpec.name: return try await supportThread(inputs)
        case Self.supportLogSpec.name: return try await supportLog(call)
        case Self.setSupportModeSpec.name: return try await setSupportMode(call)
        case Self.supportClientForSpec.name: return try await supportClientFor(inputs)
        default:
            throw ConnectorError.permanent("unknown-action", "the database connector has no action '\(call.action)'")
        }
    }
}

extension DatabaseConnector {
    /// Runs `body` in one transaction, turning database failures into connector errors.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        do {
            return try await database.transaction(body)
        } catch let error as SQLError {
            throw Self.connectorError(error)
        }
    }

    /// Runs a read on a connection of its own: no transaction, so SQLite's write lock is not taken.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        do {
            return try await database.withConnection(body)
        } catch let error as SQLError {
            throw Self.connectorError(error)
        }
    }

    /// Retrying helps only when the database was unreachable or busy; anything else would fail the same way again.
    static func connectorError(_ error: SQLError) -> ConnectorError {
        switch error.kind {
        case .unavailable, .busy:
            return ConnectorError(code: "database", "the database is unavailable or busy: \(error.message)", .retry)
        case .uniqueViolation:
            // The server's detail names the duplicate value (a phone, an e-mail): keep it out of run errors.
            return .permanent("database", "a row with the same unique value already exists (\(error.code))")
        case .other:
            return .permanent("database", error.description)
        }
    }

    /// Milliseconds since 1970: every time column uses this.
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

extension Value {
    /// An epoch-millisecond or whole-number parameter.
    static func int(_ value: Int64) -> Value { .number(Double(value)) }

    /// A whole number from a row, whichever way the database returned it.
    var int64: Int64? { intValue.map(Int64.init) }
}
