import Flows
import Foundation
import Logging

/// Telegram Bot API: receives updates (long polling or a webhook), sends messages, hands a
/// paying client a join-request invite link, posts into the private group, relays support
/// chats to the operators.
///
/// One hub process per bot token receives updates: the owner of the database lease
/// `telegram:<bot id>`; the others stand by and take over when the lease runs out. Every
/// update is stored through `services.events` (dedup key = `update_id`) before Telegram is
/// told it was received. The bot token never leaves this type: it is not logged, not put
/// into errors and not stored.
public struct TelegramConnector: Connector {
    /// YAML keys of the config, declared once.
    enum Key {
        static let token = "token"
        static let apiURL = "api_url"
        static let groupID = "group_id"
        static let operatorsChatID = "operators_chat_id"
        static let mode = "mode"
        static let webhookPath = "webhook_path"
        static let webhookSecret = "webhook_secret"
        static let inviteTTL = "invite_ttl"
        static let paidBroadcast = "paid_broadcast"
    }

    let settings: TelegramSettings
    let api: TelegramAPI
    let effects: TelegramEffects
    let services: ConnectorServices
    /// Invite links are looked up, made and recorded one member at a time (see `invite`).
    let inviteCreation = KeyedSerialQueue()
    /// Identifies this instance as a lease owner; unique per process and start.
    let ownerID: String
    /// Lease and backoff pacing; tests shorten it.
    var timings = TelegramTimings()

    /// Reads and checks the config; the token is only kept in memory.
    public init(config: ConnectorConfig, services: ConnectorServices) throws {
        let settings = try TelegramSettings(config: config, publicURL: services.publicURL)
        self.settings = settings
        self.services = services
        let overall = settings.paidBroadcast ? TelegramRateLimiter<ContinuousClock>.paidBroadcast : TelegramRateLimiter<ContinuousClock>.overall
        let effects = TelegramEffects(database: services.database)
        let logger = services.logger
        api = TelegramAPI(http: services.http, apiURL: settings.apiURL, token: settings.token,
                          limiter: TelegramRateLimiter(clock: ContinuousClock(), overall: overall),
                          paidBroadcast: settings.paidBroadcast, logger: logger) { old, new in
            do { try await effects.rememberMove(from: old, to: new) } catch {
                logger.warning("telegram chat move not stored; this hub follows it until it restarts", metadata: ["error": "\(error)"])
            }
        }
        self.effects = effects
        ownerID = UUID().uuidString.lowercased()
    }

    /// Carries out one declared action.
    public func perform(_ call: ActionCall) async throws -> Value {
        switch call.action {
        case Self.sendMessageSpec.name: try await sendMessage(call)
        case Self.sendInviteSpec.name: try await sendInvite(call)
        case Self.createInviteSpec.name: try await createInvite(call)
        case Self.revokeInviteSpec.name: try await revokeInvite(call)
        case Self.approveJoinSpec.name: try await approveJoin(call)
        case Self.declineJoinSpec.name: try await declineJoin(call)
        case Self.removeMemberSpec.name: try await removeMember(call)
        case Self.postGroupSpec.name: try await postGroup(call)
        case Self.relayToOperatorsSpec.name: try await relayToOperators(call)
        case Self.copyMessageSpec.name: try await copyMessage(call)
        case Self.answerCallbackSpec.name: try await answerCallback(call)
        case Self.botInfoSpec.name: try await botInfo(call)
        default: throw ConnectorError.permanent("unknown-action", "telegram has no action '\(call.action)'")
        }
    }

    /// The webhook Telegram posts updates to, in webhook mode only.
    public var routes: [WebhookRoute] {
        guard settings.mode == .webhook else { return [] }
        return [WebhookRoute(method: "POST", path: settings.webhookPath) { request in await self.handleWebhook(request) }]
    }

    /// Idempotency records and the invite links the bot created.
    public static var migrations: [SchemaMigration] { TelegramEffects.migrations }

    public static func forgetRuns(_ runIDs: [String], in db: any SQLConnection, dialect: SQLDialect) throws -> Int {
        try TelegramEffects.forgetRuns(runIDs, in: db, dialect: dialect)
    }
}
