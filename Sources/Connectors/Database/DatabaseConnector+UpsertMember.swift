import Flows

extension DatabaseConnector {
    static let upsertMemberSpec = ActionSpec(
        name: "upsert_member",
        summary: "Registers a client from the landing form, or updates the same client registering again until they have paid, "
            + "and gives a new order to pay (the same one when the same step runs again).",
        inputs: [
            .required(Key.fullName, .string, "full name"),
            .optional(Key.phone, .string, "phone, already normalised to E.164: identifies the client"),
            .optional(Key.city, .string, "city"),
            .optional(Key.email, .string, "e-mail: identifies the client when there is no phone"),
            .required(Key.amount, .string, "the price to pay, decimal (e.g. 3000 or \"3000.00\")"),
            .optional(Key.currency, .string, "currency code", default: "rub"),
        ],
        outputs: [
            .output(Key.id, .string, "the member's id"),
            .output(Key.token, .string, "the deep-link token of this registration's order: /start with it binds the Telegram account once that order is paid"),
            .output(Key.orderID, .string, "our order number to send to the payment provider"),
            .output(Key.amount, .string, "the amount of that order, e.g. \"3000.00\""),
            .output(Key.currency, .string, "its currency"),
            .output(Key.status, .choice(MemberStatus.all), "the member's status"),
            .output(Key.created, .boolean, "whether this registration created the member"),
        ],
        hasSideEffects: true,
        example: """
            id: member
            do: db.upsert_member
            with:
              full_name: "{{ event.body.full_name }}"
              phone: "{{ event.body.phone }}"
              city: "{{ event.body.city }}"
              email: "{{ event.body.email }}"
              amount: 3000
            """
    )

    /// What one registration writes, checked before any SQL runs.
    private struct Registration: Sendable {
        var fullName: String
        var phone: String?
        var city: String?
        var email: String?
        var amount: String
        var currency: String
    }

    func upsertMember(_ inputs: Fields, key: String) async throws -> Value {
        let amountText = try inputs.require(Key.amount)
        guard let amount = Money.normalise(amountText) else {
            throw ConnectorError.permanent("bad-input", "'amount' must be a non-negative amount like 3000 or 3000.00, found '\(amountText)'")
        }
        let registration = Registration(
            fullName: try inputs.requireText(Key.fullName),
            phone: inputs.text(Key.phone), city: inputs.text(Key.city), email: inputs.text(Key.email),
            amount: amount, currency: try Self.currency(inputs))
        guard registration.phone != nil || registration.email != nil else {
            throw ConnectorError.permanent("missing-field", "'phone' or 'email' needs a value: one of them identifies the client")
        }
        let prefix = orderPrefix
        // Two registrations of the same new client at once: the loser hits the UNIQUE phone (or a
        // random order number collides) and simply runs again, now finding the winner's row.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await database.transaction { db in try Self.upsert(registration, orderPrefix: prefix, step: key, db) }
            } catch let error as SQLError where error.kind == .uniqueViolation && attempt < 3 {
                continue
            } catch let error as SQLError {
                throw Self.connectorError(error)
            }
        }
    }

    private static func upsert(_ r: Registration, orderPrefix: String, step: String, _ db: any SQLConnection) throws -> Value {
        let now = Value.int(now())
        // The same step again (a run resumed after its result was lost): the order it made, not another.
        let paymentID = "reg:" + step
        if let made = try db.query("""
            SELECT p.order_id, p.token, p.amount, p.currency, m.id, m.status, m.created_at = p.created_at AS created FROM funnel_payments p
            JOIN funnel_members m ON m.id = p.member_id WHERE p.id = $1
            """, [.string(paymentID)]).first {
            return [
                Key.id: made[Key.id] ?? .null, Key.token: made[Key.token] ?? .null, Key.orderID: made[Key.orderID] ?? .null,
                Key.amount: made[Key.amount] ?? .null, Key.currency: made[Key.currency] ?? .null,
                Key.status: made[Key.status] ?? .null, Key.created: .bool(made[Key.created]?.boolValue ?? (made[Key.created]?.intValue == 1)),
            ]
        }
        var existing: SQLRow?
        if let phone = r.phone {
            existing = try db.query("SELECT id, token, status FROM funnel_members WHERE phone = $1", [.string(phone)]).first
        }
        if existing == nil, let email = r.email {
            // A client who registered without a phone and now gives one is still the same client.
            existing = try db.query("""
                SELECT id, token, status FROM funnel_members WHERE LOWER(email) = LOWER(CAST($1 AS TEXT)) AND phone IS NULL
                ORDER BY created_at DESC LIMIT 1
                """, [.string(email)]).first
        }
        let id: String, status: String
        if let existing {
            id = existing[Key.id]?.stringValue ?? ""
            status = existing[Key.status]?.stringValue ?? MemberStatus.registered
            // Anyone may type a paid client's phone into the form: once a member has paid, their
            // contacts change only in the dashboard. Before that, the latest registration is right.
            try db.execute("""
                UPDATE funnel_members SET full_name = $2, phone = COALESCE($3, phone), city = COALESCE($4, city),
                    email = COALESCE($5, email), updated_at = $6
                WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM funnel_payments WHERE member_id = $1 AND status = 'paid')
                """, [.string(id), .string(r.fullName), .optionalString(r.phone), .optionalString(r.city), .optionalString(r.email), now])
        } else {
            id = RecordID.make()
            status = MemberStatus.registered
            // The member's own token only serves links handed out before orders had tokens.
            try db.execute("""
                INSERT INTO funnel_members (id, full_name, phone, city, email, status, token, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                """, [.string(id), .string(r.fullName), .optionalString(r.phone), .optionalString(r.city), .optionalString(r.email),
                      .string(status), .string(Crypto.token(bytes: 18)), now])
        }

        // A new order, with a token of its own, for every registration: whoever registers with a
        // known phone gets a link to their own order, never to another's, and its token lets a
        // Telegram account in only once that order is paid.
        let orderID = OrderNumber.make(prefix: orderPrefix)
        let token = Crypto.token(bytes: 18)
        try db.execute("""
            INSERT INTO funnel_payments (id, member_id, order_id, provider, amount, currency, status, token, created_at)
            VALUES ($1, $2, $3, 'prodamus', $4, $5, 'pending', $6, $7)
            """, [.string(paymentID), .string(id), .string(orderID), .string(r.amount), .string(r.currency), .string(token), now])
        return [
            Key.id: .string(id), Key.token: .string(token), Key.orderID: .string(orderID),
            Key.amount: .string(r.amount), Key.currency: .string(r.currency),
            Key.status: .string(status), Key.created: .bool(existing == nil),
        ]
    }

    /// A currency code in lower case ("rub"), letters only.
    static func currency(_ inputs: Fields) throws(ConnectorError) -> String {
        let code = (inputs.text(Key.currency) ?? "rub").lowercased()
        guard (2...8).contains(code.count), code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .permanent("bad-input", "'currency' must be a currency code like rub, found '\(code)'")
        }
        return code
    }
}

extension Value {
    /// Text, or SQL NULL for `nil`.
    static func optionalString(_ text: String?) -> Value { text.map(Value.string) ?? .null }
}
