import Flows

extension DatabaseConnector {
    static let bindTelegramSpec = ActionSpec(
        name: "bind_telegram",
        summary: "Binds the Telegram user who opened the bot's deep link to the member whose paid order has that token; never moves a member "
            + "to another Telegram user. An unpaid order's token binds nobody yet: the user is kept on the order and bound when it is paid. "
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
            .output(Key.amount, .string, "that order's amount as recorded at registration, e.g. \"3000.00\": what a payment link for it must charge"),
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
        func member(_ column: String, _ value: Value) throws -> SQLRow? {
            try db.query("SELECT \(memberColumns) FROM funnel_members WHERE \(column) = $1", [value]).first
        }
        var found: SQLRow?
        if let token, let order = try db.query("SELECT order_id, amount, status, member_id FROM funnel_payments WHERE token = $1", [.string(token)]).first {
            found = try member("id", order[Key.memberID] ?? .null)
            // Unpaid, and not the member's own account (a renewal's link): wait for the payment.
            if order[Key.status]?.stringValue != "paid", found?[Key.telegramID]?.int64 != telegramID {
                if let waiting = try awaitPayment(order, member: found, token: token, telegramID: telegramID, db) { return waiting }
                found = try member("id", order[Key.memberID] ?? .null)  // paid meanwhile: as it is now
            }
        } else {
            // For a token of no order, the member's own (links handed out before orders had tokens);
            // for a plain /start, or a payload that is no token (an ad's tag), the member this user
            // is bound to already, so a paid client who lost the invite is not sent to pay again.
            if let token { found = try member("token", .string(token)) }
            if found == nil { found = try member("telegram_id", .int(telegramID)) }
        }
        guard let row = found, let id = row[Key.id]?.stringValue
        else {
            return [Key.found: false, Key.id: nil, Key.fullName: nil, Key.status: nil, Key.paid: false, Key.joined: false,
                    Key.orderID: nil, Key.amount: nil, Key.conflict: false]
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
            switch try attach(memberID: id, telegramID: telegramID, username: username, now: now, db) {
            case .attached: break
            case .holdsAnotherPaidMember: conflict = true
            case .boundMeanwhile:
                // On PostgreSQL two users opening one link at the same moment both read it unbound.
                // The loser's transaction rolls back and its step is retried, finding the link taken.
                throw ConnectorError(code: "bound-meanwhile", "member \(id) was bound to a Telegram user at the same moment; trying again")
            }
        }
        let order = try db.query("""
            SELECT order_id, amount FROM funnel_payments WHERE member_id = $1 AND status IN ('pending', 'paid')
            ORDER BY created_at DESC LIMIT 1
            """, [.string(id)]).first
        let status = row[Key.status]?.stringValue
        return [
            Key.found: true, Key.id: .string(id), Key.fullName: row[Key.fullName] ?? .null, Key.status: .optionalString(status),
            Key.paid: .bool(isPaid(row)), Key.joined: .bool(status == MemberStatus.joined),
            Key.orderID: order?[Key.orderID] ?? .null, Key.amount: order?[Key.amount] ?? .null, Key.conflict: .bool(conflict),
        ]
    }

    /// An unpaid order's link: nobody is bound yet (the link went to whoever registered, which
    /// proves nothing), but the user is kept on the order, and `mark_paid` binds them when it is
    /// paid. The answer is about this order: not paid, its number for the payment button. Nil when
    /// the order turned out paid meanwhile (on PostgreSQL the payment may commit between the reads).
    private static func awaitPayment(_ order: SQLRow, member row: SQLRow?, token: String, telegramID: Int64, _ db: any SQLConnection) throws -> Value? {
        // The first to open it holds it, as with a member: a forwarded link does not take it over.
        try db.execute("UPDATE funnel_payments SET telegram_id = $2 WHERE token = $1 AND status <> 'paid' AND telegram_id IS NULL",
                       [.string(token), .int(telegramID)])
        let now = try db.query("SELECT telegram_id, status FROM funnel_payments WHERE token = $1", [.string(token)]).first
        if now?[Key.status]?.stringValue == "paid" { return nil }
        let opener = now?[Key.telegramID]?.int64
        let bound = row?[Key.telegramID]?.int64 ?? opener
        let status = row?[Key.status]?.stringValue
        return [
            Key.found: true, Key.id: row?[Key.id] ?? .null, Key.fullName: row?[Key.fullName] ?? .null, Key.status: .optionalString(status),
            Key.paid: false, Key.joined: .bool(status == MemberStatus.joined && bound == telegramID),
            Key.orderID: order[Key.orderID] ?? .null, Key.amount: order[Key.amount] ?? .null, Key.conflict: .bool(bound != nil && bound != telegramID),
        ]
    }

    public enum Attachment: Sendable { case attached, holdsAnotherPaidMember, boundMeanwhile }

    /// Binds an unbound member to a Telegram user. One user holds one member: a stale binding on
    /// an unpaid registration (the same person registered twice) gives way; a paid one does not.
    public static func attach(memberID id: String, telegramID: Int64, username: String?, now: Value, _ db: any SQLConnection) throws -> Attachment {
        let other = try db.query("SELECT \(memberColumns) FROM funnel_members WHERE telegram_id = $1", [.int(telegramID)]).first
        if let other, other[Key.id]?.stringValue != id {
            if isPaid(other) { return .holdsAnotherPaidMember }
            try db.execute("UPDATE funnel_members SET telegram_id = NULL, telegram_username = NULL, updated_at = $2 WHERE id = $1",
                           [other[Key.id] ?? .null, now])
        }
        // Only while still unbound: two users at the same moment must not both take it.
        let bound = try db.execute("""
            UPDATE funnel_members SET telegram_id = $2, telegram_username = COALESCE($3, telegram_username), updated_at = $4
            WHERE id = $1 AND telegram_id IS NULL
            """, [.string(id), .int(telegramID), .optionalString(username), now])
        return bound == 1 ? .attached : .boundMeanwhile
    }
}

