import Emulators
import Flows
import Foundation
import Hub
import Testing
@testable import TelegramConnector

/// Actions against the emulator: what the bot did, as the emulator saw it.
@Suite(.serialized) struct TelegramActionTests {
    typealias H = TelegramHarness

    @Test func sendInviteBindsALinkToTheMemberAndProtectsTheMessage() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start ORDER1", from: H.ada)  // pressing Start lets the bot write
        let connector = try h.connector()
        let call = H.call("send_invite", ["user": .id(H.ada.id), "member_id": "42"], key: "run-7:invite")
        let before = TelegramEffects.now()
        let result = try await connector.perform(call)

        let link = try #require(h.emulator.inviteLinks.first)
        #expect(h.emulator.inviteLinks.count == 1)
        #expect(link.chatID == H.groupID)
        #expect(link.name == "m:42")
        #expect(link.createsJoinRequest)
        #expect(link.memberLimit == nil)
        let expires = try #require(link.expireDate)
        #expect(expires >= before + 86_400 && expires <= before + 86_400 + 5)
        #expect(result["invite_link"] == .string(link.inviteLink))
        #expect(result["expires_at"]?.telegramID == expires)

        let message = try #require(h.emulator.messages(to: H.ada.id).last)
        #expect(message.protectContent)
        #expect(message.text?.contains(link.inviteLink) == true)
        #expect(message.text?.contains("Спасибо за оплату") == true)
        #expect(result["message_id"]?.telegramID == message.messageID)

        // A resumed run (same key) neither makes a second link nor sends a second message.
        let again = try await connector.perform(call)
        #expect(again == result)
        #expect(h.emulator.inviteLinks.count == 1)
        #expect(h.emulator.messages(to: H.ada.id).count == 1)

        // Another run for the same member reuses the still valid link.
        let other = try await connector.perform(H.call("send_invite", ["user": .id(H.ada.id), "member_id": "42", "text": "Ссылка: {link}"],
                                                       key: "run-8:invite"))
        #expect(h.emulator.inviteLinks.count == 1)
        #expect(other["invite_link"] == result["invite_link"])
        #expect(h.emulator.messages(to: H.ada.id).last?.text == "Ссылка: \(link.inviteLink)")

