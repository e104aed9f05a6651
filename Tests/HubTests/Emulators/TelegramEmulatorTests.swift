import Emulators
import Flows
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Drives the Telegram emulator over real HTTP on 127.0.0.1, as a bot would.
@Suite("TelegramEmulator")
struct TelegramEmulatorTests {
    static let token = "123456:TEST-token_abc"
    static let groupID: Int64 = -1001234567890
    static let operatorsID: Int64 = -1009876543210
    static let ada = EmulatedUser(id: 111222333, firstName: "Ada", username: "ada")
    static let bob = EmulatedUser(id: 444555666, firstName: "Bob")

    @Test func envelopeTokenAndParameterEncodings() async throws {
        try await withBot { telegram, api in
            let me = try await api.call("getMe")
            #expect(me.status == 200)
            #expect(me.body["ok"] == true)
            #expect(me.body["result"]?["username"] == "session_hub_bot")
            #expect(me.body["result"]?["is_bot"] == true)

            // Method names are case-insensitive; GET with a query string works too.
            let get = try await api.raw(method: "GET", path: "/bot\(Self.token)/GETME", body: nil, contentType: nil)
            #expect(get.status == 200)
            #expect(get.body["result"]?["id"] == 123456)

            let wrongToken = try await api.raw(method: "POST", path: "/bot123456:WRONG/getMe", body: nil, contentType: nil)
            #expect(wrongToken.status == 401)
            #expect(wrongToken.body == ["ok": false, "error_code": 401, "description": "Unauthorized"])

            let noBot = try await api.raw(method: "GET", path: "/favicon.ico", body: nil, contentType: nil)
            #expect(noBot.status == 404)
            #expect(noBot.body == ["ok": false, "error_code": 404, "description": "Not Found"])

            let unknown = try await api.call("sendTelepathy")
            #expect(unknown.status == 404)
            #expect(unknown.body["description"] == "Not Found: method not found")

            // A user who never started the bot cannot be written to.
            let stranger = try await api.call("sendMessage", ["chat_id": 999, "text": "hi"])
            #expect(stranger.status == 400)
            #expect(stranger.body["description"] == "Bad Request: chat not found")

            await telegram.userSends("/start ord_Zm9v", from: Self.ada)
            let empty = try await api.call("sendMessage", ["chat_id": .number(Double(Self.ada.id)), "text": ""])
            #expect(empty.status == 400)
            #expect(empty.body["error_code"] == 400)
            #expect(empty.body["description"] == "Bad Request: message text is empty")

            // Form encoding carries object parameters as JSON strings.
            let keyboard = #"{"inline_keyboard":[[{"text":"Take","callback_data":"op:take:42"}]]}"#
            let form = "chat_id=\(Self.ada.id)&text=Hello+there%21&reply_markup=\(keyboard.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            let sent = try await api.raw(method: "POST", path: "/bot\(Self.token)/sendMessage", body: Data(form.utf8),
                                         contentType: "application/x-www-form-urlencoded")
            #expect(sent.status == 200)
            #expect(sent.body["result"]?["text"] == "Hello there!")
            #expect(sent.body["result"]?["chat"]?["type"] == "private")
            let message = try #require(telegram.messages(to: Self.ada.id).last)
            #expect(message.text == "Hello there!")
            #expect(message.replyMarkup?["inline_keyboard"]?["0"]?["0"]?["callback_data"] == "op:take:42")
            #expect(message.method == "sendMessage")

            // Multipart, as uploads are sent: a file part and plain fields.
            let boundary = "XyZ123"
            let multipart = "--\(boundary)\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n\(Self.ada.id)\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"document\"; filename=\"offer.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 test\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nОферта\r\n--\(boundary)--\r\n"
            let upload = try await api.raw(method: "POST", path: "/bot\(Self.token)/sendDocument", body: Data(multipart.utf8),
                                           contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(upload.status == 200)
            #expect(upload.body["result"]?["document"]?["file_name"] == "offer.pdf")
            #expect(upload.body["result"]?["caption"] == "Оферта")
            _ = try await api.call("sendMessage", ["chat_id": .number(Double(Self.ada.id)), "text": "x"])

            let calls = telegram.calls.map { "\($0.method) \($0.status)" }
            #expect(calls == ["getMe 200", "getMe 200", "getMe 401", "sendTelepathy 404", "sendMessage 400", "sendMessage 400", "sendMessage 200", "sendDocument 200", "sendMessage 200"])
            #expect(telegram.calls.last?.method == "sendmessage")
        }
    }

