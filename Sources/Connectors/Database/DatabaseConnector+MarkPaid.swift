import Flows

extension DatabaseConnector {
    static let markPaidSpec = ActionSpec(
        name: "mark_paid",
        summary: "Records a successful payment of one of our orders and marks its member paid (a member the admin removed stays removed); "
            + "the same payment reported again changes nothing, and a second payment of a paid order is noted on it for the admin. "
            + "A payment of less than the order's amount, or in another currency, is recorded but does not mark it paid.",
        inputs: [
            .required(Key.order, .string, "our order number (the order_id upsert_member gave)"),
            .optional(Key.amount, .string, "the amount paid, decimal (e.g. \"3000.00\"); kept from registration when absent"),
            .optional(Key.currency, .string, "currency code of the amount paid"),
            .optional(Key.providerOrderID, .string, "the payment provider's own order id"),
            .optional(Key.payload, .object, "the provider's webhook as received, stored as JSON"),
            .optional(Key.note, .string, "why it was marked paid by hand"),
        ],
        outputs: [
            .output(Key.found, .boolean, "whether the order exists; when false every other field is null"),
            .output(Key.newlyPaid, .boolean, "true only the first time this order is marked paid"),
            .output(Key.orderID, .string, "our order number"),
            .output(Key.amount, .string, "the amount recorded for the order"),
            .output(Key.mismatch, .string, "why a payment did not mark the order paid (less than its amount, another currency); null otherwise"),
            .output(Key.paidAgain, .string, "the provider's id of a second payment of an order already paid (money to give back); null otherwise"),
            .output(Key.alreadyPaid, .boolean, "the member had paid another order before this one: a renewal, or a double payment (two tabs, the bot's button)"),
        ] + memberOutputs,
        hasSideEffects: true,
        example: """
            id: member
            do: db.mark_paid
            with:
              order: "{{ event.body.order_num }}"
              amount: "{{ event.body.sum }}"
              provider_order_id: "{{ event.body.order_id }}"
              payload: "{{ event.body }}"
            """
    )

    /// A payment as the provider reported it, checked before any SQL runs.
    private struct PaymentReport: Sendable {
        var order: String
        var amount: String?
        var currency: String?
        var providerOrderID: String?
        var payload: String?
        var note: String?
    }

    func markPaid(_ inputs: Fields) async throws -> Value {
        var amount: String?
        if let text = inputs.text(Key.amount) {
            guard let normalised = Money.normalise(text) else {
                throw ConnectorError.permanent("bad-input", "'amount' must be a non-negative amount like 3000.00, found '\(text)'")
            }
            amount = normalised
        }
        let report = PaymentReport(
            order: try inputs.requireText(Key.order),
            amount: amount,
            currency: inputs.text(Key.currency) == nil ? nil : try Self.currency(inputs),
            providerOrderID: inputs.text(Key.providerOrderID),
            payload: inputs[Key.payload]?.json,
            note: inputs.text(Key.note))
        let result = try await transaction { db in try Self.markPaid(report, db) }
        if let found = result[Key.found], found == false {
            // Not an error (the flow decides), but worth a trace: a webhook for an order we never issued.
            logger.notice("payment for an unknown order", metadata: ["order.id": "\(report.order)"])
        }
        return result
    }

    private static func markPaid(_ report: PaymentReport, _ db: any SQLConnection) throws -> Value {
        let now = Value.int(now())
        // A provider's report of less than the order's price, or in another currency (a link
        // edited before paying: Prodamus accepts unsigned links by default), pays nothing; it is
        // kept on the order for the admin, who can still mark it paid by hand.
        if let mismatch = try mismatch(report, db) {
            try db.execute("""
                UPDATE funnel_payments SET provider_order_id = COALESCE($2, provider_order_id), raw_payload = COALESCE($3, raw_payload),
                    note = $4
                WHERE order_id = $1 AND status <> 'paid'
                """, [.string(report.order), .optionalString(report.providerOrderID), .optionalString(report.payload), .string(mismatch)])
            var out = try result(report, newlyPaid: false, db)
            out[Key.mismatch] = .string(mismatch)
            return .object(out)
        }
        if let again = try paidAgain(report, now: now, db) {
            var out = try result(report, newlyPaid: false, db)
            out[Key.paidAgain] = .string(again)
            return .object(out)
        }
        // The status test in the WHERE makes the first caller win: a second webhook, or a resumed
        // run, changes no row and learns it was not the first.
        let updated = try db.query("""
            UPDATE funnel_payments SET status = 'paid', paid_at = $2, amount = COALESCE($3, amount),
                currency = COALESCE($4, currency), provider_order_id = COALESCE($5, provider_order_id),
                raw_payload = COALESCE($6, raw_payload), note = COALESCE($7, note)
            WHERE order_id = $1 AND status <> 'paid'
            RETURNING member_id, telegram_id
            """, [.string(report.order), now, .optionalString(report.amount), .optionalString(report.currency),
                  .optionalString(report.providerOrderID), .optionalString(report.payload), .optionalString(report.note)])
        var alreadyPaid = false
        if let paid = updated.first, let memberID = paid[Key.memberID] {
            // A member the admin removed stays removed: paying again is not the admin's word.
            alreadyPaid = try memberPaid(memberID, opener: paid[Key.telegramID]?.int64, now: now, keepsRemoved: true, db)
        }
        var out = try result(report, newlyPaid: !updated.isEmpty, db)
        out[Key.alreadyPaid] = .bool(alreadyPaid)
        return .object(out)
    }

