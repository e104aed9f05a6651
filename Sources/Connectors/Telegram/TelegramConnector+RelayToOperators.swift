import Flows

extension TelegramConnector {
    static let relayToOperatorsSpec = ActionSpec(
        name: "relay_to_operators", summary: "Copies a client's message into the operators' chat after a header line saying who wrote it.",
        inputs: [
            .required("from_chat_id", .integer, "the client's chat"),
            .required("message_id", .integer, "the message to relay"),
            .optional("header", .string, "a line sent before the copy, e.g. the client's name and id"),
        ],
        outputs: [
            .output("operators_message_id", .integer, "the copy's id in the operators' chat: store it to map operator replies back"),
            .output("header_message_id", .integer, "the header's id (null without a header)"),
            .output("operators_chat_id", .integer, "the operators' chat the copy is in: message ids count per chat, and a group moved to a supergroup counts anew"),
        ],
        example: """
            do: telegram.relay_to_operators
            with:
              from_chat_id: "{{ event.body.chat_id }}"
              message_id: "{{ event.body.message_id }}"
              header: "Клиент {{ event.body.name }}"
            """)

    /// Header, then copyMessage (not forward: a hidden user's forward has no sender, and the
    /// operator's reply is mapped back by the copy's id). Each step recorded once.
    func relayToOperators(_ call: ActionCall) async throws -> Value {
        let operators = try requireOperatorsChat()
        let from = try Self.requireID(call.inputs, "from_chat_id")
        let message = try Self.requireID(call.inputs, "message_id")
        var done = try await effects.recall(call.idempotencyKey) ?? [:]
        if let header = call.inputs.get("header"), !header.isEmpty, done["header_message_id"] == nil {
            done["header_message_id"] = .id(try await sendText(chat: operators, text: header))
            try await effects.remember(call.idempotencyKey, action: call.action, done)
        }
        if done["operators_message_id"] == nil {
            let copied = try await api.call("copyMessage", ["chat_id": .id(operators), "from_chat_id": .id(from), "message_id": .id(message)])
            done["operators_message_id"] = .id(try Self.messageID(copied, method: "copyMessage"))
            // The chat it went to: after a move to a supergroup the API follows the new id.
            done["operators_chat_id"] = .id(api.currentID(of: operators))
            try await effects.remember(call.idempotencyKey, action: call.action, done)
        }
        trace(call, "telegram message relayed to operators", ["chat.id": "\(from)", "message.id": "\(message)"])
        return ["operators_message_id": done["operators_message_id"] ?? .null, "header_message_id": done["header_message_id"] ?? .null,
                "operators_chat_id": done["operators_chat_id"] ?? .null]
    }
}
