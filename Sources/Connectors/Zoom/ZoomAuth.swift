import Flows
import Foundation
import Logging

/// Server-to-Server OAuth access tokens (`grant_type=account_credentials`), cached until a few
/// minutes before they expire and fetched single-flight: however many calls need a token at
/// once, one request goes to Zoom and they all share its answer.
///
/// Zoom issues one-hour tokens with no refresh token; a new token is simply requested again.
/// Neither the client secret nor a token ever reaches a log line or an error.
actor ZoomAuth {
    struct Token: Sendable {
        let value: String
        /// When to stop using it and fetch another (before it actually expires).
        let refreshAt: Date
    }

    private let http: any HTTPClient
    private let tokenURL: String
    private let credentials: ZoomSettings.Credentials
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var current: Token?
    private var refreshing: Task<Token, any Error>?

    init(http: any HTTPClient, oauthURL: String, credentials: ZoomSettings.Credentials, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.http = http
        tokenURL = oauthURL + "/oauth/token"
        self.credentials = credentials
        self.now = now
        self.logger = logger
    }

    /// A token valid for a while yet: the cached one, or a fresh one.
    func accessToken() async throws -> String {
        if let current, now() < current.refreshAt { return current.value }
        if let refreshing { return try await refreshing.value.value }
        // The task is stored before the first suspension, so callers arriving meanwhile join it.
        let task = Task { [http, tokenURL, credentials, now, logger] in
            try await Self.fetch(http: http, tokenURL: tokenURL, credentials: credentials, now: now, logger: logger)
        }
        refreshing = task
        defer { refreshing = nil }
        let token = try await task.value
        current = token
        return token.value
    }

    /// Forgets `token` after Zoom rejected it (401). Only that token: when several calls were
    /// rejected at once and one already fetched a replacement, the replacement stays.
    func invalidate(_ token: String) {
        if current?.value == token { current = nil }
    }

    /// How long before expiry a token is replaced: five minutes, or half the lifetime of a short-lived one.
    static func margin(expiresIn seconds: Double) -> Double { min(300, seconds / 2) }

    private static func fetch(http: any HTTPClient, tokenURL: String, credentials: ZoomSettings.Credentials,
                              now: @Sendable () -> Date, logger: Logger) async throws -> Token
    {
        let basic = Data("\(credentials.clientID):\(credentials.clientSecret)".utf8).base64EncodedString()
        let form = "grant_type=account_credentials&account_id=" + formEncode(credentials.accountID)
        let issuedAt = now()
        let response = try await http.send(HTTPClientRequest(
            method: "POST", url: tokenURL,
            headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: Array(form.utf8), timeout: .seconds(20)))
        let body = try? response.json()
        guard response.status == 200 else {
            // The OAuth endpoint answers {reason, error}, not the API's {code, message}; neither echoes the secret.
            let reason = body?["reason"]?.stringValue ?? body?["message"]?.stringValue ?? "HTTP \(response.status)"
            let kind = body?["error"]?.stringValue
            logger.error("zoom token request refused", metadata: [
                "http.status": "\(response.status)", "zoom.error": "\(kind ?? "-")",
                "zoom.tracking_id": "\(response.headers["x-zm-trackingid"] ?? "-")",
            ])
            let detail = kind.map { "\(reason) (\($0))" } ?? reason
            switch response.status {
            case 429, 500...:
                throw ConnectorError(code: "zoom-oauth-\(response.status)", "Zoom's token endpoint answered \(response.status): \(detail)")
            default:
                throw ConnectorError.permanent("zoom-oauth", "Zoom refused the Server-to-Server OAuth credentials: \(detail); check "
                    + "ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET and that the app is activated")
            }
        }
        guard let value = body?["access_token"]?.stringValue, !value.isEmpty else {
            throw ConnectorError(code: "zoom-oauth-bad-answer", "Zoom's token endpoint answered 200 without an access_token")
        }
        // Zoom gives 3600 s; anything that is not a sane lifetime is taken as that.
        let lifetime = body?["expires_in"]?.numberValue.flatMap { $0.isFinite && $0 > 0 && $0 <= 86_400 ? $0 : nil } ?? 3600
        logger.debug("zoom access token fetched", metadata: ["token.expires_in": "\(Int(lifetime))"])
        return Token(value: value, refreshAt: issuedAt.addingTimeInterval(lifetime - margin(expiresIn: lifetime)))
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