    @Test func longPollWaitsForAnUpdateAndOffsetConfirms() async throws {
        try await withBot { telegram, api in
            // Nothing queued: the poll really waits about `timeout` seconds.
            let clock = ContinuousClock()
            let started = clock.now
            let idle = try await api.call("getUpdates", ["timeout": 1])
            let waited = clock.now - started
            #expect(idle.body["result"] == [])
            #expect(waited >= .milliseconds(900))

            // A message during the poll ends it long before its 60 s (bounds generous for a loaded machine).
            let pollStart = clock.now
            async let poll = api.call("getUpdates", ["timeout": 60])
            try await Task.sleep(for: .milliseconds(300))
            let updateID = await telegram.userSends("/start ord_Zm9vYmFy", from: Self.ada)
            let answered = try await poll
            #expect(clock.now - pollStart < .seconds(30))
            let updates = try #require(answered.body["result"]?.arrayValue)
            #expect(updates.count == 1)
            #expect(updates.first?["update_id"] == .number(Double(updateID)))
            #expect(updates.first?["message"]?["text"] == "/start ord_Zm9vYmFy")
            #expect(updates.first?["message"]?["entities"] == [["type": "bot_command", "offset": 0, "length": 6]])
            #expect(updates.first?["message"]?["chat"]?["id"] == .number(Double(Self.ada.id)))

            // Unconfirmed updates come again; a higher offset confirms them.
            let again = try await api.call("getUpdates", ["timeout": 0])
            #expect(again.body["result"]?.arrayValue?.count == 1)
            let second = await telegram.userSends("thanks", from: Self.ada)
            let confirmed = try await api.call("getUpdates", ["offset": .number(Double(updateID + 1)), "timeout": 0])
            #expect(confirmed.body["result"]?.arrayValue?.map { $0["update_id"] } == [.number(Double(second))])
            _ = try await api.call("getUpdates", ["offset": .number(Double(second + 1))])
            #expect(telegram.pendingUpdateCount == 0)
        }
    }

    @Test func secondPollerTerminatesTheFirstWith409() async throws {
        try await withBot { _, api in
            let clock = ContinuousClock()
            let started = clock.now
            async let first = api.call("getUpdates", ["timeout": 60])
            try await Task.sleep(for: .milliseconds(300))
            async let second = api.call("getUpdates", ["timeout": 1])
            let (older, newer) = try await (first, second)
            #expect(older.status == 409)
            #expect(older.body["error_code"] == 409)
            #expect(older.body["description"] == "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
            #expect(newer.status == 200)
            #expect(newer.body["result"] == [])
            #expect(clock.now - started < .seconds(30), "the first poll ended by the second, not by its 60 s")

            // Setting a webhook ends a running long poll too.
            async let third = api.call("getUpdates", ["timeout": 5])
            try await Task.sleep(for: .milliseconds(300))
            let set = try await api.call("setWebhook", ["url": "http://127.0.0.1:9/hook"])
            #expect(set.body["result"] == true)
            let cut = try await third
            #expect(cut.status == 409)
            #expect(cut.body["description"] == "Conflict: terminated by setWebhook request")
            let same = try await api.call("setWebhook", ["url": "http://127.0.0.1:9/hook"])
            #expect(same.body["description"] == "Webhook is already set")
        }
    }

    @Test func webhookDeliversWithSecretHeaderAndRetries() async throws {
        let receiver = WebhookReceiver(failFirst: 1)
        let hook = try await EmulatorServer.start(receiver.router(), name: "hook")
        do {
            try await deliverToWebhook(at: hook, receiver: receiver)
        } catch {
            await hook.stop()
            throw error
        }
        await hook.stop()
    }

