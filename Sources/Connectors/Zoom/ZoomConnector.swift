import Flows
import Foundation
import Logging

/// Zoom: creates the day's meeting through the REST API (Server-to-Server OAuth) and hands out
/// its participant link, or hands out a standing meeting link for shops without a Zoom app.
///
/// `create_meeting` is idempotent per run step: the meeting is stored by the call's
/// idempotency key before the step returns, so retries and resumed runs get the same meeting.
/// The host link (`start_url`) is never returned, stored or logged; neither is the client
/// secret or an access token.
public struct ZoomConnector: Connector {
    /// YAML keys of the config, declared once.
    enum Key {
        static let accountID = "account_id"
        static let clientID = "client_id"
        static let clientSecret = "client_secret"
        static let apiURL = "api_url"
        static let oauthURL = "oauth_url"
        static let host = "host"
        static let meetingURL = "meeting_url"
        static let timezone = "timezone"
    }

    let settings: ZoomSettings
    /// Nil when the API credentials are not configured.
    let api: ZoomAPI?
    let meetings: ZoomMeetings
    let now: @Sendable () -> Date

    /// Reads and checks the config; the client secret is only kept in memory.
    public init(config: ConnectorConfig, services: ConnectorServices) throws {
        try self.init(config: config, services: services, now: { Date() })
    }

    /// With the clock injected, so tests can let tokens age without waiting.
    init(config: ConnectorConfig, services: ConnectorServices, now: @escaping @Sendable () -> Date) throws {
        let settings = try ZoomSettings(config: config)
        self.settings = settings
        self.now = now
        meetings = ZoomMeetings(database: services.database)
        if let credentials = settings.credentials {
            let auth = ZoomAuth(http: services.http, oauthURL: settings.oauthURL, credentials: credentials, now: now, logger: services.logger)
            api = ZoomAPI(http: services.http, apiURL: settings.apiURL, auth: auth, now: now, logger: services.logger)
        } else {
            api = nil
        }
    }

    /// Carries out one declared action.
    public func perform(_ call: ActionCall) async throws -> Value {
        switch call.action {
        case Self.createMeetingSpec.name: try await createMeeting(call)
        case Self.linkSpec.name: try link(call)
        default: throw ConnectorError.permanent("unknown-action", "zoom has no action '\(call.action)'")
        }
    }

    /// The meetings created, by idempotency key.
    public static var migrations: [SchemaMigration] { ZoomMeetings.migrations }

    public static func forgetRuns(_ runIDs: [String], in db: any SQLConnection, dialect: SQLDialect) throws -> Int {
        try ZoomMeetings.forgetRuns(runIDs, in: db, dialect: dialect)
    }
}
