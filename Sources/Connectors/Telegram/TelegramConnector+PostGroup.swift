import Flows

extension TelegramConnector {
    static let postGroupSpec = ActionSpec(
        name: "post_group", summary: "Posts into the private group, always protected from forwarding and saving; optionally pins it.",
        inputs: [
            .required("text", .string, "the post, up to 4096 characters"),
            .optional("parse_mode", .choice(["HTML", "MarkdownV2", "Markdown"]), "how the text is formatted"),
            .optional("protect_content", .boolean, "always true for the group; false is ignored with a warning", default: true),
            .optional("pin", .boolean, "pin the post (without notifying everyone twice)", default: false),
        ],
        outputs: [.output("message_id", .integer, "the post's id in the group")],
        example: """
            do: telegram.post_group
            with:
              text: "Ссылка на сеанс: {{ event.body.join_url }}"
              pin: true
            """)

    /// Sends and pins in two recorded steps, so a resumed run never posts twice.
    func postGroup(_ call: ActionCall) async throws -> Value {
        let group = try requireGroup()
        let text = try call.inputs.require("text")
        if call.inputs.get("protect_content", as: Bool.self) == false {
            // The group's links (Zoom) must not travel; the owner's setting is checked at start too.
            call.logger.warning("telegram post_group ignores protect_content: false; group posts are always protected",
                                metadata: ["flow.name": "\(call.flow)", "step.id": "\(call.stepID)"])
        }
        let pin = call.inputs.get("pin", as: Bool.self) ?? false
        var done = try await effects.recall(call.idempotencyKey) ?? [:]
        let messageID: Int64
        if let recorded = done["message_id"]?.telegramID {
            messageID = recorded
        } else {
            var parameters = try Self.messageParameters(Fields(["parse_mode": call.inputs["parse_mode"] ?? .null]))
            parameters["protect_content"] = true
            messageID = try await sendText(chat: group, text: text, parameters)
            done["message_id"] = .id(messageID)
            try await effects.remember(call.idempotencyKey, action: call.action, done)
        }
        if pin && done["pinned"]?.boolValue != true {
            _ = try await api.call("pinChatMessage", ["chat_id": .id(group), "message_id": .id(messageID), "disable_notification": true])
            done["pinned"] = true
            try await effects.remember(call.idempotencyKey, action: call.action, done)
        }
        trace(call, "telegram group post sent", ["message.id": "\(messageID)"])
        return ["message_id": .id(messageID)]
    }
}
