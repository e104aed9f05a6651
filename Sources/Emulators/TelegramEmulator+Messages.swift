import Flows
import Foundation

// sendMessage, copyMessage, forwardMessage, sendPhoto, sendDocument, editMessageText,
// pinChatMessage, deleteMessage, answerCallbackQuery.
extension TelegramEmulator {
    /// A chat the bot may write to.
    struct ChatTarget {
        var id: Int64
        var json: Value
        var hasProtectedContent: Bool
    }

    /// Telegram's limits, in UTF-16 code units of the text left after entity parsing.
    static let maxTextLength = 4096
    static let maxCaptionLength = 1024

    /// The chat, if the bot can write there: a group it is in, or a user who started the bot
    /// (or who has a join request pending, which Telegram allows for a few minutes). `sending`
    /// a message to a user Telegram knows (from a group) who never started the bot is a 403.
    func target(_ chatID: Int64, _ s: inout State, sending: Bool = false) throws -> ChatTarget {
        if let group = s.groups[chatID] {
            return ChatTarget(id: chatID, json: group.chatJSON, hasProtectedContent: group.hasProtectedContent)
        }
        guard chatID > 0, let user = s.users[chatID] else { throw APIError.chatNotFound }
        guard s.startedChats.contains(chatID) || s.groups.values.contains(where: { $0.pending[chatID] != nil }) else {
            throw sending ? APIError.forbidden("bot can't initiate conversation with a user") : APIError.chatNotFound
        }
        if s.blockedBy.contains(chatID) { throw APIError.forbidden("bot was blocked by the user") }
        return ChatTarget(id: chatID, json: user.privateChatJSON, hasProtectedContent: false)
    }

    /// The message to reply to, from `reply_parameters` or the older `reply_to_message_id`.
    func replyTarget(_ p: Params, chatID: Int64, _ s: inout State) throws -> Int64? {
        let messageID: Int64?
        let allowWithout: Bool
        if let parameters = try p.object("reply_parameters", what: "reply parameters") {
            messageID = Value.object(parameters)["message_id"]?.intValue.map(Int64.init)
            allowWithout = parameters["allow_sending_without_reply"]?.boolValue ?? false
            guard messageID != nil else { throw APIError.badRequest("message identifier is not specified") }
        } else {
            messageID = p.int64("reply_to_message_id")
            allowWithout = p.bool("allow_sending_without_reply")
        }
        guard let messageID else { return nil }
        if s.messages[MessageKey(chatID: chatID, messageID: messageID)] == nil {
            if allowWithout { return nil }
            throw APIError.badRequest("message to be replied not found")
        }
        return messageID
    }

    /// Telegram's flood control, when the test turned it on.
    func checkFlood(_ chatID: Int64, _ s: inout State) throws {
        let now = ContinuousClock.now
        let recent = s.sendTimes[chatID, default: []].filter { now - $0 < .seconds(60) }
        // Oldest first: only a prefix can have expired.
        if let current = s.globalSendTimes.firstIndex(where: { now - $0 < .seconds(1) }) {
            s.globalSendTimes.removeSubrange(..<current)
        } else {
            s.globalSendTimes.removeAll(keepingCapacity: true)
        }
        if let perSecond = s.rateLimit.perChatPerSecond, recent.filter({ now - $0 < .seconds(1) }).count >= perSecond {
            throw APIError.tooManyRequests(retryAfter: 1)
        }
        if chatID < 0, let perMinute = s.rateLimit.perGroupPerMinute, recent.count >= perMinute, let oldest = recent.first {
            let left = Duration.seconds(60) - (now - oldest)
            throw APIError.tooManyRequests(retryAfter: max(1, Int(left.components.seconds) + 1))
        }
        if let global = s.rateLimit.globalPerSecond, s.globalSendTimes.count >= global {
            throw APIError.tooManyRequests(retryAfter: 1)
        }
        s.sendTimes[chatID] = recent + [now]
        s.globalSendTimes.append(now)
    }

