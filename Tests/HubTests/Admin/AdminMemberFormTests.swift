import Emulators
import Flows
import Foundation
@testable import Hub
import HummingbirdTesting
import Testing

/// The member page's forms sent twice, sent from a page that is out of date, and failing half-way.
@Suite(.serialized, .timeLimit(.minutes(2))) struct AdminMemberFormTests {
    static let gosha = EmulatedUser(id: 5150, firstName: "Гоша", username: "gosha")
    static let groupID: Int64 = -100777

    @Test("'mark paid' sent twice (a double click) marks once, writes one entry, and answers both like the first")
    func markPaidSentTwice() async throws {
        for kind in TestDatabases.available {
            try await AdminHarness.with(kind) { harness, client in
                let id = try await harness.addMember(name: "Борис", phone: "+79990000031")
                let browser = try await AdminBrowser.signIn(client)
                let page = try await browser.get(client, "/admin/members/\(id)").text
                let fields = [("csrf", try await browser.csrf(client)), ("form", try AdminBrowser.formID(page)), ("note", "наличными"), ("amount", "2500")]
                for attempt in 1...2 {
                    let response = try await browser.post(client, "/admin/members/\(id)/paid", fields)
                    #expect(response.headers[.location] == "/admin/members/\(id)?notice=paid", "\(kind) attempt \(attempt): \(response.status)")
                }
                let db = harness.store.database
                #expect(try await db.query("SELECT action FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).map { $0["action"] } == ["mark_paid"])
                #expect(try await db.query("SELECT status FROM funnel_payments WHERE member_id = $1", [.string(id)]).map { $0["status"] } == ["paid"])
                // A new page view is a new request: the member has paid already.
                let fresh = try AdminBrowser.formID(try await browser.get(client, "/admin/members/\(id)").text)
                let again = try await browser.post(client, "/admin/members/\(id)/paid", [("csrf", fields[0].1), ("form", fresh), ("note", "ещё")])
                #expect(again.status == .conflict)
                #expect(try await db.query("SELECT id FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).count == 1)
            }
        }
    }

    @Test("two different forms of one page are two actions: marking paid does not swallow the 'resend invite' pressed after it")
    func formsOfOnePageAreTold() async throws {
        try await AdminHarness.with { harness, client in
            let id = try await harness.addMember(name: "Зоя", phone: "+79990000036")
            let browser = try await AdminBrowser.signIn(client)
            let form = try AdminBrowser.formID(try await browser.get(client, "/admin/members/\(id)").text)
            let csrf = try await browser.csrf(client)
            let paid = try await browser.post(client, "/admin/members/\(id)/paid", [("csrf", csrf), ("form", form), ("amount", "3000")])
            #expect(paid.headers[.location] == "/admin/members/\(id)?notice=paid")
            // Back in the browser, the same page: the invite is its own action (here Telegram is not set up, and says so).
            let invite = try await browser.post(client, "/admin/members/\(id)/invite", [("csrf", csrf), ("form", form)])
            #expect(invite.status == .serviceUnavailable)
            #expect(invite.text.contains("Telegram не настроен"))
        }
    }

    @Test("a name stored before the character rules does not block fixing the phone")
    func untouchedFieldsAreNotChecked() async throws {
        try await AdminHarness.with { harness, client in
            let id = try await harness.addMember(name: "Вера\u{200B}\u{202E}авортеП", phone: "+79990000037")
            let browser = try await AdminBrowser.signIn(client)
            let page = try await browser.get(client, "/admin/members/\(id)").text
            let version = try #require(page.range(of: "name=\"version\" value=\"")).upperBound
            let response = try await browser.post(client, "/admin/members/\(id)/edit", [
                ("csrf", try await browser.csrf(client)), ("form", try AdminBrowser.formID(page)),
                ("version", String(page[version...].prefix { $0 != "\"" })),
                ("full_name", "Вера\u{200B}\u{202E}авортеП"), ("phone", "+79990000038"),
            ])
            #expect(response.headers[.location] == "/admin/members/\(id)?notice=saved", "\(response.status)")
            let db = harness.store.database
            #expect(try await db.query("SELECT phone FROM funnel_members WHERE id = $1", [.string(id)]).first?["phone"] == "+79990000038")
            // The name is kept, cleaned in passing of the invisible space; the entry says both changed.
            #expect(try await db.query("SELECT full_name FROM funnel_members WHERE id = $1", [.string(id)]).first?["full_name"] == "Вера\u{202E}авортеП")
            let details = try await db.query("SELECT details FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).first?["details"]
            #expect(details?.stringValue == #"{"fields":["full_name","phone"]}"#)
        }
    }

    @Test("saving contacts from a page opened before the data changed is refused and changes nothing")
    func staleEditIsRefused() async throws {
        try await AdminHarness.with { harness, client in
            let id = try await harness.addMember(name: "Вера", phone: "+79990000032", username: "vera")
            let browser = try await AdminBrowser.signIn(client)
            let page = try await browser.get(client, "/admin/members/\(id)").text
            let version = try #require(page.range(of: "name=\"version\" value=\"")).upperBound
            let fields = [("csrf", try await browser.csrf(client)), ("form", try AdminBrowser.formID(page)),
                          ("version", String(page[version...].prefix { $0 != "\"" })),
                          ("full_name", "Вера Петрова"), ("phone", "+79990000032"), ("telegram_username", "vera")]
            // Meanwhile the bot learns the client's new username.
            let db = harness.store.database
            try await db.execute("UPDATE funnel_members SET telegram_username = 'vera_new', updated_at = updated_at + 1 WHERE id = $1", [.string(id)])
            let stale = try await browser.post(client, "/admin/members/\(id)/edit", fields)
            #expect(stale.status == .conflict)
            #expect(stale.text.contains(AdminText.staleForm))
            let row = try #require(try await db.query("SELECT full_name, telegram_username FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(row["full_name"] == "Вера" && row["telegram_username"] == "vera_new")
            #expect(try await db.query("SELECT id FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).isEmpty)
            // The page it answered with is current: saving from it works.
            let current = try #require(stale.text.range(of: "name=\"version\" value=\"")).upperBound
            var retry = fields
            retry[1] = ("form", try AdminBrowser.formID(stale.text))
            retry[2] = ("version", String(stale.text[current...].prefix { $0 != "\"" }))
            retry[5] = ("telegram_username", "vera_new")
            #expect(try await browser.post(client, "/admin/members/\(id)/edit", retry).headers[.location] == "/admin/members/\(id)?notice=saved")
            #expect(try await db.query("SELECT full_name FROM funnel_members WHERE id = $1", [.string(id)]).first?["full_name"] == "Вера Петрова")
        }
    }

    @Test("forgetting a member drops the events and step results that carry their data, and nobody else's")
    func forgetErasesTheRunHistory() async throws {
        for kind in TestDatabases.available {
            try await AdminHarness.with(kind) { harness, client in
                let id = try await harness.addMember(name: "Вера", phone: "+79990000035", email: "vera@example.ru")
                let db = harness.store.database
                try await db.execute("UPDATE funnel_members SET telegram_id = 5150 WHERE id = $1", [.string(id)])
                let store = harness.store
                // One finished run per event, with a step result repeating the event; `running` is still under way.
                func event(_ name: String, _ payload: Value, running: Bool = false) async throws -> String {
                    let run = try #require(try await store.storeEvent(source: "test.\(name)", dedupKey: name, payload: payload,
                                                                      runs: [NewRun(flow: "f", flowVersion: "v")])?.first)
                    try await db.execute("UPDATE hub_runs SET status = $2 WHERE id = $1", [.string(run), .string(running ? "running" : "completed")])
                    try await db.execute("""
                        INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, updated_at)
                        VALUES ($1, 'member', 0, 'completed', 1, $2, 0)
                        """, [.string(run), .string(payload.json)])
                    return run
                }
                let form = try await event("form", ["full_name": "Вера", "phone": "+79990000035", "email": "VERA@example.ru"])
                let paid = try await event("paid", ["order_num": .string("order-" + id), "customer_phone": "79990000035"])
                let message = try await event("message", ["from": ["id": 5150, "first_name": "Вера"], "text": "мой адрес …"])
                let stranger = try await event("stranger", ["from": ["id": 51500, "first_name": "Пётр"], "phone": "+79990000099"])
                // A run still under way loses its event too: the person asked to be forgotten.
                let underWay = try await event("under-way", ["phone": "+79990000035"], running: true)

                let browser = try await AdminBrowser.signIn(client)
                let page = try await browser.get(client, "/admin/members/\(id)").text
                let response = try await browser.post(client, "/admin/members/\(id)/forget",
                                                      [("csrf", try await browser.csrf(client)), ("form", try AdminBrowser.formID(page)), ("confirm", "yes")])
                #expect(response.headers[.location] == "/admin/members/\(id)?notice=forgotten")
                for (run, erased) in [(form, true), (paid, true), (message, true), (stranger, false), (underWay, true)] {
                    let row = try #require(try await db.query("""
                        SELECT e.payload, s.result FROM hub_runs r JOIN hub_events e ON e.id = r.event_id JOIN hub_run_steps s ON s.run_id = r.id
                        WHERE r.id = $1
                        """, [.string(run)]).first)
                    #expect((row["payload"] == "null") == erased, "\(kind) \(run): \(row)")
                    #expect((row["result"] == .null) == erased, "\(kind) \(run): \(row)")
                }
            }
        }
    }

    @Test("remove: the member is marked removed before Telegram is asked; a failure can be repeated; a double click kicks once")
    func removeIsMarkedFirstAndDoneOnce() async throws {
        try await AdminHealthTests.withTelegram(protected: true) { telegram, connectors in
            telegram.addMember(Self.gosha, to: Self.groupID)
            try await AdminHarness.with(connectors: connectors) { harness, client in
                let id = try await harness.addMember(name: "Гоша", phone: "+79990000033", username: "gosha", status: "joined")
                let db = harness.store.database
                try await db.execute("UPDATE funnel_members SET telegram_id = 5150 WHERE id = $1", [.string(id)])
                let browser = try await AdminBrowser.signIn(client)
                let csrf = try await browser.csrf(client)
                let page = try await browser.get(client, "/admin/members/\(id)").text

                telegram.failNext(1, method: "banChatMember", status: 400, description: "Bad Request: not enough rights to restrict/unrestrict chat member")
                let failed = try await browser.post(client, "/admin/members/\(id)/remove", [("csrf", csrf), ("form", try AdminBrowser.formID(page))])
                #expect(failed.status == .badGateway)
                #expect(failed.text.contains("not enough rights"))
                // The bot already refuses them, though they are still in the group.
                #expect(try await db.query("SELECT status FROM funnel_members WHERE id = $1", [.string(id)]).first?["status"] == "removed")
                #expect(telegram.isMember(Self.gosha.id, of: Self.groupID))

                // Pressed again on the page the error came back with; then that form once more (a double click).
                let fields = [("csrf", csrf), ("form", try AdminBrowser.formID(failed.text))]
                for _ in 1...2 {
                    let done = try await browser.post(client, "/admin/members/\(id)/remove", fields)
                    #expect(done.headers[.location] == "/admin/members/\(id)?notice=removed")
                }
                #expect(!telegram.isMember(Self.gosha.id, of: Self.groupID))
                #expect(!telegram.isBanned(Self.gosha.id, from: Self.groupID))
                #expect(telegram.calls(of: "banChatMember").count == 2)
                let audit = try await db.query("SELECT details FROM hub_audit_log WHERE subject = $1 ORDER BY at", [.string("member:" + id)])
                #expect(audit.count == 2)
                #expect(audit.first?["details"]?.stringValue?.contains("\"failed\"") == true)
                #expect(audit.last?["details"]?.stringValue?.contains("\"done\"") == true)
            }
        }
    }

    @Test("unbinding a member in the group takes the old account out, revokes its links, and lets the new account be invited")
    func unbindTakesTheOldAccountOut() async throws {
        try await AdminHealthTests.withTelegram(protected: true) { telegram, connectors in
            telegram.addMember(Self.gosha, to: Self.groupID)
            try await AdminHarness.with(connectors: connectors) { harness, client in
                let id = try await harness.addMember(name: "Гоша", phone: "+79990000034", username: "gosha", status: "joined")
                let db = harness.store.database
                let now = Value.millis(Store.now())
                try await db.execute("UPDATE funnel_members SET telegram_id = 5150, paid_at = $2, joined_at = $2 WHERE id = $1", [.string(id), now])
                try await db.execute("""
                    INSERT INTO funnel_invites (id, member_id, telegram_id, invite_link, status, created_at)
                    VALUES ('invite-1', $1, 5150, 'https://t.me/+old', 'active', $2)
                    """, [.string(id), now])
                let browser = try await AdminBrowser.signIn(client)
                let page = try await browser.get(client, "/admin/members/\(id)").text
                let response = try await browser.post(client, "/admin/members/\(id)/unbind",
                                                      [("csrf", try await browser.csrf(client)), ("form", try AdminBrowser.formID(page))])
                #expect(response.headers[.location] == "/admin/members/\(id)?notice=unbound")
                #expect(!telegram.isMember(Self.gosha.id, of: Self.groupID))
                let member = try #require(try await db.query("SELECT telegram_id, status FROM funnel_members WHERE id = $1", [.string(id)]).first)
                // Paid and not in the group: /start from the new account with the client's link sends an invite.
                #expect(member["telegram_id"] == .null && member["status"] == "paid")
                #expect(try await db.query("SELECT status FROM funnel_invites WHERE id = 'invite-1'").first?["status"] == "revoked")
            }
        }
    }
}
