import DatabaseConnector
import Flows
import Foundation
import Hummingbird

extension AdminDashboard {
    /// The member page's forms. Each change and its audit entry are one transaction; the
    /// audit keeps which fields changed, never their values (personal data must be erasable).
    func memberAction(_ id: String, action: String, _ fields: [String: String], _ session: AdminSession) async throws -> Response {
        let exists = try await store.database.query("SELECT telegram_id FROM funnel_members WHERE id = $1", [.string(id)]).first
        guard let exists else {
            return render("message", status: .notFound, session: session, ["title": AdminText.notFound, "problem": AdminText.notFound])
        }
        let telegramID = exists["telegram_id"]?.intValue
        switch action {
        case "paid": return try await markPaid(id, fields, session)
        case "edit": return try await editContacts(id, fields, session)
        case "forget":
            guard fields["confirm"] == "yes" else { return try await memberPage(id, session, problem: AdminText.labels["forget_hint"], status: .badRequest) }
            return try await forget(id, telegramID: telegramID, session)
        case "invite", "remove": return try await telegramAction(id, action: action, telegramID: telegramID, session)
        case "restore": return try await restore(id, session)
        case "unbind": return try await unbind(id, session)
        default:
            return render("message", status: .notFound, session: session, ["title": AdminText.notFound, "problem": AdminText.notFound])
        }
    }

