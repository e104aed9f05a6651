import Flows

extension DatabaseConnector {
    static let markJoinedSpec = ActionSpec(
        name: "mark_joined",
        summary: "Marks a member as in the group (one the admin removed stays removed), and the invite they came through as used.",
        inputs: [
            .required(Key.telegramID, .integer, "the Telegram user who joined"),
            .optional(Key.inviteLink, .string, "the invite link they joined through"),
            .optional(Key.requestedAt, .integer, "when they asked to join (the join request's date, Unix seconds): a member who left "
                      + "after that stays left, should this step come late (an approve held back by a 429)"),
        ],
        outputs: [
            .output(Key.found, .boolean, "whether a member is bound to that Telegram user"),
            .output(Key.memberID, .string, "the member's id, or null"),
        ],
        hasSideEffects: true,
        example: """
            do: db.mark_joined
            with:
              telegram_id: "{{ event.body.from.id }}"
              invite_link: "{{ event.body.invite_link.invite_link }}"
              requested_at: "{{ event.body.date }}"
            """
    )

    private static let farSeconds: Int64 = 3_155_760_000_000

    func markJoined(_ inputs: Fields) async throws -> Value {
        let telegramID = try inputs.requireWholeNumber(Key.telegramID)
        let link = inputs.text(Key.inviteLink)
        // Milliseconds, like left_at (clamped to ±100,000 years). Without a date the request
        // counts as later than any leaving (2^53 ms: past every date, and exact as a number).
        let requested: Int64 = try inputs.optionalWholeNumber(Key.requestedAt).map { min(max($0, -Self.farSeconds), Self.farSeconds) * 1000 }
            ?? 1 << 53
        return try await transaction { db in
            let now = Value.int(Self.now())
            if let link {
                // Only the invite made for this user: a stranger's join never uses up someone's link.
                try db.execute("""
                    UPDATE funnel_invites SET status = 'used', used_at = $3
                    WHERE invite_link = $1 AND telegram_id = $2 AND status = 'active'
                    """, [.string(link), .int(telegramID), now])
            }
            // joined_at keeps the first moment of this stay: a repeated event changes nothing. A
            // member the admin removed meanwhile (an approve held back by a 429) stays removed, and
            // one who left after asking to join has left: that request's stay is over.
            let rows = try db.query("""
                UPDATE funnel_members SET
                    joined_at = CASE WHEN status = 'joined' THEN joined_at ELSE $2 END,
                    updated_at = CASE WHEN status = 'joined' THEN updated_at ELSE $2 END,
                    status = 'joined'
                WHERE telegram_id = $1 AND status <> 'removed' AND NOT (status = 'left' AND left_at > $3)
                RETURNING id
                """, [.int(telegramID), now, .int(requested)])
            let id = try rows.first?[Key.id] ?? db.query("SELECT id FROM funnel_members WHERE telegram_id = $1", [.int(telegramID)]).first?[Key.id]
            return [Key.found: .bool(id != nil), Key.memberID: id ?? .null]
        }
    }
}
