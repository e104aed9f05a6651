import Flows
import Foundation
import Hummingbird
import Synchronization

/// A local Zoom for one Server-to-Server OAuth app: the token endpoint (`POST /oauth/token`) and
/// the meetings API under `/v2` (`POST /v2/users/{userId}/meetings`, `GET /v2/meetings/{id}`),
/// with Zoom's answers, error bodies (`{code, message}`, OAuth's `{reason, error}`) and 429s.
///
/// Serve `router()` with `EmulatorServer`; point the connector's `oauth_url` at the server's base
/// URL and its `api_url` at base URL + `/v2`. Tests assert on `tokenRequests` and `meetingsCreated`.
///
/// Like an account with "require a passcode" on: a meeting created without a passcode gets one.
/// As with S2S apps, the user id `me` is refused.
public final class ZoomEmulator: Sendable {
    public let accountID: String
    public let clientID: String
    let clientSecret: String
    let state: Mutex<State>

    /// Creates an emulator that accepts exactly these app credentials.
    public init(accountID: String, clientID: String, clientSecret: String) {
        self.accountID = accountID
        self.clientID = clientID
        self.clientSecret = clientSecret
        state = Mutex(State())
    }

    // MARK: What the app did

    /// Token requests received, successful or not.
    public var tokenRequests: Int { state.withLock { $0.tokenRequests } }

    /// Tokens issued so far.
    public var tokensIssued: Int { state.withLock { $0.tokens.count } }

    /// Every meeting created, in order.
    public var meetingsCreated: [ZoomEmulatedMeeting] { state.withLock { $0.created } }

    /// API requests answered 401 (missing, unknown or expired token).
    public var unauthorizedResponses: Int { state.withLock { $0.unauthorized } }

    /// API requests received (after the path matched), in order: method and path.
    public var apiRequests: [String] { state.withLock { $0.apiRequests } }

    // MARK: Knobs and faults

    /// The lifetime of tokens issued from now on, in seconds (Zoom: 3600).
    public func setTokenLifetime(seconds: Int) {
        state.withLock { $0.tokenLifetime = seconds }
    }

    /// Makes every token issued so far expired, as if an hour had passed: the API answers
    /// 401 `{"code":124,"message":"Access token is expired."}`.
    public func expireTokens() {
        state.withLock { s in
            for token in s.tokens.keys { s.tokens[token] = .distantPast }
        }
    }

    /// Fails the next `count` API requests (not token requests) with `status` before they take
    /// effect. A 429 carries Zoom's rate-limit headers and, with `retryAfter` (seconds from now),
    /// a `Retry-After` ISO 8601 date-time as Zoom sends for daily limits.
    public func failNext(_ count: Int, status: Int, retryAfter: Int? = nil) {
        guard count > 0 else { return }
        state.withLock { $0.faults.append(Fault(remaining: count, status: status, retryAfter: retryAfter)) }
    }

    /// Fails the next `count` token requests with `status` (OAuth's error body).
    /// Creates the next `count` meetings but answers 502, as when the response is lost on the way back.
    public func loseNextCreateResponses(_ count: Int) {
        state.withLock { $0.lostCreateResponses += count }
    }

    public func failNextToken(_ count: Int, status: Int) {
        guard count > 0 else { return }
        state.withLock { $0.tokenFaults.append(Fault(remaining: count, status: status, retryAfter: nil)) }
    }
}

extension ZoomEmulator {
    /// Everything the emulator knows, behind one lock.
    struct State {
        var tokenLifetime = 3600
        /// Issued token → when it expires.
        var tokens: [String: Date] = [:]
        var tokenRequests = 0
        var unauthorized = 0
        var apiRequests: [String] = []
        var meetings: [Int64: Value] = [:]
        var created: [ZoomEmulatedMeeting] = []
        var nextMeetingID: Int64 = 85_746_065_001
        var faults: [Fault] = []
        var tokenFaults: [Fault] = []
        var lostCreateResponses = 0
    }

    struct Fault {
        var remaining: Int
        var status: Int
        var retryAfter: Int?
    }
}
