import Flows
import Foundation
import Hummingbird

/// Where the chat page finds the group and the operators' chat, and what it links back to.
public struct TelegramChatPageSettings: Sendable {
    public var groupID: Int64
    public var operatorsChatID: Int64?
    /// The hub's site and dashboard, for the page's navigation.
    public var siteURL: String?

    public init(groupID: Int64, operatorsChatID: Int64?, siteURL: String?) {
        self.groupID = groupID
        self.operatorsChatID = operatorsChatID
        self.siteURL = siteURL
    }
}

// A web page that plays the Telegram app for the sandbox: the client's chat with the bot, the
// group, and the operators' chat. It stands in for t.me too: the success page's deep link
// `<this server>/<bot>?start=TOKEN` and invite links `<this server>/+CODE` open here.
// Everything a person does on the page goes through the same user-side calls the tests use.
extension TelegramEmulator {
    /// The operator the page plays in the operators' chat.
    static let sandboxOperator = EmulatedUser(id: 555_000_001, firstName: "Оператор", username: "sandbox_operator")

    public func chatRouter(_ settings: TelegramChatPageSettings) -> Router<BasicRequestContext> {
        let router = Router()
        let page = TelegramChatPage(emulator: self, settings: settings)
        router.get("/") { request, _ in page.index(request) }
        router.get("/chat") { request, _ in page.chat(request) }
        router.post("/chat/send") { request, _ in try await page.send(request) }
        router.post("/chat/press") { request, _ in try await page.press(request) }
        router.get("/group") { request, _ in page.group(request) }
        router.post("/join") { request, _ in try await page.join(request) }
        router.get("/operators") { request, _ in page.operators(request) }
        router.post("/operators/reply") { request, _ in try await page.operatorReply(request) }
        // t.me links: `/<bot>?start=TOKEN` (deep link) and `/+CODE` (invite link).
        router.get("/{name}") { request, context in try await page.tmeLink(request, name: context.parameters.get("name") ?? "") }
        return router
    }

    /// The messages of one chat (the users' and the bot's), oldest first.
    func transcript(of chatID: Int64) -> [Value] {
        state.withLock { s in
            s.messages.filter { $0.key.chatID == chatID }.sorted { $0.key.messageID < $1.key.messageID }.map(\.value.json)
        }
    }

    /// The group's title, and the invite link a URL names, if it is one of the group's links.
    func inviteLink(_ url: String) -> EmulatedInviteLink? {
        state.withLock { s in s.links.first { $0.inviteLink == url } }
    }

    func groupTitle(_ id: Int64) -> String { state.withLock { s in s.groups[id]?.title ?? "Группа" } }

    func groupHasProtectedContent(_ id: Int64) -> Bool { state.withLock { s in s.groups[id]?.hasProtectedContent ?? false } }
}

/// The chat page's request handling; the HTML is in `TelegramChatPageHTML`.
struct TelegramChatPage: Sendable {
    let emulator: TelegramEmulator
    let settings: TelegramChatPageSettings

    // MARK: Who is using the page

