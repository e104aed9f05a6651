import Flows
import Foundation

/// The checked config of a Telegram instance.
struct TelegramSettings: Sendable {
    /// How updates reach the hub.
    enum Mode: String, Sendable, CaseIterable {
        case polling, webhook
    }

    /// The bot token (`123456:ABC…`); a secret, kept only here.
    let token: String
    /// The numeric part before the colon: public, names the lease.
    let botID: String
    let apiURL: String
    let groupID: Int64?
    let operatorsChatID: Int64?
    let mode: Mode
    let webhookPath: String
    /// Sent by Telegram in `X-Telegram-Bot-Api-Secret-Token`; never the token itself.
    let webhookSecret: String
    /// The hub's public URL (no trailing slash), for setWebhook.
    let publicURL: String
    let inviteTTL: Int
    /// Up to 1,000 messages a second instead of 30, paid per message in Telegram Stars.
    let paidBroadcast: Bool

    init(config: ConnectorConfig, publicURL: String) throws {
        typealias Key = TelegramConnector.Key
        let token = try config.require(Key.token).trimmingCharacters(in: .whitespaces)
        // Checked for shape only; the message must not echo the value.
        guard let colon = token.firstIndex(of: ":"), !token[..<colon].isEmpty, token[..<colon].allSatisfy(\.isNumber),
              token.index(after: colon) < token.endIndex
        else {
            throw ConnectorError.permanent("bad-config", "'\(Key.token)' does not look like a bot token (digits, ':', then letters): copy it from @BotFather")
        }
        self.token = token
        botID = String(token[..<colon])

        var apiURL = config.get(Key.apiURL) ?? "https://api.telegram.org"
        while apiURL.hasSuffix("/") { apiURL.removeLast() }
        guard apiURL.hasPrefix("https://") || apiURL.hasPrefix("http://") else {
            throw ConnectorError.permanent("bad-config", "'\(Key.apiURL)' must be an http(s) URL, e.g. https://api.telegram.org")
        }
        self.apiURL = apiURL
        groupID = try Self.chatID(config, Key.groupID)
        operatorsChatID = try Self.chatID(config, Key.operatorsChatID)

        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicURL = base
        if let text = config.get(Key.mode) {
            guard let mode = Mode(rawValue: text) else {
                throw ConnectorError.permanent("bad-config", "'\(Key.mode)' must be 'polling' or 'webhook', found '\(text)'")
            }
            self.mode = mode
        } else {
            // Telegram delivers webhooks over HTTPS only, so a plain-http hub polls.
            mode = base.hasPrefix("https://") ? .webhook : .polling
        }
        if mode == .webhook && !base.hasPrefix("https://") {
            throw ConnectorError.permanent("bad-config", "webhook mode needs an https public URL (HUB_PUBLIC_URL); set 'mode: polling' otherwise")
        }

        let path = config.get(Key.webhookPath) ?? "/hooks/telegram"
        guard path.hasPrefix("/"), !path.contains(" ") else {
            throw ConnectorError.permanent("bad-config", "'\(Key.webhookPath)' must start with '/', e.g. /hooks/telegram")
        }
        webhookPath = path

        if let secret = config.get(Key.webhookSecret), !secret.isEmpty {
            guard secret.count <= 256, secret.unicodeScalars.allSatisfy(Self.isSecretCharacter) else {
                throw ConnectorError.permanent("bad-config", "'\(Key.webhookSecret)' must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-'")
            }
            webhookSecret = secret
        } else {
            webhookSecret = Self.derivedSecret(token: token)
        }

        paidBroadcast = config.get(Key.paidBroadcast, as: Bool.self) ?? false
        let ttl = config.get(Key.inviteTTL, as: Int.self) ?? 86_400
        guard ttl >= 60 else {
            throw ConnectorError.permanent("bad-config", "'\(Key.inviteTTL)' must be at least 60 seconds, found \(ttl)")
        }
        inviteTTL = ttl
    }

    /// A webhook secret derived from the token: stable across restarts and processes, yet
    /// revealing nothing about the token (HMAC-SHA256, base64url, only characters Telegram allows).
    static func derivedSecret(token: String) -> String {
        Crypto.base64URL(Crypto.hmacSHA256(key: Array(token.utf8), message: Array("session-hub telegram webhook secret v1".utf8)))
    }

    static func isSecretCharacter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-")
    }

    private static func chatID(_ config: ConnectorConfig, _ key: String) throws -> Int64? {
        guard let value = config[key] else { return nil }
        guard let id = value.telegramID else {
            throw ConnectorError.permanent("bad-config", "'\(key)' must be a numeric chat id (a group's looks like -1001234567890), found '\(value.text)'")
        }
        return id
    }
}

extension Value {
    /// A Telegram id (user, chat, message): a whole number, or text holding one.
    var telegramID: Int64? {
        switch self {
        case .number(let n): Int64(exactly: n)
        case .string(let s): Int64(s.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    /// An id as flows see it: a number.
    static func id(_ value: Int64) -> Value { .number(Double(value)) }
}