    private func deliverToWebhook(at hook: EmulatorServer, receiver: WebhookReceiver) async throws {
        try await withBot { telegram, api in
            telegram.setWebhookRetry(attempts: 3, initialBackoff: .milliseconds(50))
            let set = try await api.call("setWebhook", ["url": .string("\(hook.baseURL)/hook"), "secret_token": "s3cr3t_T-1",
                                                        "allowed_updates": ["message", "callback_query"]])
            #expect(set.body == ["ok": true, "result": true, "description": "Webhook was set"])

            let blocked = try await api.call("getUpdates")
            #expect(blocked.status == 409)
            #expect(blocked.body["description"] == "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")

            let first = await telegram.userSends("hello", from: Self.ada)
            let second = await telegram.userSends("again", from: Self.ada)
            try await eventually { receiver.accepted.count == 2 }
            let accepted = receiver.accepted
            #expect(accepted.map(\.secret) == ["s3cr3t_T-1", "s3cr3t_T-1"])
            #expect(accepted.map { $0.update["update_id"] } == [.number(Double(first)), .number(Double(second))])
            #expect(accepted.first?.update["message"]?["text"] == "hello")
            #expect(receiver.attempts == 3)  // the first POST got 500 and was repeated

            let info = try await api.call("getWebhookInfo")
            #expect(info.body["result"]?["url"] == .string("\(hook.baseURL)/hook"))
            #expect(info.body["result"]?["pending_update_count"] == 0)
            #expect(info.body["result"]?["last_error_message"]?.stringValue?.contains("500") == true)
            #expect(info.body["result"]?["allowed_updates"] == ["message", "callback_query"])

            let deleted = try await api.call("deleteWebhook")
            #expect(deleted.body["description"] == "Webhook was deleted")
            let polled = try await api.call("getUpdates")
            #expect(polled.status == 200)
            #expect(try await api.call("getWebhookInfo").body["result"]?["url"] == "")
        }
    }

    @Test func joinRequestThroughInviteLinkIsApproved() async throws {
        try await withBot { telegram, api in
            telegram.addGroup(id: Self.groupID, title: "Paid sessions", hasProtectedContent: true)
            _ = try await api.call("getUpdates", ["allowed_updates": ["message", "chat_join_request", "chat_member"]])
            let expire = Int(Date().timeIntervalSince1970) + 3600
            let created = try await api.call("createChatInviteLink", ["chat_id": .number(Double(Self.groupID)), "name": "order-8f3a",
                                                                     "creates_join_request": true, "expire_date": .number(Double(expire))])
            let link = try #require(created.body["result"]?["invite_link"]?.stringValue)
            #expect(link.hasPrefix("https://t.me/+"))
            #expect(created.body["result"]?["creates_join_request"] == true)
            #expect(created.body["result"]?["is_revoked"] == false)
            #expect(created.body["result"]?["creator"]?["id"] == 123456)
            #expect(telegram.inviteLinks.first?.name == "order-8f3a")

            let requestID = await telegram.userRequestsToJoin(groupID: Self.groupID, via: link, from: Self.ada)
            #expect(requestID > 0)
            #expect(!telegram.isMember(Self.ada.id, of: Self.groupID))
            let request = try #require(try await api.call("getUpdates").body["result"]?.arrayValue?.last)
            #expect(request["chat_join_request"]?["from"]?["id"] == .number(Double(Self.ada.id)))
            #expect(request["chat_join_request"]?["invite_link"]?["name"] == "order-8f3a")
            // During a pending request the bot may write to the user.
            let note = try await api.call("sendMessage", ["chat_id": .number(Double(Self.ada.id)), "text": "Checking your payment"])
            #expect(note.status == 200)

            let approved = try await api.call("approveChatJoinRequest", ["chat_id": .number(Double(Self.groupID)), "user_id": .number(Double(Self.ada.id))])
            #expect(approved.body == ["ok": true, "result": true])
            #expect(telegram.isMember(Self.ada.id, of: Self.groupID))
            #expect(telegram.inviteLinks.first?.joinedUserIDs == [Self.ada.id])
            let joined = try await api.call("getUpdates", ["offset": .number(Double(requestID + 1))])
            #expect(joined.body["result"]?["0"]?["chat_member"]?["new_chat_member"]?["status"] == "member")
            let member = try await api.call("getChatMember", ["chat_id": .number(Double(Self.groupID)), "user_id": .number(Double(Self.ada.id))])
            #expect(member.body["result"]?["status"] == "member")
            let chat = try await api.call("getChat", ["chat_id": .number(Double(Self.groupID))])
            #expect(chat.body["result"]?["has_protected_content"] == true)
            #expect(chat.body["result"]?["type"] == "supergroup")

            // Handled already: a second approval and a decline without a request both fail like Telegram.
            let again = try await api.call("declineChatJoinRequest", ["chat_id": .number(Double(Self.groupID)), "user_id": .number(Double(Self.bob.id))])
            #expect(again.status == 400)
            #expect(again.body["description"] == "Bad Request: HIDE_REQUESTER_MISSING")

            // Removing a member: ban then unban only_if_banned leaves them out but able to return.
            _ = try await api.call("banChatMember", ["chat_id": .number(Double(Self.groupID)), "user_id": .number(Double(Self.ada.id))])
            #expect(!telegram.isMember(Self.ada.id, of: Self.groupID))
            #expect(telegram.isBanned(Self.ada.id, from: Self.groupID))
            _ = try await api.call("unbanChatMember", ["chat_id": .number(Double(Self.groupID)), "user_id": .number(Double(Self.ada.id)), "only_if_banned": true])
            #expect(!telegram.isBanned(Self.ada.id, from: Self.groupID))
        }
    }

