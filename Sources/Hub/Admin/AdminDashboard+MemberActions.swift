import DatabaseConnector
import Flows
import Foundation
import Hummingbird
import Logging

extension AdminDashboard {
    /// The member page's forms. Each change and its audit entry are one transaction; the
    /// audit keeps which fields changed, never their values (personal data must be erasable).
    /// A form sent twice does its action once (`AdminForm`) and is answered like the first time.
    func memberAction(_ id: String, action: String, _ fields: [String: String], _ session: AdminSession) async throws -> Response {
        let exists = try await store.database.query("SELECT telegram_id, status FROM funnel_members WHERE id = $1", [.string(id)]).first
        guard let exists else {
            return render("message", status: .notFound, session: session, ["title": AdminText.notFound, "problem": AdminText.notFound])
        }
        let telegramID = exists["telegram_id"]?.intValue
        let form = AdminForm(fields, action: action)
        let notices = ["paid": "paid", "edit": "saved", "forget": "forgotten", "invite": "invited", "remove": "removed",
                       "restore": "restored", "unbind": "unbound"]
        guard let notice = notices[action] else {
            return render("message", status: .notFound, session: session, ["title": AdminText.notFound, "problem": AdminText.notFound])
        }
        do {
            switch action {
            case "paid": try await markPaid(id, fields, form, session)
            case "edit": try await editContacts(id, fields, form, session)
            case "forget":
                guard fields["confirm"] == "yes" else { throw RefusedAction(problem: AdminText.labels["forget_hint"]!, status: .badRequest) }
                try await forget(id, telegramID: telegramID, form, session)
            case "invite": try await sendInvite(id, telegramID: telegramID, form, session)
            case "remove": try await removeFromGroup(id, telegramID: telegramID, form, session)
            case "restore": try await restore(id, form, session)
            default: try await unbind(id, telegramID: telegramID, joined: exists["status"]?.stringValue == "joined", form, session)
            }
        } catch is RepeatedForm {
            // A double: the page as it is now, with the notice only if the first one got that far
            // (a Telegram call may still be under way, or have failed: its entry on the page says so).
            guard try await accounts.isDone(form) else { return Self.redirect("/admin/members/\(id)") }
        } catch let refused as RefusedAction {
            return try await memberPage(id, session, problem: refused.problem, status: refused.status)
        }
        return Self.redirect("/admin/members/\(id)?notice=\(notice)")
    }

