import Flows

extension DatabaseConnector {
    static let markJoinedSpec = ActionSpec(
        name: "mark_joined",
        summary: "Marks a member as in the group (one the admin removed stays removed), and the invite they came through as used.",
        inputs: [
            .required(Key.telegramID, .integer, "the Telegram user who joined"),
            .optional(Key.inviteLink, .string, "the invite link they joined through"),
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
            """
    )

    func markJoined(_ inputs: Fields) async throws -> Value {
        let telegramID = try inputs.requireWholeNumber(Key.telegramID)
        let link = inputs.text(Key.inviteLink)
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
            // member the admin removed meanwhile (an approve held back by a 429) stays removed.
            let rows = try db.query("""
                UPDATE funnel_members SET
                    joined_at = CASE WHEN status = 'joined' THEN joined_at ELSE $2 END,
                    updated_at = CASE WHEN status = 'joined' THEN updated_at ELSE $2 END,
                    status = 'joined'
                WHERE telegram_id = $1 AND status <> 'removed'
                RETURNING id
                """, [.int(telegramID), now])
            let id = try rows.first?[Key.id] ?? db.query("SELECT id FROM funnel_members WHERE telegram_id = $1", [.int(telegramID)]).first?[Key.id]
            return [Key.found: .bool(id != nil), Key.memberID: id ?? .null]
        }
    }
}