    /// Only inline keyboards are echoed back in the sent message; reply keyboards are accepted as is.
    static func validateMarkup(_ p: Params) throws -> Value? {
        guard let markup = p["reply_markup"] else { return nil }
        guard case .object(let o) = markup else { throw APIError.badRequest("can't parse reply keyboard markup JSON object") }
        guard let keyboard = o["inline_keyboard"] else {
            guard o["keyboard"] != nil || o["remove_keyboard"] != nil || o["force_reply"] != nil else {
                throw APIError.badRequest("can't parse reply keyboard markup JSON object")
            }
            return markup
        }
        guard let rows = keyboard.arrayValue else { throw APIError.badRequest("can't parse inline keyboard button: field \"inline_keyboard\" must be an Array") }
        let kinds = ["url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
                     "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay"]
        for row in rows {
            guard let buttons = row.arrayValue else { throw APIError.badRequest("can't parse inline keyboard button: InlineKeyboardButton row must be an Array") }
            for button in buttons {
                guard case .object(let b) = button else { throw APIError.badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object") }
                guard b["text"]?.stringValue != nil else { throw APIError.badRequest("can't parse inline keyboard button: Field \"text\" must be of type String") }
                let present = kinds.filter { b[$0] != nil }
                guard !present.isEmpty else { throw APIError.badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard") }
                guard present.count == 1 else { throw APIError.badRequest("BUTTON_TYPE_INVALID") }
                if let data = b["callback_data"] {
                    guard let text = data.stringValue, (1...64).contains(text.utf8.count) else { throw APIError.badRequest("BUTTON_DATA_INVALID") }
                }
                if let url = b["url"] {
                    guard let text = url.stringValue, let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(),
                          ["http", "https", "tg"].contains(scheme)
                    else { throw APIError.badRequest("BUTTON_URL_INVALID") }
                }
            }
        }
        return markup
    }

    /// Stores a bot message in a chat and returns the Message object.
    func postBotMessage(_ chat: ChatTarget, content: [String: Value], markup: Value?, replyTo: Int64?, protect: Bool,
                        record: SentMessage, _ s: inout State) -> Value {
        let messageID = s.nextMessageID(in: chat.id)
        var message = content
        message["message_id"] = .number(Double(messageID))
        message["from"] = botUser
        message["chat"] = chat.json
        message["date"] = .number(Double(Self.now()))
        if let replyTo, let original = s.messages[MessageKey(chatID: chat.id, messageID: replyTo)] {
            message["reply_to_message"] = Self.withoutReply(original.json)
        }
        if let markup, markup["inline_keyboard"] != nil { message["reply_markup"] = markup }
        let isProtected = protect || chat.hasProtectedContent
        if isProtected { message["has_protected_content"] = true }
        var record = record
        record.chatID = chat.id
        record.messageID = messageID
        record.replyToMessageID = replyTo
        s.sent.append(record)
        s.messages[MessageKey(chatID: chat.id, messageID: messageID)] =
            StoredMessage(json: .object(message), fromBot: true, protected: isProtected, sentIndex: s.sent.count - 1)
        return .object(message)
    }

    private func record(_ method: TelegramMethodName, _ p: Params, text: String?, parseMode: String?, markup: Value?) -> SentMessage {
        SentMessage(chatID: 0, messageID: 0, text: text, parseMode: parseMode, protectContent: p.bool("protect_content"),
                    replyMarkup: markup, replyToMessageID: nil, method: method, fileID: nil, fromChatID: nil, sourceMessageID: nil,
                    linkPreviewOptions: p["link_preview_options"], disableNotification: p.bool("disable_notification"),
                    date: Self.now(), editCount: 0)
    }

    // MARK: Methods

    func sendMessage(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        guard let text = p.string("text"), !text.isEmpty else { throw APIError.badRequest("message text is empty") }
        let parseMode = try Self.parseMode(p)
        let plain = try Self.plainText(text, parseMode: parseMode)
        guard !plain.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError.badRequest("message text is empty") }
        guard plain.utf16.count <= Self.maxTextLength else { throw APIError.badRequest("message is too long") }
        let markup = try Self.validateMarkup(p)
        if let options = p["link_preview_options"], options.objectValue == nil {
            throw APIError.badRequest("can't parse link preview options JSON object")
        }
        return try state.withLock { s in
            let chat = try target(chatID, &s, sending: true)
            let replyTo = try replyTarget(p, chatID: chatID, &s)
            try checkFlood(chatID, &s)
            var content: [String: Value] = ["text": .string(plain)]
            if let options = p["link_preview_options"] { content["link_preview_options"] = options }
            let message = postBotMessage(chat, content: content, markup: markup, replyTo: replyTo, protect: p.bool("protect_content"),
                                         record: record("sendMessage", p, text: text, parseMode: parseMode, markup: markup), &s)
            return MethodOutput(result: message)
        }
    }

    /// The content fields of a message that a copy or forward carries over.
    private static func content(of message: Value) -> [String: Value] {
        var content: [String: Value] = [:]
        for key in ["text", "entities", "photo", "document", "caption", "caption_entities", "link_preview_options"] {
            if let value = message[key] { content[key] = value }
        }
        return content
    }

    private func source(_ p: Params, _ s: inout State, verb: String) throws -> StoredMessage {
        guard let fromChatID = p.int64("from_chat_id") else { throw APIError.badRequest("chat_id is empty") }
        let messageID = try p.requireMessageID()
        _ = try target(fromChatID, &s)
        guard let source = s.messages[MessageKey(chatID: fromChatID, messageID: messageID)] else {
            throw APIError.badRequest("message to \(verb) not found")
        }
        if source.protected { throw APIError.badRequest("message has protected content and can't be forwarded") }
        return source
    }

    func copyMessage(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        let parseMode = try Self.parseMode(p)
        let markup = try Self.validateMarkup(p)
        return try state.withLock { s in
            let original = try source(p, &s, verb: "copy")
            let chat = try target(chatID, &s, sending: true)
            let replyTo = try replyTarget(p, chatID: chatID, &s)
            var content = Self.content(of: original.json)
            var text = content["text"]?.stringValue ?? content["caption"]?.stringValue
            if content["text"] == nil, let caption = p.string("caption") {
                let plain = try Self.plainText(caption, parseMode: parseMode)
                guard plain.utf16.count <= Self.maxCaptionLength else { throw APIError.badRequest("message caption is too long") }
                content["caption"] = .string(plain)
                text = caption
            }
            // After the caption checks: a refused copy is no send for flood control.
            try checkFlood(chatID, &s)
            var sent = record("copyMessage", p, text: text, parseMode: parseMode, markup: markup)
            sent.fileID = Self.fileID(of: original.json)
            sent.fromChatID = p.int64("from_chat_id")
            sent.sourceMessageID = p.int64("message_id")
            let message = postBotMessage(chat, content: content, markup: markup, replyTo: replyTo, protect: p.bool("protect_content"),
                                         record: sent, &s)
            return MethodOutput(result: ["message_id": message["message_id"] ?? .null])
        }
    }

    func forwardMessage(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        return try state.withLock { s in
            let original = try source(p, &s, verb: "forward")
            let chat = try target(chatID, &s, sending: true)
            try checkFlood(chatID, &s)
            var content = Self.content(of: original.json)
            content["forward_origin"] = [
                "type": "user", "date": original.json["date"] ?? .null,
                "sender_user": original.json["from"] ?? .null,
            ]
            var sent = record("forwardMessage", p, text: content["text"]?.stringValue ?? content["caption"]?.stringValue,
                              parseMode: nil, markup: nil)
            sent.fileID = Self.fileID(of: original.json)
            sent.fromChatID = p.int64("from_chat_id")
            sent.sourceMessageID = p.int64("message_id")
            let message = postBotMessage(chat, content: content, markup: nil, replyTo: nil, protect: p.bool("protect_content"), record: sent, &s)
            return MethodOutput(result: message)
        }
    }

    static func fileID(of message: Value) -> String? {
        message["photo"]?.arrayValue?.last?["file_id"]?.stringValue ?? message["document"]?["file_id"]?.stringValue
    }

    func sendPhoto(_ p: Params) throws -> MethodOutput { try sendMedia(p, kind: "photo", method: "sendPhoto") }
    func sendDocument(_ p: Params) throws -> MethodOutput { try sendMedia(p, kind: "document", method: "sendDocument") }

    /// sendPhoto / sendDocument: a file_id (as relays use), an HTTP URL, or a multipart upload.
    private func sendMedia(_ p: Params, kind: String, method: TelegramMethodName) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        let fileID: String
        var fileName: String?
        switch p[kind] {
        case .string(let id)? where !id.isEmpty:
            fileID = id.contains("://") ? Self.newFileID(kind) : id
        case .object(let upload)? where upload["upload"] != nil:
            fileID = Self.newFileID(kind)
            fileName = upload["upload"]?.stringValue
        default:
            throw APIError.badRequest("there is no \(kind) in the request")
        }
        let parseMode = try Self.parseMode(p)
        let caption = p.string("caption")
        let plainCaption = try caption.map { try Self.plainText($0, parseMode: parseMode) }
        if let plainCaption, plainCaption.utf16.count > Self.maxCaptionLength { throw APIError.badRequest("message caption is too long") }
        let markup = try Self.validateMarkup(p)
        return try state.withLock { s in
            let chat = try target(chatID, &s, sending: true)
            let replyTo = try replyTarget(p, chatID: chatID, &s)
            try checkFlood(chatID, &s)
            var content: [String: Value] = [:]
            if kind == "photo" {
                content["photo"] = Self.photoSizes(fileID)
            } else {
                var document: [String: Value] = ["file_id": .string(fileID), "file_unique_id": .string("AgAD\(fileID.suffix(8))"), "file_size": 10_240]
                if let fileName { document["file_name"] = .string(fileName) }
                content["document"] = .object(document)
            }
            if let plainCaption { content["caption"] = .string(plainCaption) }
            var sent = record(method, p, text: caption, parseMode: parseMode, markup: markup)
            sent.fileID = fileID
            let message = postBotMessage(chat, content: content, markup: markup, replyTo: replyTo, protect: p.bool("protect_content"),
                                         record: sent, &s)
            return MethodOutput(result: message)
        }
    }

