import Flows

extension DatabaseConnector {
    static let markPaidSpec = ActionSpec(
        name: "mark_paid",
        summary: "Records a successful payment of one of our orders and marks its member paid; paying the same order twice changes nothing.",
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
        // The status test in the WHERE makes the first caller win: a second webhook, or a resumed
        // run, changes no row and learns it was not the first.
        let updated = try db.query("""
            UPDATE funnel_payments SET status = 'paid', paid_at = $2, amount = COALESCE($3, amount),
                currency = COALESCE($4, currency), provider_order_id = COALESCE($5, provider_order_id),
                raw_payload = COALESCE($6, raw_payload), note = COALESCE($7, note)
            WHERE order_id = $1 AND status <> 'paid'
            RETURNING member_id
            """, [.string(report.order), now, .optionalString(report.amount), .optionalString(report.currency),
                  .optionalString(report.providerOrderID), .optionalString(report.payload), .optionalString(report.note)])
        let newlyPaid = !updated.isEmpty
        if let memberID = updated.first?[Key.memberID] {
            try db.execute("""
                UPDATE funnel_members SET paid_at = $2, updated_at = $2,
                    status = CASE WHEN status = 'joined' THEN status ELSE 'paid' END
                WHERE id = $1
                """, [memberID, now])
        }
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
            return .object(out)
        }
        var out = member(row)
        out[Key.found] = true
        out[Key.newlyPaid] = .bool(newlyPaid)
        out[Key.orderID] = payment[Key.orderID] ?? .null
        out[Key.amount] = payment[Key.amount] ?? .null
        return .object(out)
    }
}
