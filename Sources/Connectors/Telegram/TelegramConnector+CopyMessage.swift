import Flows

extension TelegramConnector {
    static let copyMessageSpec = ActionSpec(
        name: "copy_message", summary: "Copies a message (text or media) into another chat, without a link to the original.",
        inputs: [
            .required("to_chat_id", .integer, "where the copy goes"),
            .required("from_chat_id", .integer, "the chat of the original"),
            .required("message_id", .integer, "the original message"),
            .optional("protect_content", .boolean, "forbid forwarding and saving the copy", default: false),
        ],
        outputs: [.output("message_id", .integer, "the copy's id")],
        example: """
            do: telegram.copy_message
            with:
              to_chat_id: "{{ event.body.client_id }}"
              from_chat_id: "{{ event.body.chat_id }}"
              message_id: "{{ event.body.message_id }}"
            """)

    /// Copies once per idempotency key.
    func copyMessage(_ call: ActionCall) async throws -> Value {
        let to = try Self.requireID(call.inputs, "to_chat_id")
        let from = try Self.requireID(call.inputs, "from_chat_id")
        let message = try Self.requireID(call.inputs, "message_id")
        let protect = call.inputs.get("protect_content", as: Bool.self) ?? false
        return try await effects.once(call.idempotencyKey, action: call.action) {
            let copied = try await api.call("copyMessage", ["chat_id": .id(to), "from_chat_id": .id(from), "message_id": .id(message),
                                                            "protect_content": .bool(protect)])
            let id = try Self.messageID(copied, method: "copyMessage")
            trace(call, "telegram message copied", ["chat.id": "\(to)", "message.id": "\(id)"])
            return ["message_id": .id(id)]
        }
    }
}