    static func newFileID(_ kind: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        return (kind == "photo" ? "AgACAgIAAxk" : "BQACAgIAAxk") + String((0..<40).map { _ in alphabet.randomElement()! })
    }

    func editMessageText(_ p: Params) throws -> MethodOutput {
        if p["inline_message_id"] != nil { throw APIError.badRequest("message to edit not found") }
        let chatID = try p.requireChatID()
        let messageID = try p.requireMessageID()
        guard let text = p.string("text"), !text.isEmpty else { throw APIError.badRequest("message text is empty") }
        let parseMode = try Self.parseMode(p)
        let plain = try Self.plainText(text, parseMode: parseMode)
        guard plain.utf16.count <= Self.maxTextLength else { throw APIError.badRequest("message is too long") }
        let markup = try Self.validateMarkup(p)
        return try state.withLock { s in
            _ = try target(chatID, &s)
            let key = MessageKey(chatID: chatID, messageID: messageID)
            guard var stored = s.messages[key] else { throw APIError.badRequest("message to edit not found") }
            guard stored.fromBot, let index = stored.sentIndex else { throw APIError.badRequest("message can't be edited") }
            guard case .object(var message) = stored.json, message["text"] != nil else {
                throw APIError.badRequest("there is no text in the message to edit")
            }
            // Without reply_markup Telegram removes the inline keyboard, so compare against that.
            let newMarkup: Value? = markup?["inline_keyboard"] != nil ? markup : nil
            if message["text"]?.stringValue == plain && message["reply_markup"] == newMarkup {
                throw APIError.badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
            }
            message["text"] = .string(plain)
            message["reply_markup"] = newMarkup
            message["edit_date"] = .number(Double(Self.now()))
            stored.json = .object(message)
            s.messages[key] = stored
            s.sent[index].text = text
            s.sent[index].parseMode = parseMode
            s.sent[index].replyMarkup = newMarkup
            s.sent[index].editCount += 1
            return MethodOutput(result: .object(message))
        }
    }