    @Test func memberLimitLinkLetsOneUserInAndRevokedLinksNobody() async throws {
        try await withBot { telegram, api in
            telegram.addGroup(id: Self.groupID, title: "Paid sessions", hasProtectedContent: false)
            let both = try await api.call("createChatInviteLink", ["chat_id": .number(Double(Self.groupID)), "member_limit": 1, "creates_join_request": true])
            #expect(both.status == 400)
            let created = try await api.call("createChatInviteLink", ["chat_id": .number(Double(Self.groupID)), "member_limit": 1])
            let link = try #require(created.body["result"]?["invite_link"]?.stringValue)
            #expect(created.body["result"]?["member_limit"] == 1)

            // chat_member is not in the default allowed_updates: the join happens, no update is made.
            #expect(await telegram.userRequestsToJoin(groupID: Self.groupID, via: link, from: Self.ada) == 0)
            #expect(telegram.isMember(Self.ada.id, of: Self.groupID))
            #expect(await telegram.userRequestsToJoin(groupID: Self.groupID, via: link, from: Self.bob) == 0)
            #expect(!telegram.isMember(Self.bob.id, of: Self.groupID))

            let other = try await api.call("createChatInviteLink", ["chat_id": .number(Double(Self.groupID))])
            let otherLink = try #require(other.body["result"]?["invite_link"]?.stringValue)
            let revoked = try await api.call("revokeChatInviteLink", ["chat_id": .number(Double(Self.groupID)), "invite_link": .string(otherLink)])
            #expect(revoked.body["result"]?["is_revoked"] == true)
            _ = await telegram.userRequestsToJoin(groupID: Self.groupID, via: otherLink, from: Self.bob)
            #expect(!telegram.isMember(Self.bob.id, of: Self.groupID))
        }
    }

    @Test func failNextAnswers429WithRetryAfter() async throws {
        try await withBot { telegram, api in
            telegram.addGroup(id: Self.groupID, title: "Paid sessions", hasProtectedContent: false)
            telegram.failNext(1, method: "sendMessage", status: 429, retryAfter: 3)
            let params: Value = ["chat_id": .number(Double(Self.groupID)), "text": "Ссылка на сеанс"]
            let limited = try await api.call("sendMessage", params)
            #expect(limited.status == 429)
            #expect(limited.retryAfterHeader == "3")
            #expect(limited.body == ["ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": ["retry_after": 3]])
            #expect(telegram.sentMessages.isEmpty)
            let retried = try await api.call("sendMessage", params)
            #expect(retried.status == 200)
            #expect(telegram.sentMessages.count == 1)

            // Flood control on demand: more than one message to the chat within a second. Sent back
            // to back until one lands within the same second (a loaded machine may be slow).
            telegram.setRateLimit(perChatPerSecond: 1)
            var flooded: BotAPI.Answer?
            for _ in 0..<10 where flooded == nil {
                let answer = try await api.call("sendMessage", params)
                if answer.status == 429 { flooded = answer }
            }
            #expect(flooded?.body["parameters"]?["retry_after"] == 1)
            #expect(flooded?.body["description"] == "Too Many Requests: retry after 1")
            #expect(Array(telegram.calls.map(\.status).prefix(2)) == [429, 200])
        }
    }

