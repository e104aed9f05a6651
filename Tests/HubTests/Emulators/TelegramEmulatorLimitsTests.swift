import Emulators
import Flows
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the Bot API refuses and how, and requests meant to hurt the emulator (which runs inside
/// the sandbox hub): every one gets an answer, and a stranger's request costs no memory.
@Suite("TelegramEmulator limits", .timeLimit(.minutes(1)))
struct TelegramEmulatorLimitsTests {
    static let token = "123456:TEST-token_abc"
    static let groupID: Int64 = -1001234567890
    static let ada = EmulatedUser(id: 111222333, firstName: "Ada", username: "ada")
    static let bob = EmulatedUser(id: 444555666, firstName: "Bob")

    @Test func theLowestNegativeOffsetIsAnOrdinaryPoll() async throws {
        try await withBot { telegram, api in
            await telegram.userSends("hello", from: Self.ada)
            let poll = try await api.raw(method: "GET", path: "/bot\(Self.token)/getUpdates?offset=-9223372036854775808",
                                         body: nil, contentType: nil)
            #expect(poll.status == 200)
            #expect(poll.body["result"]?.arrayValue?.count == 1)
        }
    }

    @Test func aWrongTokenIsRecordedWithoutItsParameters() async throws {
        try await withBot { telegram, api in
            let text = String(repeating: "x", count: 1 << 20)
            let body = Data(Value.object(["chat_id": .number(Double(Self.ada.id)), "text": .string(text)]).json.utf8)
            let wrong = try await api.raw(method: "POST", path: "/bot123456:WRONG/sendMessage?secret=1", body: body,
                                          contentType: "application/json")
            #expect(wrong.status == 401)
            #expect(wrong.body["description"] == "Unauthorized")
            // A body that is no JSON at all is never looked at either.
            let garbage = try await api.raw(method: "POST", path: "/bot123456:WRONG/sendMessage", body: Data("{".utf8),
                                            contentType: "application/json")
            #expect(garbage.status == 401)
            let recorded = telegram.calls(of: "sendMessage")
            #expect(recorded.map(\.status) == [401, 401])
            #expect(recorded.map(\.params) == [[:], [:]])
        }
    }

    /// A part that starts far into the body is found without comparing the boundary at every byte.
    @Test func aLongBoundaryAfterAHugePreambleIsFound() async throws {
        try await withBot { telegram, api in
            await telegram.userSends("/start", from: Self.ada)
            let boundary = String(repeating: "-", count: 9_999) + "x"
            var body = String(repeating: "-", count: 5 << 20)
            for (name, value) in [("chat_id", String(Self.ada.id)), ("text", "через multipart")] {
                body += "\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)"
            }
            body += "\r\n--\(boundary)--\r\n"
            let sent = try await api.raw(method: "POST", path: "/bot\(Self.token)/sendMessage", body: Data(body.utf8),
                                         contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(sent.status == 200)
            #expect(telegram.messages(to: Self.ada.id).map(\.text) == ["через multipart"])
        }
    }

    /// Telegram counts UTF-16 code units: 4096 emoji are 8192 of them.
    @Test func textAndCaptionsAreLimitedInUTF16CodeUnits() async throws {
        try await withBot { telegram, api in
            await telegram.userSends("/start", from: Self.ada)
            let chat = Value.number(Double(Self.ada.id))
            let fits = try await api.call("sendMessage", ["chat_id": chat, "text": .string(String(repeating: "я", count: 4096))])
            #expect(fits.status == 200)
            let emoji = try await api.call("sendMessage", ["chat_id": chat, "text": .string(String(repeating: "😀", count: 2049))])
            #expect(emoji.status == 400)
            #expect(emoji.body["description"] == "Bad Request: message is too long")
            // Markup is not counted, only the text it leaves.
            let bold = try await api.call("sendMessage", ["chat_id": chat, "parse_mode": "HTML",
                                                          "text": .string("<b>" + String(repeating: "a", count: 4096) + "</b>")])
            #expect(bold.status == 200)

            let photo: Value = ["chat_id": chat, "photo": "AgACAgIAAxkBAAIB", "caption": .string(String(repeating: "😀", count: 513))]
            let caption = try await api.call("sendPhoto", photo)
            #expect(caption.status == 400)
            #expect(caption.body["description"] == "Bad Request: message caption is too long")

            await telegram.userSendsPhoto(fileID: "AgACAgIAAxkBAAIC", from: Self.ada)
            let updates = try await api.call("getUpdates", ["timeout": 0])
            let photoMessage = updates.body["result"]?.arrayValue?.compactMap { $0["message"] }.last { $0["photo"] != nil }
            let photoID = try #require(photoMessage?["message_id"])
            let copy = try await api.call("copyMessage", ["chat_id": chat, "from_chat_id": chat, "message_id": photoID,
                                                          "caption": .string(String(repeating: "😀", count: 513))])
            #expect(copy.status == 400)
            #expect(copy.body["description"] == "Bad Request: message caption is too long")

            let original = try #require(fits.body["result"]?["message_id"])
            let edit = try await api.call("editMessageText", ["chat_id": chat, "message_id": original,
                                                              "text": .string(String(repeating: "😀", count: 2049))])
            #expect(edit.status == 400)
            #expect(edit.body["description"] == "Bad Request: message is too long")
            #expect(telegram.messages(to: Self.ada.id).count == 2)
        }
    }

    @Test func aKnownUserWhoNeverStartedTheBotCannotBeWrittenTo() async throws {
        try await withBot { telegram, api in
            telegram.addMember(Self.bob, to: Self.groupID)
            let bob = try await api.call("sendMessage", ["chat_id": .number(Double(Self.bob.id)), "text": "hi"])
            #expect(bob.status == 403)
            #expect(bob.body["description"] == "Forbidden: bot can't initiate conversation with a user")
            let photo = try await api.call("sendPhoto", ["chat_id": .number(Double(Self.bob.id)), "photo": "AgACAgIAAxkBAAIB"])
            #expect(photo.status == 403)

            let stranger = try await api.call("sendMessage", ["chat_id": 999, "text": "hi"])
            #expect(stranger.status == 400)
            #expect(stranger.body["description"] == "Bad Request: chat not found")

            await telegram.userSends("/start", from: Self.bob)
            let started = try await api.call("sendMessage", ["chat_id": .number(Double(Self.bob.id)), "text": "hi"])
            #expect(started.status == 200)
            #expect(telegram.messages(to: Self.bob.id).map(\.text) == ["hi"])
        }
    }

    // MARK: Support

    private func withBot(_ body: (TelegramEmulator, BotAPI) async throws -> Void) async throws {
        try await BotAPI.withEmulator(token: Self.token, groupID: Self.groupID, body)
    }
}