    /// Marks the member's open order paid and its member through `db.mark_paid`'s `memberPaid`; a member
    /// with no order gets one (`admin-…`) for the amount given, so accounting sees every payment.
    private func markPaid(_ id: String, _ fields: [String: String], _ session: AdminSession) async throws -> Response {
        let note = String((fields["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))
        let amountText = (fields["amount"] ?? "").trimmingCharacters(in: .whitespaces)
        let amount = Self.money(amountText)
        if !amountText.isEmpty && amount == nil {
            return try await memberPage(id, session, problem: AdminText.badAmount, status: .badRequest)
        }
        let admin = session.admin
        let accounts = accounts
        let outcome = try await store.database.transaction { db -> String in
            let now = Value.millis(Store.now())
            // The order a payment did not settle (its note says why) or whose link the client opened,
            // before any other unpaid one: every registration makes an order.
            var order = try db.query("""
                SELECT order_id FROM funnel_payments WHERE member_id = $1 AND status <> 'paid'
                ORDER BY CASE WHEN note IS NOT NULL OR telegram_id IS NOT NULL THEN 0 ELSE 1 END, created_at DESC LIMIT 1
                """, [.string(id)]).first?["order_id"]?.stringValue
            if order == nil {
                let paid = try db.query("SELECT COUNT(*) AS n FROM funnel_payments WHERE member_id = $1 AND status = 'paid'", [.string(id)])
                if (paid.first?["n"]?.intValue ?? 0) > 0 { return "already" }
                guard let amount else { return "amount" }
                let newOrder = "admin-" + String(RecordID.make().suffix(12))
                try db.execute("""
                    INSERT INTO funnel_payments (id, member_id, order_id, provider, amount, currency, status, created_at)
                    VALUES ($1, $2, $3, 'manual', $4, 'rub', 'pending', $5)
                    """, [.string(RecordID.make()), .string(id), .string(newOrder), .string(amount), now])
                order = newOrder
            }
            let updated = try db.query("""
                UPDATE funnel_payments SET status = 'paid', paid_at = $2, amount = COALESCE($3, amount), note = COALESCE($4, note)
                WHERE order_id = $1 AND status <> 'paid'
                RETURNING member_id, telegram_id
                """, [.string(order!), now, amount.map(Value.string) ?? .null, note.isEmpty ? .null : .string(note)])
            if let paid = updated.first, let memberID = paid["member_id"] {
                // The admin's word: a removed member is paid again.
                _ = try DatabaseConnector.memberPaid(memberID, opener: paid["telegram_id"]?.intValue.map(Int64.init), now: now,
                                                     keepsRemoved: false, db)
            }
            try accounts.audit(db, admin: admin, action: "mark_paid", subject: "member:" + id,
                               details: ["order": .string(order!), "amount": amount.map(Value.string) ?? .null, "note": .string(note)])
            return "paid"
        }
        switch outcome {
        case "already": return try await memberPage(id, session, problem: AdminText.alreadyPaid, status: .conflict)
        case "amount": return try await memberPage(id, session, problem: AdminText.badAmount, status: .badRequest)
        default:
            logger.notice("admin marked a member paid", metadata: ["admin.login": "\(admin)", "member.id": "\(id)"])
            return Self.redirect("/admin/members/\(id)?notice=paid")
        }
    }

    private func editContacts(_ id: String, _ fields: [String: String], _ session: AdminSession) async throws -> Response {
        func field(_ name: String, _ limit: Int) -> Value {
            let text = String((fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(limit))
            return text.isEmpty ? .null : .string(text)
        }
        let name = field("full_name", 200)
        guard !name.isNull else { return try await memberPage(id, session, problem: AdminText.nameRequired, status: .badRequest) }
        var username = field("telegram_username", 64)
        if let text = username.stringValue, text.hasPrefix("@") { username = text.count > 1 ? .string(String(text.dropFirst())) : .null }
        // Written as the site's form writes them: a phone stored as typed would not match the
        // member when they register again, and a second member would be made.
        var phone = field("phone", 32)
        if let text = phone.stringValue {
            guard let normalised = ContactFormat.phone(text) else { return try await memberPage(id, session, problem: AdminText.badPhone, status: .badRequest) }
            phone = .string(normalised)
        }
        let email = field("email", 254)
        if let text = email.stringValue, !ContactFormat.isEmail(text) {
            return try await memberPage(id, session, problem: AdminText.badEmail, status: .badRequest)
        }
        let values: [(column: String, value: Value)] = [("full_name", name), ("phone", phone), ("email", email),
                                                        ("city", field("city", 100)), ("telegram_username", username)]
        if values.contains(where: { $0.value.stringValue?.unicodeScalars.contains { $0.properties.generalCategory == .control } == true }) {
            return try await memberPage(id, session, problem: AdminText.badCharacters, status: .badRequest)
        }
        let admin = session.admin
        let accounts = accounts
        do {
            try await store.database.transaction { db in
                guard let before = try db.query("SELECT full_name, phone, email, city, telegram_username FROM funnel_members WHERE id = $1",
                                                [.string(id)]).first else { return }
                let changed = values.filter { (before[$0.column] ?? .null) != $0.value }.map(\.column)
                guard !changed.isEmpty else { return }
                try db.execute("""
                    UPDATE funnel_members SET full_name = $2, phone = $3, email = $4, city = $5, telegram_username = $6, updated_at = $7
                    WHERE id = $1
                    """, [.string(id)] + values.map(\.value) + [.millis(Store.now())])
                try accounts.audit(db, admin: admin, action: "edit_contacts", subject: "member:" + id,
                                   details: ["fields": .array(changed.map(Value.string))])
            }
        } catch let error as SQLError where error.kind == .uniqueViolation {
            return try await memberPage(id, session, problem: AdminText.duplicateContact, status: .conflict)
        }
        return Self.redirect("/admin/members/\(id)?notice=saved")
    }

    /// Erases the member's personal data on request (152-ФЗ): contact fields, the payment
    /// provider's raw payloads (they repeat them) and support texts. Amounts and dates stay for accounting.
    private func forget(_ id: String, telegramID: Int?, _ session: AdminSession) async throws -> Response {
        let admin = session.admin
        let accounts = accounts
        try await store.database.transaction { db in
            let now = Value.millis(Store.now())
            try db.execute("""
                UPDATE funnel_members SET full_name = $2, phone = NULL, email = NULL, city = NULL, telegram_username = NULL, updated_at = $3
                WHERE id = $1
                """, [.string(id), .string(AdminText.forgottenName), now])
            // The admins' notes on payments may name people ("перевод от Веры Петровой"): they go
            // too, here and in the audit entries that quoted them.
            try db.execute("UPDATE funnel_payments SET raw_payload = NULL, note = NULL WHERE member_id = $1", [.string(id)])
            try accounts.forgetNotes(db, subject: "member:" + id)
            if let telegramID {
                try db.execute("UPDATE funnel_support_messages SET text = $2 WHERE telegram_id = $1", [.number(Double(telegramID)), .string("—")])
            }
            try accounts.audit(db, admin: admin, action: "forget_personal_data", subject: "member:" + id,
                               details: ["fields": ["full_name", "phone", "email", "city", "telegram_username", "payments.raw_payload", "payments.note",
                                                    "support_messages.text", "audit notes"]])
        }
        logger.notice("admin erased a member's personal data", metadata: ["admin.login": "\(admin)", "member.id": "\(id)"])
        return Self.redirect("/admin/members/\(id)?notice=forgotten")
    }

    /// Resends the invite or removes the member from the group through the running `telegram`
    /// connector. The audit entry is written first: its id is the idempotency key, so a double
    /// click sends one message per entry and the entry exists even if Telegram fails.
    private func telegramAction(_ id: String, action: String, telegramID: Int?, _ session: AdminSession) async throws -> Response {
        guard let telegram = instance(ofType: "telegram") else {
            return try await memberPage(id, session, problem: AdminText.telegramMissing, status: .serviceUnavailable)
        }
        guard let telegramID else { return try await memberPage(id, session, problem: AdminText.noTelegramID, status: .conflict) }
        let name = action == "invite" ? "send_invite" : "remove_member"
        let auditID = try await accounts.audit(admin: session.admin, action: name, subject: "member:" + id, details: ["state": "requested"])
        let key = "admin:\(auditID)"
        var callLogger = logger
        callLogger[metadataKey: "admin.login"] = "\(session.admin)"
        var inputs: [String: Value] = ["user": .number(Double(telegramID))]
        if action == "invite" { inputs["member_id"] = .string(id) }
        do {
            let result = try await telegram.connector.perform(ActionCall(action: name, inputs: Fields(inputs), idempotencyKey: key, runID: key,
                                                                         stepID: name, flow: "admin", logger: callLogger))
            if action == "invite", let link = result["invite_link"], let database = instance(ofType: "database") {
                _ = try await database.connector.perform(ActionCall(
                    action: "record_invite",
                    inputs: Fields(["member_id": .string(id), "telegram_id": .number(Double(telegramID)), "invite_link": link,
                                    "expires_at": result["expires_at"] ?? .null]),
                    idempotencyKey: key + ":record", runID: key, stepID: "record_invite", flow: "admin", logger: callLogger))
            }
            if action == "remove" {
                try await store.database.execute("UPDATE funnel_members SET status = 'removed', updated_at = $2 WHERE id = $1",
                                                 [.string(id), .millis(Store.now())])
            }
            try await accounts.completeAudit(id: auditID, details: ["state": "done", "connector": .string(telegram.name)])
        } catch {
            let message = (error as? ConnectorError).map { "\($0)" } ?? "\(error)"
            try? await accounts.completeAudit(id: auditID, details: ["state": "failed", "error": .string(String(message.prefix(300)))])
            logger.warning("admin telegram action failed", metadata: ["action": "\(name)", "member.id": "\(id)", "error": "\(message)"])
            return try await memberPage(id, session, problem: AdminText.telegramFailed(message), status: .badGateway)
        }
        return Self.redirect("/admin/members/\(id)?notice=\(action == "invite" ? "invited" : "removed")")
    }

    /// Undoes a removal: the member is paid again if they ever paid (a payment that came while
    /// they were removed included), registered otherwise; "resend invite" then lets them in.
    private func restore(_ id: String, _ session: AdminSession) async throws -> Response {
        let admin = session.admin
        let accounts = accounts
        let restored = try await store.database.transaction { db -> Bool in
            let changed = try db.execute("""
                UPDATE funnel_members SET status = CASE WHEN paid_at IS NULL THEN 'registered' ELSE 'paid' END, updated_at = $2
                WHERE id = $1 AND status = 'removed'
                """, [.string(id), .millis(Store.now())])
            guard changed == 1 else { return false }
            try accounts.audit(db, admin: admin, action: "restore", subject: "member:" + id, details: [:])
            return true
        }
        guard restored else { return try await memberPage(id, session, problem: AdminText.notRemoved, status: .conflict) }
        return Self.redirect("/admin/members/\(id)?notice=restored")
    }

    /// Frees the member from their Telegram account (they changed it, or a stranger opened their
    /// link first): the client's own link, or /start from the new account with it, binds again.
    private func unbind(_ id: String, _ session: AdminSession) async throws -> Response {
        let admin = session.admin
        let accounts = accounts
        let unbound = try await store.database.transaction { db -> Bool in
            let changed = try db.execute("""
                UPDATE funnel_members SET telegram_id = NULL, telegram_username = NULL, updated_at = $2
                WHERE id = $1 AND telegram_id IS NOT NULL
                """, [.string(id), .millis(Store.now())])
            guard changed == 1 else { return false }
            // The account kept on the member's unpaid orders goes too, so a payment cannot bind it again.
            try db.execute("UPDATE funnel_payments SET telegram_id = NULL WHERE member_id = $1 AND status <> 'paid'", [.string(id)])
            try accounts.audit(db, admin: admin, action: "unbind_telegram", subject: "member:" + id, details: [:])
            return true
        }
        guard unbound else { return try await memberPage(id, session, problem: AdminText.noTelegramID, status: .conflict) }
        return Self.redirect("/admin/members/\(id)?notice=unbound")
    }

    /// The running connector instance of a type (`telegram`), whatever its instance name.
    func instance(ofType typeName: String) -> (name: String, connector: any Connector)? {
        connectors.sorted { $0.key < $1.key }.first { type(of: $0.value).spec.name == typeName }.map { ($0.key, $0.value) }
    }

    /// `3000`, `3000,5`, `3 000.00` → `3000.50`-style decimal text; nil for anything else.
    static func money(_ text: String) -> String? {
        let compact = text.filter { !$0.isWhitespace }.replacingOccurrences(of: ",", with: ".")
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, (1...12).contains(whole.count), whole.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 2, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let integer = String(whole.drop { $0 == "0" })
        return (integer.isEmpty ? "0" : integer) + "." + fraction.padding(toLength: 2, withPad: "0", startingAt: 0)
    }
}