    /// The person at this browser: a Telegram user kept in a cookie, created on the first visit.
    func user(_ request: Request) -> (user: EmulatedUser, isNew: Bool) {
        let cookies = request.headers[.cookie] ?? ""
        for pair in cookies.split(separator: ";") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == "sandbox_tg_user", let id = Int64(parts[1]), id > 0 {
                return (Self.guest(id), false)
            }
        }
        return (Self.guest(Int64.random(in: 200_000_000...899_999_999)), true)
    }

    static func guest(_ id: Int64) -> EmulatedUser {
        EmulatedUser(id: id, firstName: "Гость", lastName: String(id % 10_000), username: "guest\(id)", languageCode: "ru")
    }

    func respond(_ html: String, for user: (user: EmulatedUser, isNew: Bool)) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if user.isNew { headers[.setCookie] = "sandbox_tg_user=\(user.user.id); Path=/; SameSite=Lax; HttpOnly" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func redirect(_ location: String, for user: (user: EmulatedUser, isNew: Bool)) -> Response {
        var headers: HTTPFields = [.location: location]
        if user.isNew { headers[.setCookie] = "sandbox_tg_user=\(user.user.id); Path=/; SameSite=Lax; HttpOnly" }
        return Response(status: .seeOther, headers: headers)
    }

    func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 10)
        var fields: [String: String] = [:]
        for (key, value) in TelegramEmulator.decodeForm(String(buffer: body)) { fields[key] = value }
        return fields
    }

    var html: TelegramChatPageHTML { TelegramChatPageHTML(emulator: emulator, settings: settings) }

    // MARK: Pages

    func index(_ request: Request) -> Response {
        respond(html.index(), for: user(request))
    }

    /// The client's private chat with the bot; `?fragment=1` returns only the messages, for refreshing.
    func chat(_ request: Request) -> Response {
        let me = user(request)
        let log = html.log(emulator.transcript(of: me.user.id), viewer: me.user, chatID: me.user.id, replies: false)
        if request.uri.queryParameters.get("fragment") != nil { return respond(log, for: me) }
        return respond(html.chat(log: log, user: me.user), for: me)
    }

    func group(_ request: Request) -> Response {
        let me = user(request)
        let messages = html.log(emulator.transcript(of: settings.groupID), viewer: me.user, chatID: settings.groupID, replies: false)
        let log = html.groupLog(messages, member: emulator.isMember(me.user.id, of: settings.groupID),
                                pending: emulator.hasPendingJoinRequest(me.user.id, in: settings.groupID))
        if request.uri.queryParameters.get("fragment") != nil { return respond(log, for: me) }
        return respond(html.group(log: log), for: me)
    }

    func operators(_ request: Request) -> Response {
        let me = user(request)
        guard let chatID = settings.operatorsChatID else { return respond(html.noOperatorsChat(), for: me) }
        let log = html.log(emulator.transcript(of: chatID), viewer: TelegramEmulator.sandboxOperator, chatID: chatID, replies: true)
        if request.uri.queryParameters.get("fragment") != nil { return respond(log, for: me) }
        let replyTo = request.uri.queryParameters.get("reply").flatMap { Int64($0) }
        return respond(html.operators(log: log, replyTo: replyTo), for: me)
    }

    // MARK: Actions

    func send(_ request: Request) async throws -> Response {
        let me = user(request)
        let text = try await form(request)["text"] ?? ""
        if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            await emulator.userSends(String(text.prefix(4096)), from: me.user)
        }
        return redirect("/chat", for: me)
    }

    func press(_ request: Request) async throws -> Response {
        let me = user(request)
        let fields = try await form(request)
        if let data = fields["data"], let messageID = fields["message_id"].flatMap({ Int64($0) }) {
            let chatID = fields["chat_id"].flatMap { Int64($0) }
            await emulator.userPresses(callbackData: data, on: messageID, inChat: chatID, from: chatID == settings.operatorsChatID ? TelegramEmulator.sandboxOperator : me.user)
        }
        return redirect(fields["back"] == "operators" ? "/operators" : "/chat", for: me)
    }

    func join(_ request: Request) async throws -> Response {
        let me = user(request)
        if let link = try await form(request)["link"], let invite = emulator.inviteLink(link) {
            await emulator.userRequestsToJoin(groupID: invite.chatID, via: link, from: me.user)
        }
        return redirect("/group", for: me)
    }

    func operatorReply(_ request: Request) async throws -> Response {
        let me = user(request)
        let fields = try await form(request)
        if let chatID = settings.operatorsChatID, let text = fields["text"], !text.isEmpty,
           let replyTo = fields["reply_to"].flatMap({ Int64($0) }) {
            await emulator.operatorReplies(inChat: chatID, to: replyTo, text: String(text.prefix(4096)), from: TelegramEmulator.sandboxOperator)
        }
        return redirect("/operators", for: me)
    }

    /// `/<bot>?start=TOKEN` sends `/start TOKEN` as the Telegram app does when the person presses
    /// Start; `/+CODE` shows the invite with a "request to join" button.
    func tmeLink(_ request: Request, name: String) async throws -> Response {
        let me = user(request)
        if name.hasPrefix("+") {
            let link = "https://t.me/" + name
            return respond(html.invite(link: link, known: emulator.inviteLink(link) != nil), for: me)
        }
        guard name == emulator.botUsername else { return respond(html.unknownLink(name), for: me) }
        let payload = request.uri.queryParameters.get("start").map { String($0) } ?? ""
        await emulator.userSends(payload.isEmpty ? "/start" : "/start \(payload.prefix(64))", from: me.user)
        return redirect("/chat", for: me)
    }
}
