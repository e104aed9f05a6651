import Flows
import Foundation

extension ChatCompletionClient {
    /// The longest `Retry-After` worth waiting for: the official SDKs give up beyond it, and a
    /// client waiting in a chat would rather have an operator.
    static let maxRetryAfter: Double = 120

    /// Maps an error answer to what the engine should do, following the official SDK:
    /// `x-should-retry` wins when present; 408, 409, 429 and 5xx are retried (after
    /// `retry-after-ms` / `retry-after` when given); a 429 `insufficient_quota` needs a human
    /// (billing), as do 401/403; other 4xx are our mistake and permanent.
    func failure(for response: HTTPClientResponse) -> ConnectorError {
        let status = response.status
        let error = (try? response.json())?["error"]
        let type = error?["code"]?.stringValue ?? error?["type"]?.stringValue
        // The server's message helps with 400s; it may quote a masked key, so the key is cut out.
        let detail = error?["message"]?.stringValue.map { ": " + String(redacted($0).prefix(300)) } ?? ""
        let wait = Self.retryDelay(response.headers)

        // Never quote the server on a 401, whatever else it says: its message repeats part of the key.
        if status == 401 {
            return .permanent("openai-auth", "the OpenAI API rejected the API key (HTTP 401); check OPENAI_API_KEY")
        }
        if type == "insufficient_quota" {
            return .permanent("openai-insufficient-quota", "the OpenAI account has no quota left; check the plan and billing (HTTP 429)")
        }
        switch response.headers["x-should-retry"]?.lowercased() {
        case "false": return .permanent("openai-http-\(status)", "the OpenAI API refused the request (HTTP \(status))\(detail)")
        case "true": return retryable(status, wait: wait, detail: detail)
        default: break
        }
        switch status {
        case 403:
            return .permanent("openai-forbidden", "the OpenAI API refused access (HTTP 403)\(detail)")
        case 404:
            return .permanent("openai-not-found", "the OpenAI API has no such model or URL (HTTP 404); check the model and base_url\(detail)")
        case 408, 409, 429, 500...:
            return retryable(status, wait: wait, detail: detail)
        default:
            return .permanent("openai-http-\(status)", "the OpenAI API refused the request (HTTP \(status))\(detail)")
        }
    }

    private func retryable(_ status: Int, wait: Double?, detail: String) -> ConnectorError {
        let code = status == 429 ? "openai-rate-limit" : "openai-http-\(status)"
        guard let wait else { return ConnectorError(code: code, "the OpenAI API answered \(status)\(detail)", .retry) }
        guard wait <= Self.maxRetryAfter else {
            return .permanent(code, "the OpenAI API asks to wait \(wait.formatted(.number.grouping(.never).precision(.fractionLength(0)))) s (HTTP \(status)), too long for a chat answer")
        }
        return ConnectorError(code: code, "the OpenAI API asks to wait \(wait) s (HTTP \(status))", .retryAfter(.milliseconds(Int64(wait * 1000))))
    }

    /// Seconds to wait from `retry-after-ms`, else `retry-after` (seconds or an HTTP date);
    /// nil when neither gives a positive delay. Only finite numbers: `inf` or `nan` is no delay at all.
    static func retryDelay(_ headers: [String: String], now: Date = Date()) -> Double? {
        if let ms = headers["retry-after-ms"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), ms.isFinite, ms > 0 { return ms / 1000 }
        guard let raw = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(raw) { return seconds.isFinite && seconds > 0 ? seconds : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: raw) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds > 0 ? seconds : nil
    }
}