    func pinChatMessage(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        let messageID = try p.requireMessageID()
        return try state.withLock { s in
            _ = try target(chatID, &s)
            guard s.messages[MessageKey(chatID: chatID, messageID: messageID)] != nil else {
                throw APIError.badRequest("message to pin not found")
            }
            s.pinned[chatID] = messageID
            return MethodOutput(result: true)
        }
    }

    func unpinChatMessage(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        return try state.withLock { s in
            _ = try target(chatID, &s)
            if let messageID = p.int64("message_id"), s.pinned[chatID] != messageID { throw APIError.badRequest("message to unpin not found") }
            s.pinned[chatID] = nil
            return MethodOutput(result: true)
        }
    }

    func deleteMessage(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        let messageID = try p.requireMessageID()
        return try state.withLock { s in
            _ = try target(chatID, &s)
            guard s.messages.removeValue(forKey: MessageKey(chatID: chatID, messageID: messageID)) != nil else {
                throw APIError.badRequest("message to delete not found")
            }
            if s.pinned[chatID] == messageID { s.pinned[chatID] = nil }
            return MethodOutput(result: true)
        }
    }

    func answerCallbackQuery(_ p: Params) throws -> MethodOutput {
        guard let queryID = p.string("callback_query_id"), !queryID.isEmpty else {
            throw APIError.badRequest("query is too old and response timeout expired or query ID is invalid")
        }
        let text = p.string("text")
        if let text, text.count > 200 { throw APIError.badRequest("MESSAGE_TOO_LONG") }
        return try state.withLock { s in
            guard s.callbackQueries.removeValue(forKey: queryID) != nil else {
                throw APIError.badRequest("query is too old and response timeout expired or query ID is invalid")
            }
            s.callbackAnswers.append(CallbackAnswer(callbackQueryID: queryID, text: text, showAlert: p.bool("show_alert"), url: p.string("url")))
            return MethodOutput(result: true)
        }
    }
}