    /// What a newly paid order does to its member, here and when the admin marks one paid by hand:
    /// paid (a joined member stays joined; a removed one too unless `keepsRemoved` is false, as
    /// for the admin), and `opener`, the account that opened the order's link before it was paid,
    /// bound, unless the member has an account (or that one holds another paid member) or had paid
    /// before: then this payer may be someone else who knew the phone. Whether they had paid before.
    public static func memberPaid(_ memberID: Value, opener: Int64?, now: Value, keepsRemoved: Bool, _ db: any SQLConnection) throws -> Bool {
        let member = try db.query("SELECT paid_at, telegram_id FROM funnel_members WHERE id = $1", [memberID]).first
        let alreadyPaid = !(member?[Key.paidAt]?.isNull ?? true)
        let kept = keepsRemoved ? "'joined', 'removed'" : "'joined'"
        try db.execute("""
            UPDATE funnel_members SET paid_at = $2, updated_at = $2, status = CASE WHEN status IN (\(kept)) THEN status ELSE 'paid' END
            WHERE id = $1
            """, [memberID, now])
        if !alreadyPaid, let opener, member?[Key.telegramID]?.isNull ?? false, let id = memberID.stringValue {
            _ = try attach(memberID: id, telegramID: opener, username: nil, now: now, db)
        }
        return alreadyPaid
    }

    /// A second payment of an order already paid (the link paid twice: the back button, the bot's
    /// button while the first webhook was late): the provider's order id differs from the one on
    /// record. It is noted on the order once, for the admin to give the money back; nil otherwise.
    private static func paidAgain(_ report: PaymentReport, now: Value, _ db: any SQLConnection) throws -> String? {
        guard let again = report.providerOrderID,
              let paid = try db.query("SELECT provider_order_id, note FROM funnel_payments WHERE order_id = $1 AND status = 'paid'",
                                      [.string(report.order)]).first
        else { return nil }
        guard let first = paid[Key.providerOrderID]?.stringValue else {
            // Marked paid by hand before the webhook came: this is that payment; keep its id.
            try db.execute("UPDATE funnel_payments SET provider_order_id = $2 WHERE order_id = $1", [.string(report.order), .string(again)])
            return nil
        }
        guard first != again else { return nil }
        let line = "paid again: \(report.amount ?? "?") by provider order \(again)"
        let note = paid[Key.note]?.stringValue ?? ""
        if !note.contains("provider order \(again)") {
            try db.execute("UPDATE funnel_payments SET note = $2 WHERE order_id = $1",
                           [.string(report.order), .string(note.isEmpty ? line : note + "\n" + line)])
        }
        return again
    }

    /// Why the report does not pay its (unpaid) order, or nil when it does or there is nothing to compare.
    private static func mismatch(_ report: PaymentReport, _ db: any SQLConnection) throws -> String? {
        guard let order = try db.query("SELECT amount, currency FROM funnel_payments WHERE order_id = $1 AND status <> 'paid'",
                                       [.string(report.order)]).first,
              let expectedAmount = order[Key.amount]?.stringValue, let expectedCurrency = order[Key.currency]?.stringValue
        else { return nil }
        if let currency = report.currency, currency != expectedCurrency.lowercased() {
            return "paid in \(currency), the order is in \(expectedCurrency)"
        }
        if let amount = report.amount, let paid = Money.cents(amount), let expected = Money.cents(expectedAmount), paid < expected {
            return "paid \(amount) \(expectedCurrency), the order is \(expectedAmount) \(expectedCurrency)"
        }
        return nil
    }

    /// The order and its member as they are now.
    private static func result(_ report: PaymentReport, newlyPaid: Bool, _ db: any SQLConnection) throws -> [String: Value] {
        guard let payment = try db.query("SELECT member_id, order_id, amount FROM funnel_payments WHERE order_id = $1",
                                         [.string(report.order)]).first,
              let memberID = payment[Key.memberID],
              let row = try db.query("SELECT \(memberColumns) FROM funnel_members WHERE id = $1", [memberID]).first
        else {
            var out = noMember
            out[Key.found] = false
            out[Key.newlyPaid] = false
            out[Key.orderID] = .null
            out[Key.amount] = .null
            out[Key.mismatch] = .null
            out[Key.paidAgain] = .null
            out[Key.alreadyPaid] = false
            return out
        }
        var out = member(row)
        out[Key.found] = true
        out[Key.newlyPaid] = .bool(newlyPaid)
        out[Key.orderID] = payment[Key.orderID] ?? .null
        out[Key.amount] = payment[Key.amount] ?? .null
        out[Key.mismatch] = .null
        out[Key.paidAgain] = .null
        out[Key.alreadyPaid] = false
        return out
    }
}