        // The link lets only a request in; approving it makes the user a member.
        await h.emulator.userRequestsToJoin(groupID: H.groupID, via: link.inviteLink, from: H.ada)
        #expect(h.emulator.hasPendingJoinRequest(H.ada.id, in: H.groupID))
        let approved = try await connector.perform(H.call("approve_join", ["user": .id(H.ada.id)], key: "run-9:approve"))
        #expect(approved["approved"] == true)
        #expect(h.emulator.isMember(H.ada.id, of: H.groupID))
        // Approving again with a new key: the request is gone, but the user is in, so it is harmless.
        _ = try await connector.perform(H.call("approve_join", ["user": .id(H.ada.id)], key: "run-10:approve"))
        // The same, while Telegram answers the membership check with 429: a wait, not a failure.
        h.emulator.failNext(1, method: "getChatMember", status: 429, retryAfter: 2)
        await #expect {
            try await connector.perform(H.call("approve_join", ["user": .id(H.ada.id)], key: "run-11:approve"))
        } throws: { ($0 as? ConnectorError)?.disposition == .retryAfter(.seconds(2)) }

        // Removing: out of the group, not blacklisted.
        _ = try await connector.perform(H.call("remove_member", ["user": .id(H.ada.id)]))
        #expect(!h.emulator.isMember(H.ada.id, of: H.groupID))
        #expect(!h.emulator.isBanned(H.ada.id, from: H.groupID))
    }

    @Test("four runs inviting one member at once make one link between them")
    func simultaneousInvitesShareALink() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start ORDER1", from: H.ada)
        let connector = try h.connector()
        let results = try await withThrowingTaskGroup(of: Value.self) { group in
            for run in 0..<4 {
                group.addTask { try await connector.perform(H.call("send_invite", ["user": .id(H.ada.id), "member_id": "42"], key: "run-\(run):invite")) }
            }
            return try await group.reduce(into: [Value]()) { $0.append($1) }
        }
        #expect(h.emulator.inviteLinks.count == 1)
        #expect(Set(results.compactMap { $0["invite_link"] }).count == 1)
    }

    @Test func createAndRevokeInvite() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let connector = try h.connector()
        let created = try await connector.perform(H.call("create_invite", ["member_id": "member-0123456789-0123456789-0123456789"]))
        let link = try #require(h.emulator.inviteLinks.first)
        #expect(link.name == String("m:member-0123456789-0123456789-0123456789".prefix(32)))
        #expect(h.emulator.sentMessages.isEmpty)
        _ = try await connector.perform(H.call("revoke_invite", ["invite_link": created["invite_link"] ?? .null]))
        #expect(h.emulator.inviteLinks.first?.isRevoked == true)
        // A revoked link is not handed out again.
        let fresh = try await connector.perform(H.call("create_invite", ["member_id": "member-0123456789-0123456789-0123456789"]))
        #expect(fresh["invite_link"] != created["invite_link"])
        #expect(h.emulator.inviteLinks.count == 2)
    }

    @Test("a long flood-control wait goes back to the engine as 'retry after'")
    func floodControlBecomesRetryAfter() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start", from: H.ada)
        h.emulator.failNext(5, method: "sendMessage", status: 429, retryAfter: 45)
        for attempt in 1...3 {
            // A connector of its own each time (as after a restart): one connector holds the chat for
            // the 45 s, and its next send would wait that out first.
            let connector = try h.connector()
            do {
                _ = try await connector.perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "hi"], key: "storm"))
                Issue.record("attempt \(attempt) went through a 429")
            } catch let error as ConnectorError {
                #expect(error.code == "telegram-429")
                #expect(error.disposition == .retryAfter(.seconds(45)))
                #expect(!error.description.contains(H.token))
            }
        }
        #expect(h.emulator.messages(to: H.ada.id).isEmpty)
    }

    @Test("short flood-control waits are waited out inside the step: the message goes once, no attempt is used up")
    func shortFloodControlIsWaitedOut() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start", from: H.ada)
        h.emulator.failNext(2, method: "sendMessage", status: 429, retryAfter: 1)
        let connector = try h.connector()
        let started = ContinuousClock.now
        _ = try await connector.perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "hi"], key: "busy"))
        #expect(h.emulator.calls(of: "sendMessage").count == 3)
        #expect(h.emulator.messages(to: H.ada.id).map(\.text) == ["hi"])
        // Each retry waited for the chat's hold, not a moment less.
        #expect(ContinuousClock.now - started >= .seconds(2))
    }

    @Test func badRequestIsPermanentAndNamesTheReason() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let connector = try h.connector()
        h.emulator.failNext(1, method: "sendMessage", status: 400, description: "Bad Request: chat not found")
        do {
            _ = try await connector.perform(H.call("send_message", ["chat_id": 424242, "text": "hi"]))
            Issue.record("a 400 was taken for success")
        } catch let error as ConnectorError {
            #expect(error.disposition == .permanent)
            #expect(error.code == "telegram-400")
            #expect(error.message.contains("chat not found"))
            #expect(!error.description.contains(H.token))
        }
        // A real refusal from the emulator: the user never pressed Start.
        do {
            _ = try await connector.perform(H.call("send_message", ["chat_id": 987654, "text": "hi"]))
            Issue.record("wrote to a user who never started the bot")
        } catch let error as ConnectorError {
            #expect(error.disposition == .permanent)
        }
    }

    @Test func paidBroadcastIsAskedForOnEverySendOnlyWhenConfigured() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start", from: H.ada)
        _ = try await h.connector().perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "обычная"]))
        _ = try await h.connector(settings: ["paid_broadcast": true]).perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "платная"]))
        let sends = h.emulator.calls(of: "sendMessage").map { ($0.params["text"]?.stringValue ?? "", $0.params["allow_paid_broadcast"]) }
        #expect(sends.map(\.0) == ["обычная", "платная"])
        #expect(sends[0].1 == nil)
        #expect(sends[1].1 == true)
    }

    @Test func sendMessageWithButtonsAndItsRepeat() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start", from: H.ada)
        let connector = try h.connector()
        let call = H.call("send_message", [
            "chat_id": .string("\(H.ada.id)"), "text": "<b>Готово</b>", "parse_mode": "HTML", "protect_content": true,
            "buttons": [["text": "Сайт", "url": "https://example.com"], ["text": "Оператор", "data": "op:call"]],
        ], key: "run-1:send")
        let result = try await connector.perform(call)
        let sent = try #require(h.emulator.messages(to: H.ada.id).last)
        #expect(result["message_id"]?.telegramID == sent.messageID)
        #expect(sent.protectContent)
        #expect(sent.parseMode == "HTML")
        let rows = try #require(sent.replyMarkup?["inline_keyboard"]?.arrayValue)
        #expect(rows.count == 2)
        #expect(rows[1].arrayValue?.first?["callback_data"] == "op:call")
        _ = try await connector.perform(call)
        #expect(h.emulator.messages(to: H.ada.id).count == 1, "the same step never sends twice")

        do {
            _ = try await connector.perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "x",
                                                                    "buttons": [["text": "long", "data": .string(String(repeating: "d", count: 65))]]]))
            Issue.record("callback data over 64 bytes accepted")
        } catch let error as ConnectorError {
            #expect(error.disposition == .permanent)
        }
    }

    @Test func groupPostsAreAlwaysProtectedAndCanBePinned() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let logs = CapturedLogs()
        let connector = try h.connector(logger: logs.logger)
        let call = ActionCall(action: "post_group", inputs: Fields(["text": "Ссылка на сеанс: https://zoom.us/j/1", "protect_content": false, "pin": true]),
                              idempotencyKey: "run-2:post", runID: "run-2", stepID: "post", flow: "daily", logger: logs.logger)
        let result = try await connector.perform(call)
        let post = try #require(h.emulator.messages(to: H.groupID).last)
        #expect(post.protectContent, "protect_content: false is ignored for the group")
        #expect(result["message_id"]?.telegramID == post.messageID)
        #expect(h.emulator.pinnedMessage(in: H.groupID)?.messageID == post.messageID)
        // The post itself notified the members; the pin does not notify them a second time.
        #expect(h.emulator.calls(of: "pinChatMessage").first?.params["disable_notification"] == true)
        #expect(logs.all.contains { $0.hasPrefix("warning") && $0.contains("protect_content") })
        _ = try await connector.perform(call)
        #expect(h.emulator.messages(to: H.groupID).count == 1, "a resumed run never posts twice")
    }

    @Test func relayToOperatorsAndTheReplyComesBack() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let sink = RecordingSink()
        let question = await h.emulator.userSends("Когда следующий сеанс?", from: H.ada)
        _ = question
        let connector = try h.connector(sink)
        let run = Task { try await connector.run() }
        #expect(await eventually { await sink.stored.count == 1 })
        let asked = try #require(await sink.stored.first)
        #expect(asked.trigger == "message")

        let relayed = try await connector.perform(H.call("relay_to_operators", [
            "from_chat_id": asked.payload["chat_id"] ?? .null, "message_id": asked.payload["message_id"] ?? .null, "header": "Клиент Ada (id 111222333)",
        ]))
        let inOperators = h.emulator.messages(to: H.operatorsID)
        #expect(inOperators.count == 2)
        #expect(inOperators.first?.text == "Клиент Ada (id 111222333)")
        let copyID = try #require(relayed["operators_message_id"]?.telegramID)
        #expect(inOperators.last?.messageID == copyID)
        #expect(inOperators.last?.text == "Когда следующий сеанс?")

        await h.emulator.operatorReplies(inChat: H.operatorsID, to: copyID, text: "Завтра в 19:00", from: H.operatorUser)
        #expect(await eventually { await sink.stored.count == 2 })
        run.cancel()
        _ = await run.result
        let reply = try #require(await sink.stored.last)
        #expect(reply.trigger == "operator_reply")
        #expect(reply.payload["reply_to_message_id"]?.telegramID == copyID)
        #expect(reply.payload["text"] == "Завтра в 19:00")
        #expect(reply.payload["from"]?["id"]?.telegramID == H.operatorUser.id)

        // The operator's answer goes to the client as a copy.
        let copied = try await connector.perform(H.call("copy_message", [
            "to_chat_id": .id(H.ada.id), "from_chat_id": .id(H.operatorsID), "message_id": reply.payload["message_id"] ?? .null,
        ]))
        #expect(h.emulator.messages(to: H.ada.id).last?.text == "Завтра в 19:00")
        #expect(copied["message_id"]?.telegramID == h.emulator.messages(to: H.ada.id).last?.messageID)
    }

    @Test("after the operators' group became a supergroup, replies from the new chat are still operator replies")
    func operatorsGroupMovedToASupergroup() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let sink = RecordingSink()
        let connector = try h.connector(sink)
        let newID: Int64 = -1009999999999
        let chat: Value = ["id": .id(newID), "type": "supergroup", "title": "Операторы"]
        let moved: Value = ["update_id": 901, "message": ["message_id": 1, "date": 0, "chat": chat, "migrate_from_chat_id": .id(H.operatorsID)]]
        let reply: Value = ["update_id": 902, "message": [
            "message_id": 2, "date": 0, "chat": chat, "text": "Завтра в 19:00",
            "from": ["id": .id(H.operatorUser.id), "is_bot": false, "first_name": "Оператор"],
            "reply_to_message": ["message_id": 77, "date": 0, "chat": chat],
        ]]
        #expect(try await connector.deliver(try #require(TelegramUpdate(moved))) == false)
        // Telegram says it once: a hub started later (or one taking over the updates) knows it too.
        let restarted = try h.connector(sink)
        await restarted.followChatMoves()
        #expect(try await restarted.deliver(try #require(TelegramUpdate(reply))) == true)
        let event = try #require(await sink.stored.last)
        #expect(event.trigger == "operator_reply")
        #expect(event.payload["chat_id"]?.telegramID == newID)
        #expect(event.payload["reply_to_bot"] == false)

        // A relay made after the move goes to the new chat and says so, so replies there map back.
        h.emulator.addGroup(id: newID, title: "Операторы", hasProtectedContent: false)
        await h.emulator.userSends("/start", from: H.ada)
        let sent = try await connector.perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "Где ссылка?"], key: "r:ask"))
        let relayed = try await connector.perform(H.call("relay_to_operators", [
            "from_chat_id": .id(H.ada.id), "message_id": sent["message_id"] ?? .null, "header": "Клиент Ada",
        ], key: "r:relay"))
        #expect(relayed["operators_chat_id"]?.telegramID == newID)
        #expect(h.emulator.messages(to: newID).last?.messageID == relayed["operators_message_id"]?.telegramID)
    }

    /// Only a reply to this bot's own message counts: an anonymous admin posts as a bot too.
    @Test func aReplyToThisBotIsToldFromAReplyToAnotherBot() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let sink = RecordingSink()
        let connector = try h.connector(sink)
        let chat: Value = ["id": .id(H.operatorsID), "type": "supergroup", "title": "Операторы"]
        func reply(_ id: Int, to author: Value) -> Value {
            ["update_id": .number(Double(id)), "message": [
                "message_id": .number(Double(id)), "date": 0, "chat": chat, "text": "ответ",
                "from": ["id": .id(H.operatorUser.id), "is_bot": false, "first_name": "Оператор"],
                "reply_to_message": ["message_id": 5, "date": 0, "chat": chat, "from": author],
            ]]
        }
        let anonymousAdmin: Value = ["id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"]
        let thisBot: Value = ["id": 7000000001, "is_bot": true, "first_name": "Session Hub", "username": "session_hub_bot"]
        #expect(try await connector.deliver(try #require(TelegramUpdate(reply(911, to: anonymousAdmin)))) == true)
        #expect(await sink.stored.last?.payload["reply_to_bot"] == false)
        #expect(try await connector.deliver(try #require(TelegramUpdate(reply(912, to: thisBot)))) == true)
        #expect(await sink.stored.last?.payload["reply_to_bot"] == true)
    }

    @Test func botInfoGivesTheDeepLinkBase() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let info = try await h.connector().perform(H.call("bot_info", [:]))
        #expect(info["username"] == "session_hub_bot")
        #expect(info["id"]?.telegramID == 7000000001)
        #expect(info["link"] == "https://t.me/session_hub_bot")
    }

    @Test("bot_info asks Telegram once: a token's bot does not change, and registrations should not wait on getMe")
    func botInfoIsRemembered() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let connector = try h.connector()
        let first = try await connector.perform(H.call("bot_info", [:]))
        let again = try await connector.perform(H.call("bot_info", [:]))
        #expect(again == first)
        #expect(again["username"] == "session_hub_bot")
        #expect(h.emulator.calls(of: "getMe").count == 1)
    }

    @Test func callbackPressIsReceivedAndAnswered() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        await h.emulator.userSends("/start", from: H.ada)
        let sink = RecordingSink()
        let connector = try h.connector(sink)
        let sent = try await connector.perform(H.call("send_message", ["chat_id": .id(H.ada.id), "text": "Позвать оператора?",
                                                                       "buttons": [["text": "Да", "data": "op:yes"]]]))
        let messageID = try #require(sent["message_id"]?.telegramID)
        await h.emulator.userPresses(callbackData: "op:yes", on: messageID, from: H.ada)
        let run = Task { try await connector.run() }
        #expect(await eventually { await sink.stored.contains { $0.trigger == "callback" } })
        run.cancel()
        _ = await run.result
        let press = try #require(await sink.stored.first { $0.trigger == "callback" })
        #expect(press.payload["data"] == "op:yes")
        #expect(press.payload["message_id"]?.telegramID == messageID)
        let callbackID = try #require(press.payload["callback_id"]?.stringValue)
        _ = try await connector.perform(H.call("answer_callback", ["callback_id": .string(callbackID), "text": "Зову"]))
        #expect(h.emulator.callbackAnswers.first?.callbackQueryID == callbackID)
        #expect(h.emulator.callbackAnswers.first?.text == "Зову")
    }
}
