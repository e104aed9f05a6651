import Flows

extension DatabaseConnector {
    static let supportClientForSpec = ActionSpec(
        name: "support_client_for",
        summary: "Finds the client a message in the operators' chat belongs to (a relayed message, its header, or an operator's earlier reply), so a reply reaches that client only.",
        inputs: [
            .required(Key.operatorsMessageID, .integer, "the id, in the operators' chat, of the message an operator replied to"),
            .optional(Key.operatorsChatID, .integer, "the chat the reply is in: after the operators' group became a supergroup its ids start anew, and an old id must not name a client"),
        ],
        outputs: [
            .output(Key.found, .boolean, "whether the message belongs to a support chat; when false the other fields are null"),
            .output(Key.telegramID, .integer, "the client's Telegram user id (their private chat)"),
            .output(Key.mode, .choice(SupportMode.all), "the chat's mode"),
            .output(Key.memberID, .string, "the member's id, or null when the client is not in the funnel"),
        ],
        hasSideEffects: false,
        example: """
            id: client
            do: db.support_client_for
            with:
              operators_message_id: "{{ event.body.reply_to_message_id }}"
              operators_chat_id: "{{ event.body.chat_id }}"
            """
    )

    /// The mapping lives in the database, not in the relayed message: a forward's sender can be
    /// hidden by the client's privacy settings, and a copy carries none.
    func supportClientFor(_ inputs: Fields) async throws -> Value {
        guard let messageID = try inputs.optionalWholeNumber(Key.operatorsMessageID) else { throw ConnectorError.missingField(Key.operatorsMessageID) }
        let chatID = try inputs.optionalWholeNumber(Key.operatorsChatID)
        let row = try await read { db in
            try db.query("""
                SELECT m.telegram_id, t.mode, t.member_id FROM funnel_support_messages m
                LEFT JOIN funnel_support_threads t ON t.telegram_id = m.telegram_id
                WHERE (m.operators_message_id = $1 OR m.header_message_id = $1)
                  AND (CAST($2 AS BIGINT) IS NULL OR m.operators_chat_id IS NULL OR m.operators_chat_id = CAST($2 AS BIGINT))
                ORDER BY m.created_at DESC LIMIT 1
                """, [.int(messageID), chatID.map(Value.int) ?? .null]).first
        }
        guard let row, let telegramID = row[Key.telegramID], !telegramID.isNull else {
            return [Key.found: false, Key.telegramID: nil, Key.mode: nil, Key.memberID: nil]
        }
        return [Key.found: true, Key.telegramID: telegramID, Key.mode: row[Key.mode] ?? .string(SupportMode.ai),
                Key.memberID: row[Key.memberID] ?? .null]
    }
}
