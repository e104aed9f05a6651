import Flows
import Foundation
import Logging
import Synchronization

/// Calls Bot API methods: POSTs JSON to `{api_url}/bot{token}/{method}`, paces sends, parses
/// the envelope into a result or a `ConnectorError`, and follows a group's move to a supergroup.
///
/// The request URL holds the token, so it is never logged and never part of an error.
final class TelegramAPI: Sendable {
    let http: any HTTPClient
    let apiURL: String
    let token: String
    let limiter: TelegramRateLimiter<ContinuousClock>
    let logger: Logger
    /// Chats that became supergroups: old id → new id, so later calls go straight to the new one.
    let migrated = Mutex<[Int64: Int64]>([:])
    /// The bot's `bot_info` once getMe has answered: a token's bot does not change while the
    /// process runs, so a registration need not wait for Telegram to say it again.
    let knownBot = Mutex<Value?>(nil)

    /// Methods that post a message into `chat_id`, paced by the rate limiter.
    static let sendMethods: Set<String> = [
        "sendMessage", "copyMessage", "forwardMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendVoice", "sendAnimation",
    ]

    /// Sends carry `allow_paid_broadcast`, so Telegram lifts its 30-a-second limit (for a fee).
    let paidBroadcast: Bool

    /// Keeps a move learnt from an answer (see `TelegramEffects.rememberMove`).
    let rememberMove: @Sendable (_ old: Int64, _ new: Int64) async -> Void

    init(http: any HTTPClient, apiURL: String, token: String, limiter: TelegramRateLimiter<ContinuousClock>, paidBroadcast: Bool = false,
         logger: Logger, rememberMove: @escaping @Sendable (_ old: Int64, _ new: Int64) async -> Void = { _, _ in }) {
        self.http = http
        self.rememberMove = rememberMove
        self.paidBroadcast = paidBroadcast
        self.apiURL = apiURL
        self.token = token
        self.limiter = limiter
        self.logger = logger
    }

    /// A chat's id now: the supergroup's when the group moved (learned from an answer or an update).
    func currentID(of chat: Int64) -> Int64 { migrated.withLock { $0[chat] } ?? chat }

    /// Calls `method` and returns its `result`; throws `ConnectorError` (429 → retry after,
    /// 400/403/404 → permanent, 5xx and network → retry). A call answered with
    /// `migrate_to_chat_id` is repeated once on the new chat id.
    func call(_ method: String, _ parameters: [String: Value] = [:], timeout: Duration = .seconds(30)) async throws -> Value {
        var parameters = parameters
        if let chat = parameters["chat_id"]?.telegramID { parameters["chat_id"] = .id(currentID(of: chat)) }
        let envelope = try await exchange(method, parameters, timeout: timeout)
        if envelope.ok { return envelope.result }
        if let newID = envelope.migrateToChatID, let oldID = parameters["chat_id"]?.telegramID, newID != oldID {
            logger.notice("telegram group moved to a supergroup; calling again on the new chat id (update the config)",
                          metadata: ["telegram.method": "\(method)", "chat.old_id": "\(oldID)", "chat.new_id": "\(newID)"])
            migrated.withLock { $0[oldID] = newID }
            await rememberMove(oldID, newID)
            parameters["chat_id"] = .id(newID)
            let retried = try await exchange(method, parameters, timeout: timeout)
            if retried.ok { return retried.result }
            throw retried.error(method: method)
        }
        throw envelope.error(method: method)
    }

    /// A send refused for flood control was not sent, so it is made again here once the wait
    /// is over (the rate limiter holds the chat meanwhile), at most this many times: a few 429s
    /// in a busy minute must not use up the step's attempts and leave a paid client uninvited.
    static let floodRetries = 3
    /// Longer waits go back to the engine, which parks the run instead of holding it.
    static let longestFloodWait = 30

    /// One call, repeated after short flood-control waits on sends.
    private func exchange(_ method: String, _ parameters: [String: Value], timeout: Duration) async throws -> TelegramEnvelope {
        for _ in 0..<Self.floodRetries {
            let envelope = try await exchangeOnce(method, parameters, timeout: timeout)
            guard Self.sendMethods.contains(method), let wait = envelope.floodWait, wait <= Self.longestFloodWait else { return envelope }
            logger.notice("telegram flood control; sending again after the wait", metadata: ["telegram.method": "\(method)", "retry_after": "\(wait)"])
        }
        return try await exchangeOnce(method, parameters, timeout: timeout)
    }

    /// One HTTP round trip, after waiting for the send slot.
    private func exchangeOnce(_ method: String, _ parameters: [String: Value], timeout: Duration) async throws -> TelegramEnvelope {
        var parameters = parameters
        // A send is paced, and a flood-control answer holds its chat.
        let pacedChat = Self.sendMethods.contains(method) ? parameters["chat_id"]?.telegramID : nil
        if let chat = pacedChat {
            try await limiter.acquire(chat: chat)
            if paidBroadcast { parameters["allow_paid_broadcast"] = true }
        }
        let request = HTTPClientRequest(method: "POST", url: "\(apiURL)/bot\(token)/\(method)",
                                        headers: ["content-type": "application/json", "accept": "application/json"],
                                        body: Array(Value.object(parameters).json.utf8), timeout: timeout)
        let response: HTTPClientResponse
        do {
            response = try await http.send(request)
        } catch let error as CancellationError {
            throw error
        } catch {
            // Whatever the transport said, the token is cut out in case it quoted the URL.
            throw ConnectorError(code: "telegram-network", "cannot reach the Telegram Bot API (\(method)): \(redacted("\(error)"))", .retry)
        }
        let envelope = TelegramEnvelope(status: response.status, headers: response.headers, body: response.body)
        if let chat = pacedChat, let wait = envelope.floodWait {
            // Within an hour, as the engine keeps a service's wait.
            await limiter.hold(chat: chat, for: .seconds(min(wait, 3600)))
        }
        return envelope
    }

    /// `text` with the token replaced, for anything that may end up in a log or an error.
    func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: token, with: "<token>")
    }
}
