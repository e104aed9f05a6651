import Flows
import Foundation

/// A Bot API response: `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description", "parameters"}`.
/// Control flow branches on `error_code` and `parameters`, never on the description text.
struct TelegramEnvelope: Sendable {
    var ok: Bool
    var result: Value
    var errorCode: Int
    var description: String
    /// Seconds to wait (flood control): `parameters.retry_after`, else the `Retry-After` header.
    var retryAfter: Int?
    /// The group became a supergroup with this id.
    var migrateToChatID: Int64?

    init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        guard let json = try? Value(jsonData: Data(body)), case .object = json, let ok = json["ok"]?.boolValue else {
            // Not the Bot API talking (a proxy's HTML page, a cut connection): worth another try.
            self.ok = false
            result = .null
            errorCode = status == 200 || status == 0 ? 502 : status
            description = "HTTP \(status) without a Bot API answer"
            retryAfter = headers["retry-after"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return
        }
        self.ok = ok && (200..<300).contains(status)
        result = json["result"] ?? .null
        errorCode = json["error_code"]?.intValue ?? (self.ok ? 0 : status)
        description = json["description"]?.stringValue ?? ""
        retryAfter = json["parameters"]?["retry_after"]?.intValue
            ?? headers["retry-after"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        migrateToChatID = json["parameters"]?["migrate_to_chat_id"]?.telegramID
    }

    /// Seconds flood control asks to wait (at least 1), when the call was refused for it.
    var floodWait: Int? { !ok && errorCode == 429 ? max(1, retryAfter ?? 1) : nil }

    /// What the engine should do about a failed call of `method`.
    func error(method: String) -> ConnectorError {
        let said = description.isEmpty ? "error \(errorCode)" : description
        switch errorCode {
        case 429:
            let seconds = floodWait ?? 1
            return ConnectorError(code: "telegram-429", "Telegram flood control on \(method): retry after \(seconds) s", .retryAfter(.seconds(seconds)))
        case 409:
            return ConnectorError(code: "telegram-409", "Telegram conflict on \(method): \(said)", .retry)
        case 400..<500:
            return .permanent("telegram-\(errorCode)", "Telegram refused \(method): \(said)")
        default:
            return ConnectorError(code: "telegram-\(errorCode)", "Telegram failed \(method): \(said)", .retry)
        }
    }
}
