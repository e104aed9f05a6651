import Flows

extension DatabaseConnector {
    static let bindTelegramSpec = ActionSpec(
        name: "bind_telegram",
        summary: "Binds the Telegram user who opened the bot's deep link to the member with that token; never moves a member to another Telegram user. "
            + "Without a token (a plain /start) it finds the member already bound to that user.",
        inputs: [
            .optional(Key.token, .string, "the token from /start TOKEN; empty for a plain /start"),
            .required(Key.telegramID, .integer, "the Telegram user id who sent it"),
            .optional(Key.username, .string, "their @username, if any"),
        ],
        outputs: [
            .output(Key.found, .boolean, "whether the token belongs to a member (without a token: whether one is bound to this user)"),
            .output(Key.id, .string, "the member's id"),
            .output(Key.fullName, .string, "full name as registered"),
            .output(Key.status, .choice(MemberStatus.all), "the member's status"),
            .output(Key.paid, .boolean, "whether the member has paid and was not removed"),
            .output(Key.joined, .boolean, "whether the member is in the group"),
            .output(Key.orderID, .string, "the member's latest pending or paid order number"),
            .output(Key.conflict, .boolean,
                    "true when the member is bound to another Telegram user (a forwarded link), or this user is bound to another paid member; nothing was changed"),
        ],
        hasSideEffects: true,
        example: """
            id: member
            do: db.bind_telegram
            with:
              token: "{{ event.body.token }}"
              telegram_id: "{{ event.body.from.id }}"
              username: "{{ event.body.from.username }}"
            """
    )

    func bindTelegram(_ inputs: Fields) async throws -> Value {
        let token = inputs.text(Key.token).flatMap { $0.isEmpty ? nil : $0 }
        let telegramID = try inputs.requireWholeNumber(Key.telegramID)
        let username = inputs.text(Key.username).map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }
        return try await transaction { db in try Self.bind(token: token, telegramID: telegramID, username: username, db) }
    }

    private static func bind(token: String?, telegramID: Int64, username: String?, _ db: any SQLConnection) throws -> Value {
        // A plain /start: the member this user is bound to already, so a paid client who lost the
        // invite is not sent to pay again.
        let lookup = token.map { ("token", Value.string($0)) } ?? ("telegram_id", .int(telegramID))
        guard let row = try db.query("SELECT \(memberColumns) FROM funnel_members WHERE \(lookup.0) = $1", [lookup.1]).first,
              let id = row[Key.id]?.stringValue
        else {
            return [Key.found: false, Key.id: nil, Key.fullName: nil, Key.status: nil, Key.paid: false, Key.joined: false,
                    Key.orderID: nil, Key.conflict: false]
        }
        let now = Value.int(now())
        var conflict = false
        if let bound = row[Key.telegramID]?.int64 {
            if bound == telegramID {
                try db.execute("UPDATE funnel_members SET telegram_username = $2, updated_at = $3 WHERE id = $1",
                               [.string(id), .optionalString(username), now])
            } else {
                conflict = true
            }
        } else {
            // One Telegram user may hold one member. A stale binding on an unpaid registration (the
            // same person registered twice) gives way; a paid one does not.
            let other = try db.query("SELECT \(memberColumns) FROM funnel_members WHERE telegram_id = $1", [.int(telegramID)]).first
            if let other, isPaid(other) {
                conflict = true
            } else {
                if let other {
                    try db.execute("UPDATE funnel_members SET telegram_id = NULL, telegram_username = NULL, updated_at = $2 WHERE id = $1",
                                   [other[Key.id] ?? .null, now])
                }
                // Only while still unbound: on PostgreSQL two users opening one link at the same
                // moment both read it unbound, and the later would take it over. The loser's
                // transaction rolls back and its step is retried, finding the link taken.
                let bound = try db.execute("""
                    UPDATE funnel_members SET telegram_id = $2, telegram_username = $3, updated_at = $4 WHERE id = $1 AND telegram_id IS NULL
                    """, [.string(id), .int(telegramID), .optionalString(username), now])
                guard bound == 1 else {
                    throw ConnectorError(code: "bound-meanwhile", "member \(id) was bound to a Telegram user at the same moment; trying again")
                }
            }
        }
        let orderID = try db.query("""
            SELECT order_id FROM funnel_payments WHERE member_id = $1 AND status IN ('pending', 'paid')
            ORDER BY created_at DESC LIMIT 1
            """, [.string(id)]).first?[Key.orderID] ?? .null
        let status = row[Key.status]?.stringValue
        return [
            Key.found: true, Key.id: .string(id), Key.fullName: row[Key.fullName] ?? .null, Key.status: .optionalString(status),
            Key.paid: .bool(isPaid(row)), Key.joined: .bool(status == MemberStatus.joined),
            Key.orderID: orderID, Key.conflict: .bool(conflict),
        ]
    }
}
