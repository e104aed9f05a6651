import Flows

extension TelegramConnector {
    static let answerCallbackSpec = ActionSpec(
        name: "answer_callback", summary: "Answers a button press, so the user's client stops spinning (optionally with a short notice).",
        inputs: [
            .required("callback_id", .string, "the callback trigger's callback_id"),
            .optional("text", .string, "a notice shown to the user, up to 200 characters"),
        ],
        outputs: [],
        example: """
            do: telegram.answer_callback
            with: { callback_id: "{{ event.body.callback_id }}", text: "Готово" }
            """)

    /// Answered once per key; Telegram refuses a second answer to the same press anyway.
    func answerCallback(_ call: ActionCall) async throws -> Value {
        let id = try call.inputs.require("callback_id")
        var parameters: [String: Value] = ["callback_query_id": .string(id)]
        if let text = call.inputs.get("text"), !text.isEmpty { parameters["text"] = .string(text) }
        return try await effects.once(call.idempotencyKey, action: call.action) {
            _ = try await api.call("answerCallbackQuery", parameters)
            return [:]
        }
    }
}
