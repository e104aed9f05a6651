import Flows

extension DatabaseConnector {
    /// Longer texts are cut: Telegram allows 4096 characters, and the history only needs the gist.
    static let maxSupportText = 4_096

    static let supportLogSpec = ActionSpec(
        name: "support_log",
        summary: "Records one message of a support chat (from the client, the bot or an operator) and where it was relayed; recording the same step again changes nothing.",
        inputs: [
            .required(Key.telegramID, .integer, "the client's Telegram user id"),
            .required(Key.direction, .choice(SupportDirection.all), "in: from the client; out: the bot's answer; operator: an operator's reply"),
            .optional(Key.text, .string, "the text or caption (cut at \(maxSupportText) characters); empty for media without a caption"),
            .optional(Key.mediaType, .string, "photo, document, … when the message carries a file"),
            .optional(Key.operatorsMessageID, .integer,
                      "the message's id in the operators' chat (relay_to_operators' operators_message_id, or an operator's reply): replies to it reach this client"),
            .optional(Key.headerMessageID, .integer, "the id of the header relayed before it: replies to the header reach this client too"),
            .optional(Key.operatorsChatID, .integer, "the operators' chat those ids belong to (relay_to_operators' operators_chat_id, or the reply's chat)"),
        ],
        outputs: [
            .output(Key.id, .string, "the message row's id"),
            .output(Key.logged, .boolean, "false when this step had already recorded the message (a retried or resumed run)"),
        ],
        hasSideEffects: true,
        example: """
            do: db.support_log
            with:
              telegram_id: "{{ event.body.from.id }}"
              direction: in
              text: "{{ event.body.text }}"
              operators_message_id: "{{ event.body.operators_message_id }}"
            """
    )

    /// One row per step of a run: the idempotency key is the row id, so a second try finds it.
    func supportLog(_ call: ActionCall) async throws -> Value {
        let inputs = call.inputs
        let telegramID = try inputs.requireTelegramID()
        let direction = try inputs.requireText(Key.direction)
        guard SupportDirection.all.contains(direction) else {
            throw ConnectorError.permanent("bad-input", "'direction' must be one of \(SupportDirection.all.joined(separator: ", ")), found '\(direction)'")
        }
        // Kept as typed (no trimming): it is the client's own words; only the length is capped.
        let text = String((inputs.get(Key.text) ?? "").prefix(Self.maxSupportText))
        let media = inputs.text(Key.mediaType)
        let operatorsMessageID = try inputs.optionalWholeNumber(Key.operatorsMessageID)
        let headerMessageID = try inputs.optionalWholeNumber(Key.headerMessageID)
        let operatorsChatID = try inputs.optionalWholeNumber(Key.operatorsChatID)
        let id = call.idempotencyKey
        return try await transaction { db in
            let now = Self.now()
            // Strictly increasing per chat, so the history keeps the order messages were recorded in
            // even when two land in the same millisecond.
            let last = try db.query("SELECT MAX(created_at) AS last FROM funnel_support_messages WHERE telegram_id = $1",
                                    [.int(telegramID)]).first?["last"]?.int64 ?? 0
            let inserted = try db.execute("""
                INSERT INTO funnel_support_messages
                    (id, telegram_id, direction, text, media_type, operators_message_id, header_message_id, operators_chat_id, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (id) DO NOTHING
                """, [.string(id), .int(telegramID), .string(direction), .string(text), .optionalString(media),
                      operatorsMessageID.map(Value.int) ?? .null, headerMessageID.map(Value.int) ?? .null,
                      operatorsChatID.map(Value.int) ?? .null, .int(max(now, last + 1))])
            if inserted > 0 {
                try db.execute("UPDATE funnel_support_threads SET updated_at = $2 WHERE telegram_id = $1", [.int(telegramID), .int(now)])
            }
            return [Key.id: .string(id), Key.logged: .bool(inserted > 0)]
        }
    }
}
