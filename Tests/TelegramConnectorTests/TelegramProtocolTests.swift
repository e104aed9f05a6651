import Flows
import Foundation
import Logging
import Testing
@testable import TelegramConnector

/// The Bot API envelope, update parsing, settings and pacing: no network involved.
@Suite struct TelegramProtocolTests {
    static func body(_ json: String) -> [UInt8] { Array(json.utf8) }

    @Test func successfulEnvelopeGivesTheResult() {
        let envelope = TelegramEnvelope(status: 200, body: Self.body(#"{"ok":true,"result":{"message_id":17}}"#))
        #expect(envelope.ok)
        #expect(envelope.result["message_id"]?.telegramID == 17)
    }

    @Test func floodControlWaitsAsTold() {
        let envelope = TelegramEnvelope(status: 429, headers: ["retry-after": "3"],
                                        body: Self.body(#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#))
        let error = envelope.error(method: "sendMessage")
        #expect(error.code == "telegram-429")
        #expect(error.disposition == .retryAfter(.seconds(7)))
        // Without parameters the Retry-After header decides.
        let headerOnly = TelegramEnvelope(status: 429, headers: ["retry-after": "4"], body: Self.body(#"{"ok":false,"error_code":429}"#))
        #expect(headerOnly.error(method: "sendMessage").disposition == .retryAfter(.seconds(4)))
    }

    @Test(arguments: [400, 401, 403, 404])
    func clientErrorsArePermanent(_ status: Int) {
        let envelope = TelegramEnvelope(status: status, body: Self.body(#"{"ok":false,"error_code":\#(status),"description":"Bad Request: chat not found"}"#))
        let error = envelope.error(method: "sendMessage")
        #expect(error.disposition == .permanent)
        #expect(error.code == "telegram-\(status)")
        #expect(error.message.contains("chat not found"))
    }

    @Test(arguments: [500, 502, 503])
    func serverErrorsAreRetried(_ status: Int) {
        let envelope = TelegramEnvelope(status: status, body: Self.body(#"{"ok":false,"error_code":\#(status),"description":"Internal Server Error"}"#))
        #expect(envelope.error(method: "getUpdates").disposition == .retry)
    }

    @Test func aProxyPageIsRetriedNotParsed() {
        let envelope = TelegramEnvelope(status: 502, body: Self.body("<html>Bad Gateway</html>"))
        #expect(!envelope.ok)
        #expect(envelope.error(method: "getUpdates").disposition == .retry)
        let garbled = TelegramEnvelope(status: 200, body: Self.body("{\"ok\":tr"))
        #expect(!garbled.ok)
        #expect(garbled.error(method: "getMe").disposition == .retry)
    }

    @Test func migrationAndConflictAreRead() {
        let moved = TelegramEnvelope(status: 400, body: Self.body(
            #"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}"#))
        #expect(moved.migrateToChatID == -1001234567890)
        let conflict = TelegramEnvelope(status: 409, body: Self.body(#"{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request"}"#))
        #expect(conflict.error(method: "getUpdates").code == "telegram-409")
        #expect(conflict.error(method: "getUpdates").disposition == .retry)
    }

    // MARK: Updates

    @Test(arguments: [
        ("/start ord_Zm9vYmFy", "start", "ord_Zm9vYmFy"),
        ("/help@hub_bot", "help", ""),
        ("/start@hub_bot  tok-1 ", "start", "tok-1"),
        ("/ask what is the price?", "ask", "what is the price?"),
    ])
    func commandsAreSplit(_ text: String, _ command: String, _ payload: String) throws {
        let length = text.prefix { !$0.isWhitespace }.count
        let message: Value = ["text": .string(text), "entities": [["type": "bot_command", "offset": 0, "length": .number(Double(length))]]]
        let parsed = try #require(TelegramUpdate.command(in: message))
        #expect(parsed.command == command)
        #expect(parsed.payload == payload)
    }

    @Test func deepLinkStartBecomesACommandEvent() throws {
        let json = try Value(json: """
            {"update_id": 900000001, "message": {"message_id": 17, "date": 1767225600,
              "from": {"id": 111222333, "is_bot": false, "first_name": "Ada", "username": "ada", "language_code": "en"},
              "chat": {"id": 111222333, "type": "private", "first_name": "Ada", "username": "ada"},
              "text": "/start ord_Zm9vYmFy", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
            """)
        let update = try #require(TelegramUpdate(json))
        let event = try #require(update.event(groupID: -1001234567890, operatorsChatID: nil))
        #expect(update.id == 900000001)
        #expect(event.trigger == "command")
        #expect(event.payload["command"] == "start")
        #expect(event.payload["payload"] == "ord_Zm9vYmFy")
        #expect(event.payload["from"]?["username"] == "ada")
        #expect(event.payload["chat_id"]?.telegramID == 111222333)
        #expect(event.payload["message_id"]?.telegramID == 17)
        // A chat's updates are carried out in Telegram's order.
        #expect(TelegramConnector.order(of: event, update: update, botID: "7000000001")
                == EventOrder(key: "telegram:7000000001:111222333", position: 900000001))
    }

    @Test func privateMediaIsAMessageEvent() throws {
        let json = try Value(json: """
            {"update_id": 5, "message": {"message_id": 3, "from": {"id": 1, "first_name": "A"}, "chat": {"id": 1, "type": "private"},
              "photo": [{"file_id": "small"}, {"file_id": "large"}], "caption": "see"}}
            """)
        let event = try #require(TelegramUpdate(json)?.event(groupID: nil, operatorsChatID: nil))
        #expect(event.trigger == "message")
        #expect(event.payload["has_media"] == true)
        #expect(event.payload["media_type"] == "photo")
        #expect(event.payload["file_id"] == "large")
        #expect(event.payload["caption"] == "see")
        #expect(event.payload["text"] == "")
    }

    @Test func groupChatterRaisesNothingButOperatorRepliesDo() throws {
        let chatter = try Value(json: #"{"update_id": 6, "message": {"message_id": 3, "chat": {"id": -100, "type": "supergroup"}, "text": "hi"}}"#)
        #expect(TelegramUpdate(chatter)?.event(groupID: -100, operatorsChatID: -200) == nil)
        let reply = try Value(json: """
            {"update_id": 7, "message": {"message_id": 9, "from": {"id": 5, "first_name": "Olga"}, "chat": {"id": -200, "type": "supergroup"},
              "text": "Здравствуйте!", "reply_to_message": {"message_id": 4, "chat": {"id": -200, "type": "supergroup"}}}}
            """)
        let event = try #require(TelegramUpdate(reply)?.event(groupID: -100, operatorsChatID: -200))
        #expect(event.trigger == "operator_reply")
        #expect(event.payload["reply_to_message_id"]?.telegramID == 4)
        #expect(event.payload["text"] == "Здравствуйте!")
        #expect(event.payload["has_media"] == false)
    }

    @Test(arguments: [("left", "member", "joined"), ("member", "left", "left"), ("member", "kicked", "banned")])
    func membershipChanges(_ before: String, _ after: String, _ status: String) throws {
        let json = try Value(json: """
            {"update_id": 8, "chat_member": {"chat": {"id": -100, "type": "supergroup"}, "from": {"id": 1, "first_name": "A"}, "date": 1,
              "old_chat_member": {"status": "\(before)", "user": {"id": 1, "first_name": "A"}},
              "new_chat_member": {"status": "\(after)", "user": {"id": 1, "first_name": "A"}},
              "invite_link": {"invite_link": "https://t.me/+abc", "creates_join_request": true, "is_primary": false, "is_revoked": false}}}
            """)
        let event = try #require(TelegramUpdate(json)?.event(groupID: -100, operatorsChatID: nil))
        #expect(event.trigger == "member")
        #expect(event.payload["status"] == .string(status))
        #expect(event.payload["user"]?["id"]?.telegramID == 1)
        #expect(event.payload["invite_link"] == "https://t.me/+abc")
        // Another group's members are not ours.
        #expect(TelegramUpdate(json)?.event(groupID: -999, operatorsChatID: nil) == nil)
    }

    @Test func joinRequestCarriesLinkAndName() throws {
        let json = try Value(json: """
            {"update_id": 9, "chat_join_request": {"chat": {"id": -100, "type": "supergroup"}, "from": {"id": 1, "first_name": "A"},
              "user_chat_id": 1, "date": 1767225800,
              "invite_link": {"invite_link": "https://t.me/+AbC", "name": "m:42", "creates_join_request": true, "is_primary": false, "is_revoked": false}}}
            """)
        let event = try #require(TelegramUpdate(json)?.event(groupID: -100, operatorsChatID: nil))
        #expect(event.trigger == "join_request")
        #expect(event.payload["invite_link"] == "https://t.me/+AbC")
        #expect(event.payload["invite_name"] == "m:42")
        #expect(event.payload["date"]?.telegramID == 1767225800)
        // Join requests are not held in a queue behind each other.
        #expect(TelegramConnector.order(of: event, update: try #require(TelegramUpdate(json)), botID: "1") == nil)
    }

    // MARK: Settings

    static let token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

    @Test func modeFollowsThePublicURL() throws {
        let config = Fields(["token": .string(Self.token)])
        #expect(try TelegramSettings(config: config, publicURL: "https://hub.example.com").mode == .webhook)
        #expect(try TelegramSettings(config: config, publicURL: "http://127.0.0.1:8080").mode == .polling)
        #expect(try TelegramSettings(config: Fields(["token": .string(Self.token), "mode": "polling"]), publicURL: "https://hub.example.com").mode == .polling)
    }

    @Test func derivedWebhookSecretIsStableAndRevealsNoToken() throws {
        let a = try TelegramSettings(config: Fields(["token": .string(Self.token)]), publicURL: "https://hub.example.com")
        let b = try TelegramSettings(config: Fields(["token": .string(Self.token)]), publicURL: "https://hub.example.com")
        #expect(a.webhookSecret == b.webhookSecret)
        #expect(!a.webhookSecret.contains("ABC-DEF"))
        #expect(!a.webhookSecret.contains("123456"))
        #expect(a.webhookSecret.unicodeScalars.allSatisfy(TelegramSettings.isSecretCharacter))
        #expect((1...256).contains(a.webhookSecret.count))
        let other = try TelegramSettings(config: Fields(["token": "999:other"]), publicURL: "https://hub.example.com")
        #expect(other.webhookSecret != a.webhookSecret)
        #expect(a.botID == "123456")
    }

    @Test func aMalformedTokenIsRefusedWithoutEchoingIt() {
        do {
            _ = try TelegramSettings(config: Fields(["token": "not-a-secret-token-value"]), publicURL: "")
            Issue.record("accepted a malformed token")
        } catch {
            #expect(!"\(error)".contains("not-a-secret-token-value"))
        }
    }

    // MARK: Pacing

    @Test func privateChatsGetOneMessageASecond() async {
        let limiter = TelegramRateLimiter(clock: ContinuousClock())
        let now = ContinuousClock.now
        var slots: [Duration] = []
        for _ in 0..<3 { slots.append(await limiter.reserve(chat: 42, now: now) - now) }
        #expect(slots == [.zero, .seconds(1), .seconds(2)])
        // Another chat is not held up by the first one.
        #expect(await limiter.reserve(chat: 43, now: now) - now < .seconds(1))
    }

    @Test func groupsGetTwentyAMinute() async {
        let limiter = TelegramRateLimiter(clock: ContinuousClock())
        let now = ContinuousClock.now
        var slots: [ContinuousClock.Instant] = []
        for _ in 0..<23 { slots.append(await limiter.reserve(chat: -100, now: now)) }
        #expect(slots[0] == now)
        #expect(slots[1] - now == .seconds(3))
        // No minute holds more than 20.
        #expect(slots.filter { $0 - now < .seconds(60) }.count == 20)
        #expect(slots.last! - now == .seconds(66))
    }

    @Test("a 429 holds the chat: later sends there wait out retry_after, sends to other chats do not")
    func floodControlHoldsTheChat() async {
        let limiter = TelegramRateLimiter(clock: ContinuousClock())
        let now = ContinuousClock.now
        _ = await limiter.reserve(chat: 42, now: now)
        await limiter.hold(chat: 42, for: .seconds(5))
        #expect(await limiter.reserve(chat: 42, now: now) - now >= .seconds(5))
        #expect(await limiter.reserve(chat: 43, now: now) == now)
        await limiter.hold(chat: -100, for: .seconds(20))
        #expect(await limiter.reserve(chat: -100, now: now) - now >= .seconds(20))
    }

    /// Whether no window of `window` holds more than `count` of the slots.
    static func noWindowHoldsMore(than count: Int, in window: Duration, _ slots: [ContinuousClock.Instant]) -> Bool {
        let sorted = slots.sorted()
        return sorted.indices.dropLast(count).allSatisfy { sorted[$0 + count] - sorted[$0] >= window }
    }

    @Test func overallPaceIsThirtyInAnySecond() async {
        let limiter = TelegramRateLimiter(clock: ContinuousClock())
        let now = ContinuousClock.now
        var slots: [ContinuousClock.Instant] = []
        for chat in 1...70 { slots.append(await limiter.reserve(chat: Int64(chat), now: now)) }
        #expect(slots.prefix(30).allSatisfy { $0 == now })
        #expect(slots[30] - now == .seconds(1))
        #expect(slots.last! - now == .seconds(2))
        #expect(Self.noWindowHoldsMore(than: 30, in: .seconds(1), slots))
    }

    @Test("sends a chat's own limit defers do not pile onto other chats' sends: still 30 in any second")
    func deferredSendsKeepTheOverallPace() async {
        let limiter = TelegramRateLimiter(clock: ContinuousClock())
        let start = ContinuousClock.now
        var slots: [ContinuousClock.Instant] = []
        // Each of 30 clients gets two messages at once (an invite and a note), then 30 new clients
        // one each, reserved over the next 1.5 s as their runs come.
        for chat in 1...30 {
            for _ in 0..<2 { slots.append(await limiter.reserve(chat: Int64(chat), now: start)) }
        }
        for chat in 31...60 {
            slots.append(await limiter.reserve(chat: Int64(chat), now: start + .milliseconds(50 * (chat - 31))))
        }
        #expect(Self.noWindowHoldsMore(than: 30, in: .seconds(1), slots))
        // Each client's second message comes a second after its first.
        for chat in 0..<30 { #expect(slots[2 * chat + 1] - slots[2 * chat] >= .seconds(1)) }
        // Nothing waits longer than the pace needs: 90 sends take three windows.
        #expect(slots.max()! - start <= .seconds(2))
    }

    @Test func paidBroadcastLiftsTheOverallPaceToAThousandASecond() async {
        let limiter = TelegramRateLimiter(clock: ContinuousClock(), overall: TelegramRateLimiter<ContinuousClock>.paidBroadcast)
        let now = ContinuousClock.now
        var slots: [ContinuousClock.Instant] = []
        for chat in 1...1_100 { slots.append(await limiter.reserve(chat: Int64(chat), now: now)) }
        #expect(slots.prefix(1_000).allSatisfy { $0 == now })
        #expect(slots[1_000] - now == .seconds(1))
        #expect(Self.noWindowHoldsMore(than: 1_000, in: .seconds(1), slots))
        // A private chat still gets one message a second.
        #expect(await limiter.reserve(chat: 1, now: now) - now >= .seconds(1))
    }

    @Test func acquireSuspendsUntilTheSlot() async throws {
        let limiter = TelegramRateLimiter(clock: ContinuousClock(), privateChat: .milliseconds(150))
        let start = ContinuousClock.now
        try await limiter.acquire(chat: 7)
        try await limiter.acquire(chat: 7)
        try await limiter.acquire(chat: 7)
        #expect(ContinuousClock.now - start >= .milliseconds(300))
    }
}