    /// Marks the member's open order paid and its member through `db.mark_paid`'s `memberPaid`; a member
    /// with no order gets one (`admin-…`) for the amount given, so accounting sees every payment.
    private func markPaid(_ id: String, _ fields: [String: String], _ form: AdminForm, _ session: AdminSession) async throws {
        let note = String((fields["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))
        let amountText = (fields["amount"] ?? "").trimmingCharacters(in: .whitespaces)
        let amount = Self.money(amountText)
        if !amountText.isEmpty && amount == nil { throw RefusedAction(problem: AdminText.badAmount, status: .badRequest) }
        let admin = session.admin
        let accounts = accounts
        try await store.database.transaction { db in
            try accounts.claim(db, form, admin: admin, action: "mark_paid", subject: "member:" + id)
            let now = Value.millis(Store.now())
            // The order a payment did not settle (its note says why) or whose link the client opened,
            // before any other unpaid one: every registration makes an order.
            var order = try db.query("""
                SELECT order_id FROM funnel_payments WHERE member_id = $1 AND status <> 'paid'
                ORDER BY CASE WHEN note IS NOT NULL OR telegram_id IS NOT NULL THEN 0 ELSE 1 END, created_at DESC LIMIT 1
                """, [.string(id)]).first?["order_id"]?.stringValue
            if order == nil {
                let paid = try db.query("SELECT COUNT(*) AS n FROM funnel_payments WHERE member_id = $1 AND status = 'paid'", [.string(id)])
                if (paid.first?["n"]?.intValue ?? 0) > 0 { throw RefusedAction(problem: AdminText.alreadyPaid, status: .conflict) }
                guard let amount else { throw RefusedAction(problem: AdminText.badAmount, status: .badRequest) }
                let newOrder = "admin-" + String(RecordID.make().suffix(12))
                try db.execute("""
                    INSERT INTO funnel_payments (id, member_id, order_id, provider, amount, currency, status, created_at)
                    VALUES ($1, $2, $3, 'manual', $4, 'rub', 'pending', $5)
                    """, [.string(RecordID.make()), .string(id), .string(newOrder), .string(amount), now])
                order = newOrder
            }
            // Zero rows: a webhook paid the order since it was read (PostgreSQL reads committed rows).
            guard let paid = try db.query("""
                UPDATE funnel_payments SET status = 'paid', paid_at = $2, amount = COALESCE($3, amount), note = COALESCE($4, note)
                WHERE order_id = $1 AND status <> 'paid'
                RETURNING member_id, telegram_id
                """, [.string(order!), now, amount.map(Value.string) ?? .null, note.isEmpty ? .null : .string(note)]).first,
                let memberID = paid["member_id"]
            else { throw RefusedAction(problem: AdminText.alreadyPaid, status: .conflict) }
            // The admin's word: a removed member is paid again.
            _ = try DatabaseConnector.memberPaid(memberID, opener: paid["telegram_id"]?.intValue.map(Int64.init), now: now,
                                                 keepsRemoved: false, db)
            try accounts.audit(db, id: form.id, details: ["order": .string(order!), "amount": amount.map(Value.string) ?? .null, "note": .string(note)])
        }
        logger.notice("admin marked a member paid", metadata: ["admin.login": "\(admin)", "member.id": "\(id)"])
    }

    private func editContacts(_ id: String, _ fields: [String: String], _ form: AdminForm, _ session: AdminSession) async throws {
        func field(_ name: String, _ limit: Int) -> Value {
            // Cut by code points, as the site's form counts them: a letter with 20,000 accents is one Character.
            let trimmed = ContactFormat.cleaned(fields[name] ?? "", isPhoneOrEmail: ["phone", "email"].contains(name))
            let text = String(String.UnicodeScalarView(trimmed.unicodeScalars.prefix(limit)))
            return text.isEmpty ? .null : .string(text)
        }
        let name = field("full_name", 200)
        guard let text = name.stringValue, ContactFormat.hasLetter(text) else { throw RefusedAction(problem: AdminText.nameRequired, status: .badRequest) }
        var username = field("telegram_username", 64)
        if let text = username.stringValue, text.hasPrefix("@") { username = text.count > 1 ? .string(String(text.dropFirst())) : .null }
        // Written as the site's form writes them: a phone stored as typed would not match the
        // member when they register again, and a second member would be made.
        var phone = field("phone", 32)
        if let text = phone.stringValue {
            guard let normalised = ContactFormat.phone(text) else { throw RefusedAction(problem: AdminText.badPhone, status: .badRequest) }
            phone = .string(normalised)
        }
        let email = field("email", 254)
        if let text = email.stringValue, !ContactFormat.isEmail(text) { throw RefusedAction(problem: AdminText.badEmail, status: .badRequest) }
        let values: [(column: String, value: Value)] = [("full_name", name), ("phone", phone), ("email", email),
                                                        ("city", field("city", 100)), ("telegram_username", username)]
        // The member as the form showed it: saving a page opened before the data changed (the bot
        // learnt a username, another admin erased the data) would put the old values back.
        let version = fields["version"].flatMap { Int64($0) }
        let admin = session.admin
        let accounts = accounts
        do {
            try await store.database.transaction { db in
                try accounts.claim(db, form, admin: admin, action: "edit_contacts", subject: "member:" + id)
                guard let before = try db.query("SELECT full_name, phone, email, city, telegram_username, updated_at FROM funnel_members WHERE id = $1",
                                                [.string(id)]).first else { return }
                if let version, before["updated_at"]?.intValue.map(Int64.init) != version {
                    throw RefusedAction(problem: AdminText.staleForm, status: .conflict)
                }
                let changed = values.filter { (before[$0.column] ?? .null) != $0.value }.map(\.column)
                // Nothing to change: no entry either.
                guard !changed.isEmpty else { throw RepeatedForm() }
                // Only what the admin changed is checked, compared as the form cleans it: a value stored
                // before the rules (cleaned now in passing) must not block fixing a phone.
                let edited = values.filter { value in
                    let stored = before[value.column]?.stringValue.map { ContactFormat.cleaned($0, isPhoneOrEmail: ["phone", "email"].contains(value.column)) }
                    return (stored.map { $0.isEmpty ? Value.null : .string($0) } ?? .null) != value.value
                }
                if edited.contains(where: { $0.value.stringValue.map(ContactFormat.hasDisguisingCharacters) == true }) {
                    throw RefusedAction(problem: AdminText.badCharacters, status: .badRequest)
                }
                try db.execute("""
                    UPDATE funnel_members SET full_name = $2, phone = $3, email = $4, city = $5, telegram_username = $6, updated_at = $7
                    WHERE id = $1
                    """, [.string(id)] + values.map(\.value) + [.millis(Store.now())])
                try accounts.audit(db, id: form.id, details: ["fields": .array(changed.map(Value.string))])
            }
        } catch let error as SQLError where error.kind == .uniqueViolation {
            throw RefusedAction(problem: AdminText.duplicateContact, status: .conflict)
        }
    }

    /// Erases the member's personal data on request (152-ФЗ): contact fields, the payment
    /// provider's raw payloads (they repeat them) and support texts. Amounts and dates stay for accounting.
    private func forget(_ id: String, telegramID: Int?, _ form: AdminForm, _ session: AdminSession) async throws {
        // The events the member's form, payments and messages came in with, found by what they carry.
        let database = store.database
        let contacts = try await database.query("SELECT phone, email FROM funnel_members WHERE id = $1", [.string(id)]).first
        let phone = contacts?["phone"]?.stringValue
        var needles = [phone, phone.map { String($0.drop { $0 == "+" }) }, contacts?["email"]?.stringValue].compactMap { $0 }
        needles += try await database.query("SELECT order_id FROM funnel_payments WHERE member_id = $1", [.string(id)])
            .compactMap { $0["order_id"]?.stringValue }
        if let telegramID { needles += RunHistoryErasure.telegramUser(telegramID) }
        let events = try await RunHistoryErasure.events(mentioning: needles, in: database)
        let admin = session.admin
        let accounts = accounts
        let postgres = database.dialect == .postgres
        try await database.transaction { db in
            try accounts.claim(db, form, admin: admin, action: "forget_personal_data", subject: "member:" + id,
                               details: ["fields": ["full_name", "phone", "email", "city", "telegram_username", "payments.raw_payload", "payments.note",
                                                    "support_messages.text", "audit notes", "events and step results"]])
            try RunHistoryErasure.erase(events: events, postgres: postgres, db)
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
        }
        logger.notice("admin erased a member's personal data", metadata: ["admin.login": "\(admin)", "member.id": "\(id)"])
    }

    /// Sends the member a fresh invite through the running `telegram` connector. The audit entry
    /// is written first, under the form's id, which is also the idempotency key of the sends.
    private func sendInvite(_ id: String, telegramID: Int?, _ form: AdminForm, _ session: AdminSession) async throws {
        let telegram = try runningTelegram()
        guard let telegramID else { throw RefusedAction(problem: AdminText.noTelegramID, status: .conflict) }
        let admin = session.admin
        let accounts = accounts
        try await store.database.transaction { db in
            try accounts.claim(db, form, admin: admin, action: "send_invite", subject: "member:" + id, details: ["state": "requested"])
        }
        try await callTelegram(telegram, "send_invite", ["user": .number(Double(telegramID)), "member_id": .string(id)], form, session) { result, key, logger in
            guard let link = result["invite_link"], let database = self.instance(ofType: "database") else { return }
            _ = try await database.connector.perform(ActionCall(
                action: "record_invite",
                inputs: Fields(["member_id": .string(id), "telegram_id": .number(Double(telegramID)), "invite_link": link,
                                "expires_at": result["expires_at"] ?? .null]),
                idempotencyKey: key + ":record", runID: key, stepID: "record_invite", flow: "admin", logger: logger))
        }
    }

    /// Marks the member removed, then takes them out of the group. Marked first, in the audit
    /// entry's transaction: if Telegram fails, or the hub stops between the two, the bot already
    /// refuses them, and pressing the button again repeats the removal (which is harmless).
    private func removeFromGroup(_ id: String, telegramID: Int?, _ form: AdminForm, _ session: AdminSession) async throws {
        let telegram = try runningTelegram()
        let admin = session.admin
        let accounts = accounts
        try await store.database.transaction { db in
            try accounts.claim(db, form, admin: admin, action: "remove_member", subject: "member:" + id,
                               details: ["state": telegramID == nil ? "done" : "requested"])
            try db.execute("UPDATE funnel_members SET status = 'removed', updated_at = $2 WHERE id = $1", [.string(id), .millis(Store.now())])
        }
        // Never in the bot: nobody to take out of the group.
        guard let telegramID else { return }
        try await callTelegram(telegram, "remove_member", ["user": .number(Double(telegramID))], form, session)
    }

    /// The running Telegram connector, or the page's explanation that there is none.
    private func runningTelegram() throws -> (name: String, connector: any Connector) {
        guard let telegram = instance(ofType: "telegram") else {
            throw RefusedAction(problem: AdminText.telegramMissing, status: .serviceUnavailable)
        }
        return telegram
    }

    /// Calls a Telegram action for the form whose audit entry is `form.id`, and records there how it went.
    private func callTelegram(_ telegram: (name: String, connector: any Connector), _ action: String, _ inputs: [String: Value],
                              _ form: AdminForm, _ session: AdminSession,
                              then: (Value, String, Logger) async throws -> Void = { _, _, _ in }) async throws {
        let call = adminCall(action, inputs, key: "admin:\(form.id)", session)
        do {
            let result = try await telegram.connector.perform(call)
            try await then(result, call.idempotencyKey, call.logger)
            try await accounts.completeAudit(id: form.id, details: ["state": "done", "connector": .string(telegram.name)])
        } catch {
            let message = "\(error)"
            try? await accounts.completeAudit(id: form.id, details: ["state": "failed", "error": .string(String(message.prefix(300)))])
            logger.warning("admin telegram action failed", metadata: ["action": "\(action)", "error": "\(message)"])
            throw RefusedAction(problem: AdminText.telegramFailed(message), status: .badGateway)
        }
    }

    /// A dashboard action's call to a connector: `key` is its idempotency key and stands for the run,
    /// and the log says which admin asked.
    private func adminCall(_ action: String, _ inputs: [String: Value], key: String, _ session: AdminSession) -> ActionCall {
        var callLogger = logger
        callLogger[metadataKey: "admin.login"] = "\(session.admin)"
        return ActionCall(action: action, inputs: Fields(inputs), idempotencyKey: key, runID: key, stepID: action, flow: "admin", logger: callLogger)
    }

    /// Undoes a removal: the member is paid again if they ever paid (a payment that came while
    /// they were removed included), registered otherwise; "resend invite" then lets them in.
    private func restore(_ id: String, _ form: AdminForm, _ session: AdminSession) async throws {
        let admin = session.admin
        let accounts = accounts
        try await store.database.transaction { db in
            try accounts.claim(db, form, admin: admin, action: "restore", subject: "member:" + id)
            let changed = try db.execute("""
                UPDATE funnel_members SET status = CASE WHEN paid_at IS NULL THEN 'registered' ELSE 'paid' END, updated_at = $2
                WHERE id = $1 AND status = 'removed'
                """, [.string(id), .millis(Store.now())])
            guard changed == 1 else { throw RefusedAction(problem: AdminText.notRemoved, status: .conflict) }
        }
    }

    /// Frees the member from their Telegram account (they changed it, or a stranger opened their
    /// link first): the client's own link, or /start from the new account with it, binds again and
    /// brings a new invite. The old account leaves the group first, and its invites stop working.
    private func unbind(_ id: String, telegramID: Int?, joined: Bool, _ form: AdminForm, _ session: AdminSession) async throws {
        guard let old = telegramID else { throw RefusedAction(problem: AdminText.noTelegramID, status: .conflict) }
        // Out of the group before the account is forgotten: afterwards nothing would say whom to remove.
        // A failure here changes nothing, and removing twice is harmless.
        if joined {
            let telegram = try runningTelegram()
            do {
                _ = try await telegram.connector.perform(adminCall("remove_member", ["user": .number(Double(old))], key: "admin:\(form.id):leave", session))
            } catch {
                throw RefusedAction(problem: AdminText.telegramFailed("\(error)"), status: .badGateway)
            }
        }
        let admin = session.admin
        let accounts = accounts
        try await store.database.transaction { db in
            try accounts.claim(db, form, admin: admin, action: "unbind_telegram", subject: "member:" + id)
            let changed = try db.execute("""
                UPDATE funnel_members SET telegram_id = NULL, telegram_username = NULL,
                    status = CASE WHEN status = 'joined' THEN 'paid' ELSE status END, updated_at = $3
                WHERE id = $1 AND telegram_id = $2
                """, [.string(id), .number(Double(old)), .millis(Store.now())])
            guard changed == 1 else { throw RefusedAction(problem: AdminText.noTelegramID, status: .conflict) }
            // The account kept on the member's unpaid orders goes too, so a payment cannot bind it again;
            // and the links sent to it no longer let it in.
            try db.execute("UPDATE funnel_payments SET telegram_id = NULL WHERE member_id = $1 AND status <> 'paid'", [.string(id)])
            try db.execute("UPDATE funnel_invites SET status = 'revoked' WHERE member_id = $1 AND status = 'active'", [.string(id)])
        }
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