    @Test func protectedPostIsRecordedAndPinned() async throws {
        try await withBot { telegram, api in
            telegram.addGroup(id: Self.groupID, title: "Paid sessions", hasProtectedContent: false)
            let post = try await api.call("sendMessage", [
                "chat_id": .number(Double(Self.groupID)), "text": "<b>Ссылка на сеанс:</b> https://zoom.us/j/1?pwd=a&amp;b",
                "parse_mode": "HTML", "protect_content": true, "link_preview_options": ["is_disabled": true],
            ])
            #expect(post.status == 200)
            #expect(post.body["result"]?["has_protected_content"] == true)
            #expect(post.body["result"]?["text"] == "Ссылка на сеанс: https://zoom.us/j/1?pwd=a&b")
            let sent = try #require(telegram.messages(to: Self.groupID).first)
            #expect(sent.protectContent)
            #expect(sent.parseMode == "HTML")
            #expect(sent.linkPreviewOptions == ["is_disabled": true])

            let messageID = try #require(post.body["result"]?["message_id"])
            let pinned = try await api.call("pinChatMessage", ["chat_id": .number(Double(Self.groupID)), "message_id": messageID])
            #expect(pinned.body["result"] == true)
            #expect(telegram.pinnedMessage(in: Self.groupID)?.messageID == sent.messageID)

            // Protected content cannot be forwarded; malformed markup is refused like Telegram does.
            let forward = try await api.call("forwardMessage", ["chat_id": .number(Double(Self.groupID)), "from_chat_id": .number(Double(Self.groupID)), "message_id": messageID])
            #expect(forward.status == 400)
            let markdown = try await api.call("sendMessage", ["chat_id": .number(Double(Self.groupID)), "text": "Start at 19.00", "parse_mode": "MarkdownV2"])
            #expect(markdown.body["description"] == "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'")
            let html = try await api.call("sendMessage", ["chat_id": .number(Double(Self.groupID)), "text": "a <script>", "parse_mode": "HTML"])
            #expect(html.status == 400)
            #expect(telegram.sentMessages.count == 1)
        }
    }

    @Test func operatorHandOverWithCallbacksCopiesAndReplies() async throws {
        try await withBot { telegram, api in
            telegram.addGroup(id: Self.operatorsID, title: "Operators", hasProtectedContent: false)
            let question = await telegram.userSends("Can I pay later?", from: Self.ada)
            let update = try #require(try await api.call("getUpdates").body["result"]?["0"])
            #expect(update["update_id"] == .number(Double(question)))
            let userMessageID = try #require(update["message"]?["message_id"])

            let forwarded = try await api.call("forwardMessage", ["chat_id": .number(Double(Self.operatorsID)), "from_chat_id": .number(Double(Self.ada.id)),
                                                                  "message_id": userMessageID])
            #expect(forwarded.body["result"]?["forward_origin"]?["sender_user"]?["id"] == .number(Double(Self.ada.id)))
            let card = try await api.call("sendMessage", ["chat_id": .number(Double(Self.operatorsID)), "text": "Client Ada",
                                                          "reply_markup": ["inline_keyboard": [[["text": "Take", "callback_data": "op:take:1"]]]]])
            let cardID = try #require(card.body["result"]?["message_id"]?.intValue)

            let press = await telegram.userPresses(callbackData: "op:take:1", on: Int64(cardID), from: Self.bob)
            let forwardedID = try #require(forwarded.body["result"]?["message_id"]?.intValue)
            let reply = await telegram.operatorReplies(inChat: Self.operatorsID, to: Int64(forwardedID), text: "Yes, you can", from: Self.bob)
            let updates = try #require(try await api.call("getUpdates", ["offset": .number(Double(question + 1))]).body["result"]?.arrayValue)
            #expect(updates.map { $0["update_id"] } == [.number(Double(press)), .number(Double(reply))])
            let queryID = try #require(updates[0]["callback_query"]?["id"])
            #expect(updates[0]["callback_query"]?["data"] == "op:take:1")
            #expect(updates[1]["message"]?["reply_to_message"]?["forward_origin"]?["sender_user"]?["id"] == .number(Double(Self.ada.id)))

            let answered = try await api.call("answerCallbackQuery", ["callback_query_id": queryID, "text": "Taken"])
            #expect(answered.body["result"] == true)
            #expect(telegram.callbackAnswers.map(\.text) == ["Taken"])
            let twice = try await api.call("answerCallbackQuery", ["callback_query_id": queryID])
            #expect(twice.status == 400)

            let operatorMessageID = try #require(updates[1]["message"]?["message_id"])
            let copied = try await api.call("copyMessage", ["chat_id": .number(Double(Self.ada.id)), "from_chat_id": .number(Double(Self.operatorsID)),
                                                            "message_id": operatorMessageID])
            #expect(copied.body["result"]?["message_id"] != nil)
            let toAda = telegram.messages(to: Self.ada.id)
            #expect(toAda.map(\.text) == ["Yes, you can"])
            #expect(toAda.first?.method == "copyMessage")

            let photo = try await api.call("sendPhoto", ["chat_id": .number(Double(Self.operatorsID)), "photo": "AgACAgIAAxkBAAIB", "caption": "from Ada"])
            #expect(photo.body["result"]?["photo"]?["0"]?["file_id"] == "AgACAgIAAxkBAAIB")
            #expect(telegram.sentMessages.last?.fileID == "AgACAgIAAxkBAAIB")
        }
    }

