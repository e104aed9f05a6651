import Flows

extension TelegramConnector {
    static let sendMessageSpec = ActionSpec(
        name: "send_message", summary: "Sends a text message, optionally with inline buttons, to a chat the bot may write to.",
        inputs: [
            .required("chat_id", .integer, "the chat (a user's id for a private chat)"),
            .required("text", .string, "the text, up to 4096 characters"),
            .optional("parse_mode", .choice(["HTML", "MarkdownV2", "Markdown"]), "how the text is formatted (HTML is the easiest to escape)"),
            .optional("buttons", .array, "inline buttons: a list of {text, url} or {text, data}; a nested list is one row"),
            .optional("protect_content", .boolean, "forbid forwarding and saving the message", default: false),
            .optional("reply_to", .integer, "the id of a message in that chat to reply to"),
        ],
        outputs: [.output("message_id", .integer, "the sent message's id")],
        example: """
            do: telegram.send_message
            with:
              chat_id: "{{ event.body.chat_id }}"
              text: "Оплата получена, спасибо!"
              buttons: [{ text: "Наш сайт", url: "https://example.com" }]
            """)

    /// Sends once per idempotency key: a resumed run gets the first message's id back.
    func sendMessage(_ call: ActionCall) async throws -> Value {
        let inputs = call.inputs
        let chat = try Self.requireID(inputs, "chat_id")
        let text = try inputs.require("text")
        var parameters = try Self.messageParameters(inputs)
        parameters["protect_content"] = .bool(inputs.get("protect_content", as: Bool.self) ?? false)
        return try await effects.once(call.idempotencyKey, action: call.action) {
            let id = try await sendText(chat: chat, text: text, parameters)
            trace(call, "telegram message sent", ["chat.id": "\(chat)", "message.id": "\(id)"])
            return ["message_id": .id(id)]
        }
    }

    /// sendMessage with extra parameters; returns the message id.
    func sendText(chat: Int64, text: String, _ parameters: [String: Value] = [:]) async throws -> Int64 {
        guard !text.isEmpty else { throw ConnectorError.missingField("text", expected: "some text") }
        var parameters = parameters
        parameters["chat_id"] = .id(chat)
        parameters["text"] = .string(text)
        return try Self.messageID(try await api.call("sendMessage", parameters), method: "sendMessage")
    }

    /// `parse_mode`, `reply_parameters` and `reply_markup` from the common inputs.
    static func messageParameters(_ inputs: Fields) throws -> [String: Value] {
        var parameters: [String: Value] = [:]
        if let mode = inputs.get("parse_mode"), !mode.isEmpty { parameters["parse_mode"] = .string(mode) }
        if let reply = inputs["reply_to"] {
            guard let id = reply.telegramID else { throw ConnectorError.permanent("bad-input", "'reply_to' must be a message id, found '\(reply.text)'") }
            parameters["reply_parameters"] = ["message_id": .id(id), "allow_sending_without_reply": true]
        }
        if let buttons = inputs["buttons"] {
            parameters["reply_markup"] = ["inline_keyboard": .array(try keyboard(buttons))]
        }
        return parameters
    }

    /// Rows of `InlineKeyboardButton`s: each object is a row of its own, each nested list one row.
    static func keyboard(_ buttons: Value) throws -> [Value] {
        guard let items = buttons.arrayValue else {
            throw ConnectorError.permanent("bad-input", "'buttons' must be a list of {text, url} or {text, data}")
        }
        return try items.map { item in
            if let row = item.arrayValue { return .array(try row.map(button)) }
            return [try button(item)]
        }
    }

    private static func button(_ item: Value) throws -> Value {
        guard let text = item["text"]?.text, !text.isEmpty else {
            throw ConnectorError.permanent("bad-input", "each button needs 'text', found \(item.json)")
        }
        if let url = item["url"]?.text, !url.isEmpty { return ["text": .string(text), "url": .string(url)] }
        if let data = item["data"]?.text, !data.isEmpty {
            // Telegram refuses longer callback data with an unhelpful "BUTTON_DATA_INVALID".
            guard data.utf8.count <= 64 else {
                throw ConnectorError.permanent("bad-input", "button '\(text)': 'data' is \(data.utf8.count) bytes, Telegram allows 64")
            }
            return ["text": .string(text), "callback_data": .string(data)]
        }
        throw ConnectorError.permanent("bad-input", "button '\(text)' needs 'url' or 'data'")
    }
}
