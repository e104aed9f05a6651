import Flows
import Foundation
import Logging

/// Calls the Zoom REST API with a Bearer token and turns Zoom's answers into results or
/// `ConnectorError`s: 401 refreshes the token once and retries, 429 waits as told, 5xx and
/// network failures retry, other 4xx fail with Zoom's `{code, message}`.
struct ZoomAPI: Sendable {
    let http: any HTTPClient
    /// E.g. `https://api.zoom.us/v2`, without a trailing slash.
    let apiURL: String
    let auth: ZoomAuth
    let now: @Sendable () -> Date
    let logger: Logger

    /// Sends one request and returns the JSON answer (`null` for an empty body).
    func send(_ method: String, _ path: String, json body: Value? = nil) async throws -> Value {
        var token = try await auth.accessToken()
        var response = try await raw(method, path, body, token: token)
        if response.status == 401 {
            // Revoked, expired early or the app was re-activated: one fresh token, one more try.
            await auth.invalidate(token)
            token = try await auth.accessToken()
            response = try await raw(method, path, body, token: token)
        }
        guard (200..<300).contains(response.status) else { throw failure(response, method: method, path: path) }
        if response.body.isEmpty { return .null }
        guard let answer = try? response.json() else {
            throw ConnectorError(code: "zoom-bad-answer", "Zoom answered \(response.status) with a body that is not JSON")
        }
        return answer
    }

    private func raw(_ method: String, _ path: String, _ body: Value?, token: String) async throws -> HTTPClientResponse {
        var headers = ["Authorization": "Bearer \(token)", "Accept": "application/json"]
        var bytes: [UInt8] = []
        if let body {
            headers["Content-Type"] = "application/json"
            bytes = Array(body.json.utf8)
        }
        return try await http.send(HTTPClientRequest(method: method, url: apiURL + path, headers: headers, body: bytes, timeout: .seconds(30)))
    }

    /// The error for a non-2xx answer, logged once here with Zoom's tracking id for support.
    func failure(_ response: HTTPClientResponse, method: String, path: String) -> ConnectorError {
        let body = try? response.json()
        let zoomCode = body?["code"]?.intValue
        let message = body?["message"]?.stringValue ?? "HTTP \(response.status)"
        logger.error("zoom api request failed", metadata: [
            "http.method": "\(method)", "http.path": "\(path)", "http.status": "\(response.status)",
            "zoom.code": "\(zoomCode.map(String.init) ?? "-")", "zoom.tracking_id": "\(response.headers["x-zm-trackingid"] ?? "-")",
        ])
        let code = zoomCode.map { "zoom-\($0)" } ?? "http-\(response.status)"
        let detail = "Zoom answered \(response.status)" + (zoomCode.map { " (code \($0))" } ?? "") + ": \(message)"
        switch response.status {
        case 429:
            if let wait = response.headers["retry-after"].flatMap({ Self.retryAfter($0, now: now()) }) {
                return ConnectorError(code: "zoom-429", detail, .retryAfter(wait))
            }
            return ConnectorError(code: "zoom-429", detail, .retry)
        case 408, 500...:
            return ConnectorError(code: code, detail, .retry)
        default:
            return .permanent(code, detail + Self.hint(zoomCode: zoomCode, status: response.status))
        }
    }

    /// What to change, for the errors a deployer can fix.
    static func hint(zoomCode: Int?, status: Int) -> String {
        switch zoomCode {
        case 4711: "; add the scope Zoom names to the app: meeting:write:meeting:admin creates, meeting:read:meeting:admin reads, "
            + "and meeting:read:list_meetings:admin lists the host's meetings (to find one whose creation was answered too late)"
        case 1001: "; set 'host' (ZOOM_HOST) to the Zoom user id or e-mail of an existing user of the account"
        case 3161: "; allow that user to host and schedule meetings in the Zoom account settings"
        case 124: "; the app's token was refused twice: check that the Server-to-Server OAuth app is activated"
        default: ""
        }
    }

    /// Reads `Retry-After`: seconds, or a date (Zoom sends an ISO 8601 date-time for daily
    /// limits; HTTP allows an HTTP-date). At least one second.
    static func retryAfter(_ header: String, now: Date) -> Duration? {
        let text = header.trimmingCharacters(in: .whitespaces)
        // At most a day: the engine waits an hour at most anyway, and a larger number must not trap.
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return .milliseconds(Int64(min(max(1, seconds), 86_400) * 1000)) }
        let date: Date? = {
            let iso = ISO8601DateFormatter()
            if let d = iso.date(from: text) { return d }
            iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let d = iso.date(from: text) { return d }
            let http = DateFormatter()
            http.locale = Locale(identifier: "en_US_POSIX")
            http.timeZone = TimeZone(identifier: "GMT")
            http.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            return http.date(from: text)
        }()
        guard let date else { return nil }
        return .seconds(Int64(min(max(1, date.timeIntervalSince(now).rounded(.up)), 86_400)))
    }
}
