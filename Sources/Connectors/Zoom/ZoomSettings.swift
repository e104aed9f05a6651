import Flows
import Foundation

/// The checked config of a Zoom instance. Nothing is required here: a shop without a Zoom app
/// uses only `zoom.link`, so missing API credentials surface when `create_meeting` runs.
struct ZoomSettings: Sendable {
    /// The Server-to-Server OAuth app's identity. The client secret is kept only here and in
    /// `ZoomAuth`; it is never logged, put into an error or stored.
    struct Credentials: Sendable {
        let accountID: String
        let clientID: String
        let clientSecret: String
    }

    static let defaultAPIURL = "https://api.zoom.us/v2"
    static let defaultOAuthURL = "https://zoom.us"
    static let defaultTimezone = "Europe/Moscow"

    /// Nil when any of the three is missing; `missingCredentials` names which.
    let credentials: Credentials?
    /// The config keys (and their environment variables) that are not set, for the error message.
    let missingCredentials: [String]
    /// Without a trailing slash, e.g. `https://api.zoom.us/v2`.
    let apiURL: String
    /// Without a trailing slash, e.g. `https://zoom.us`; the token endpoint is `/oauth/token` under it.
    let oauthURL: String
    /// The host's Zoom user id or e-mail; S2S apps cannot use `me`.
    let host: String?
    /// A standing meeting link for `zoom.link`.
    let meetingURL: String?
    let timezone: TimeZone

    init(config: ConnectorConfig) throws(ConnectorError) {
        typealias Key = ZoomConnector.Key
        func text(_ key: String) -> String? {
            guard let value = config.get(key)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        let accountID = text(Key.accountID), clientID = text(Key.clientID), clientSecret = text(Key.clientSecret)
        if let accountID, let clientID, let clientSecret {
            credentials = Credentials(accountID: accountID, clientID: clientID, clientSecret: clientSecret)
            missingCredentials = []
        } else {
            credentials = nil
            missingCredentials = [
                (Key.accountID, accountID, "ZOOM_ACCOUNT_ID"), (Key.clientID, clientID, "ZOOM_CLIENT_ID"),
                (Key.clientSecret, clientSecret, "ZOOM_CLIENT_SECRET"),
            ].compactMap { key, value, env in value == nil ? "'\(key)' (\(env))" : nil }
        }
        apiURL = try Self.baseURL(text(Key.apiURL) ?? Self.defaultAPIURL, key: Key.apiURL, example: Self.defaultAPIURL)
        oauthURL = try Self.baseURL(text(Key.oauthURL) ?? Self.defaultOAuthURL, key: Key.oauthURL, example: Self.defaultOAuthURL)
        host = text(Key.host)
        if let link = text(Key.meetingURL) {
            guard link.hasPrefix("https://") || link.hasPrefix("http://"), URL(string: link) != nil else {
                throw .permanent("bad-config", "'\(Key.meetingURL)' must be a meeting link such as https://us02web.zoom.us/j/85746065123?pwd=…")
            }
            meetingURL = link
        } else {
            meetingURL = nil
        }
        let zoneName = text(Key.timezone) ?? Self.defaultTimezone
        guard let zone = TimeZone(identifier: zoneName) else {
            throw .permanent("bad-config", "'\(Key.timezone)' must be an IANA time zone such as Europe/Moscow, found '\(zoneName)'")
        }
        timezone = zone
    }

    static func baseURL(_ value: String, key: String, example: String) throws(ConnectorError) -> String {
        var url = value
        while url.hasSuffix("/") { url.removeLast() }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), URL(string: url) != nil else {
            throw .permanent("bad-config", "'\(key)' must be an http(s) URL such as \(example)")
        }
        return url
    }
}