    // MARK: Support

    private func withBot(_ body: (TelegramEmulator, BotAPI) async throws -> Void) async throws {
        try await BotAPI.withEmulator(token: Self.token, body)
    }

    /// Polls a condition every 50 ms for at most 5 s.
    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<100 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not met within 5 s")
    }
}

/// A bot's side of the Bot API, over URLSession.
struct BotAPI: Sendable {
    let base: String
    let token: String

    struct Answer: Sendable {
        var status: Int
        var body: Value
        var retryAfterHeader: String?
    }

    func call(_ method: String, _ params: Value = [:]) async throws -> Answer {
        try await raw(method: "POST", path: "/bot\(token)/\(method)", body: Data(params.json.utf8), contentType: "application/json")
    }

    func raw(method: String, path: String, body: Data?, contentType: String?) async throws -> Answer {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: 15)
        request.httpMethod = method
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return Answer(status: http.statusCode, body: try Value(jsonData: data), retryAfterHeader: http.value(forHTTPHeaderField: "Retry-After"))
    }
}

/// A tiny webhook endpoint that fails its first `failFirst` requests with 500.
private final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var secret: String?
        var update: Value
    }

    private let state: Mutex<(attempts: Int, accepted: [Delivery])> = Mutex((0, []))
    private let failFirst: Int

    init(failFirst: Int) { self.failFirst = failFirst }

    var accepted: [Delivery] { state.withLock { $0.accepted } }
    var attempts: Int { state.withLock { $0.attempts } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let update = try Value(jsonData: Data(body.readableBytesView))
            let secret = request.headers[HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!]
            let accept = self.state.withLock { s in
                s.attempts += 1
                guard s.attempts > self.failFirst else { return false }
                s.accepted.append(Delivery(secret: secret, update: update))
                return true
            }
            return Response(status: accept ? .ok : .internalServerError)
        }
        return router
    }
}

extension BotAPI {
    /// An emulator for the bot with `token` (and the group `groupID`, when given) on a loopback
    /// port, with a client for its Bot API; stopped when `body` ends.
    static func withEmulator(token: String, groupID: Int64? = nil, _ body: (TelegramEmulator, BotAPI) async throws -> Void) async throws {
        let telegram = TelegramEmulator(token: token)
        if let groupID { telegram.addGroup(id: groupID, title: "Group", hasProtectedContent: false) }
        let server = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let api = BotAPI(base: server.baseURL, token: token)
        do {
            try await body(telegram, api)
        } catch {
            await telegram.shutdown()
            await server.stop()
            throw error
        }
        await telegram.shutdown()
        await server.stop()
    }
}
