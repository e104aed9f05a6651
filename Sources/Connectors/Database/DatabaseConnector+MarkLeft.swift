import Flows

extension DatabaseConnector {
    static let markLeftSpec = ActionSpec(
        name: "mark_left",
        summary: "Marks the member bound to a Telegram user as having left the group (a member removed by an admin stays removed).",
        inputs: [.required(Key.telegramID, .integer, "the Telegram user who left")],
        outputs: [
            .output(Key.found, .boolean, "whether a member is bound to that Telegram user"),
            .output(Key.memberID, .string, "the member's id, or null"),
        ],
        hasSideEffects: true,
        example: """
            do: db.mark_left
            with: { telegram_id: "{{ event.body.from.id }}" }
            """
    )

    func markLeft(_ inputs: Fields) async throws -> Value {
        let telegramID = try inputs.requireWholeNumber(Key.telegramID)
        return try await transaction { db in
            guard let id = try db.query("SELECT id FROM funnel_members WHERE telegram_id = $1", [.int(telegramID)]).first?[Key.id] else {
                return [Key.found: false, Key.memberID: nil]
            }
            try db.execute("""
                UPDATE funnel_members SET status = 'left', updated_at = $2, left_at = $2
                WHERE id = $1 AND status NOT IN ('left', 'removed')
                """, [id, .int(Self.now())])
            return [Key.found: true, Key.memberID: id]
        }
    }
}
