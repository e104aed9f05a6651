import Flows
import Foundation
import HTTPTypes
@testable import Hub
import HummingbirdTesting
import Testing

/// The members list, member page, its actions and the CSV export.
@Suite struct AdminMembersTests {
    @Test func hostileMemberFieldsAreEscaped() async throws {
        try await AdminHarness.with { harness, client in
            let id = try await harness.addMember(name: "<script>alert(1)</script>", phone: "+79990000002",
                                                 email: "\"><img src=x onerror=alert(1)>@x.ru", username: "'><svg onload=alert(1)>")
            let browser = try await AdminBrowser.signIn(client)
            for uri in ["/admin/members", "/admin/members/\(id)", "/admin/members?q=script"] {
                let page = try await browser.get(client, uri)
                #expect(page.status == .ok)
                let html = page.text
                #expect(!html.contains("<script>alert(1)</script>"), "\(uri)")
                #expect(!html.contains("<img src=x onerror"), "\(uri)")
                #expect(!html.contains("<svg onload"), "\(uri)")
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(uri)")
                #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "\(uri)")
            }
        }
    }

    @Test(arguments: TestDatabases.available)
    func markPaidChangesTheMemberAndWritesTheAudit(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let id = try await harness.addMember(name: "Борис", phone: "+79990000003")
            // The client opened the bot from the order's link before paying: marking it paid binds that account.
            try await harness.store.database.execute("UPDATE funnel_payments SET telegram_id = 4242 WHERE member_id = $1", [.string(id)])
            let browser = try await AdminBrowser.signIn(client)
            let csrf = try await browser.csrf(client)
            let response = try await browser.post(client, "/admin/members/\(id)/paid", [("csrf", csrf), ("note", "оплата наличными"), ("amount", "2500")])
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/admin/members/\(id)?notice=paid")
            let db = harness.store.database
            let member = try #require(try await db.query("SELECT status, paid_at FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(member["status"] == "paid")
            #expect(member["paid_at"]?.millisValue != nil)
            #expect(try await db.query("SELECT telegram_id FROM funnel_members WHERE id = $1", [.string(id)]).first?["telegram_id"] == 4242)
            let payment = try #require(try await db.query("SELECT status, amount, note, paid_at FROM funnel_payments WHERE member_id = $1", [.string(id)]).first)
            #expect(payment["status"] == "paid")
            #expect(payment["amount"] == "2500.00")
            #expect(payment["note"] == "оплата наличными")
            let audit = try await db.query("SELECT admin, action, details FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)])
            #expect(audit.count == 1)
            #expect(audit.first?["admin"] == "admin")
            #expect(audit.first?["action"] == "mark_paid")
            #expect(audit.first?["details"]?.stringValue?.contains("order-\(id)") == true)
            let page = try await browser.get(client, "/admin/members/\(id)?notice=paid")
            #expect(page.text.contains("Оплата отмечена"))
            #expect(page.text.contains("mark_paid"))
            // A second time: already paid, nothing changes, no second audit entry.
            let again = try await browser.post(client, "/admin/members/\(id)/paid", [("csrf", csrf), ("note", "ещё раз")])
            #expect(again.status == .conflict)
            #expect(try await db.query("SELECT id FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).count == 1)
        }
    }

    @Test(arguments: TestDatabases.available)
    func editAndForgetPersonalData(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let id = try await harness.addMember(name: "Вера", phone: "+79990000004", email: "vera@example.ru", username: "vera")
            let browser = try await AdminBrowser.signIn(client)
            let csrf = try await browser.csrf(client)
            let edit = try await browser.post(client, "/admin/members/\(id)/edit", [
                ("csrf", csrf), ("full_name", "Вера Петрова"), ("phone", "+79990000004"), ("email", "vera@example.ru"), ("city", "Пермь"),
                ("telegram_username", "@vera_p"),
            ])
            #expect(edit.status == .seeOther)
            let db = harness.store.database
            var row = try #require(try await db.query("SELECT full_name, city, telegram_username FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(row["full_name"] == "Вера Петрова")
            #expect(row["city"] == "Пермь")
            #expect(row["telegram_username"] == "vera_p")

            // A phone as people type it is stored as the site's form stores it; nonsense changes nothing.
            let typed = try await browser.post(client, "/admin/members/\(id)/edit", [
                ("csrf", csrf), ("full_name", "Вера Петрова"), ("phone", "8 (999) 000-00-04"), ("email", "vera@example.ru"), ("city", "Пермь"),
            ])
            #expect(typed.status == .seeOther)
            #expect(try await db.query("SELECT phone FROM funnel_members WHERE id = $1", [.string(id)]).first?["phone"] == "+79990000004")
            for (field, value, problem) in [("phone", "12-34", "Проверьте телефон"), ("email", "nonsense", "Проверьте e-mail"),
                                            ("city", "Пермь\u{7}", "недопустимые символы"),
                                            ("city", "\u{202E}ьмреП", "недопустимые символы")] {
                var fields = [("csrf", csrf), ("full_name", "Вера Петрова"), ("phone", "+79990000004"), ("email", "vera@example.ru"), ("city", "Пермь")]
                fields.removeAll { $0.0 == field }
                fields.append((field, value))
                let refused = try await browser.post(client, "/admin/members/\(id)/edit", fields)
                #expect(refused.status == .badRequest, "\(field)")
                #expect(refused.text.contains(problem), "\(field)")
            }
            row = try #require(try await db.query("SELECT full_name, city, telegram_username FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(row["city"] == "Пермь")

            // An admin's note on a payment names a person: forgetting the member erases it too.
            let paid = try await browser.post(client, "/admin/members/\(id)/paid", [("csrf", csrf), ("note", "перевод от Веры Петровой")])
            #expect(paid.status == .seeOther)
            let forget = try await browser.post(client, "/admin/members/\(id)/forget", [("csrf", csrf), ("confirm", "yes")])
            #expect(forget.status == .seeOther)
            row = try #require(try await db.query("SELECT full_name, phone, email, city, telegram_username FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(row["full_name"] == "Данные удалены")
            #expect(row["phone"] == .null && row["email"] == .null && row["city"] == .null && row["telegram_username"] == .null)
            #expect(try await db.query("SELECT id FROM funnel_payments WHERE member_id = $1", [.string(id)]).count == 1)
            // The audit names the fields, never the erased values.
            let details = try await db.query("SELECT details FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)])
                .compactMap { $0["details"]?.stringValue }.joined()
            #expect(details.contains("full_name"))
            #expect(!details.contains("Вера") && !details.contains("vera@example.ru") && !details.contains("Пермь"))
            #expect(!details.contains("Веры"))
            #expect(try await db.query("SELECT note FROM funnel_payments WHERE member_id = $1", [.string(id)]).first?["note"] == .null)
        }
    }

    @Test func telegramActionsSayWhenTelegramIsNotConfigured() async throws {
        try await AdminHarness.with { harness, client in
            let id = try await harness.addMember(name: "Глеб", phone: "+79990000005")
            let browser = try await AdminBrowser.signIn(client)
            let csrf = try await browser.csrf(client)
            let response = try await browser.post(client, "/admin/members/\(id)/invite", [("csrf", csrf)])
            #expect(response.status == .serviceUnavailable)
            #expect(response.text.contains("Telegram не настроен"))
        }
    }

    @Test func csvExportNeutralisesFormulas() async throws {
        try await AdminHarness.with { harness, client in
            try await harness.addMember(name: "=HYPERLINK(\"http://evil\",\"x\")", phone: "+79990000006", email: "@evil.ru")
            try await harness.addMember(name: "-2+3", phone: "+79990000007")
            let browser = try await AdminBrowser.signIn(client)
            let csv = try await browser.get(client, "/admin/members.csv")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let text = csv.text
            #expect(text.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""))
            #expect(text.contains(",'@evil.ru,"))
            #expect(text.contains(",'-2+3,"))
            #expect(text.contains(",'+79990000006,"))
            #expect(!text.contains(",=HYPERLINK"))
            #expect(!text.contains(",@evil"))
            // The same filters as the page.
            let filtered = try await browser.get(client, "/admin/members.csv?q=-2%2B3").text
            #expect(filtered.split(separator: "\r\n").count == 2)
        }
    }

    @Test("Cyrillic names are found whatever the case typed (SQLite's LOWER folds ASCII only)", arguments: TestDatabases.available)
    func searchFindsCyrillicNamesInAnyCase(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            try await harness.addMember(name: "Борис Петров", phone: "+79990000020")
            try await harness.addMember(name: "Анна Петрова-Водкина", phone: "+79990000021")
            try await harness.addMember(name: "Глеб Орлов", phone: "+79990000022")
            let browser = try await AdminBrowser.signIn(client)
            func names(_ term: String) async throws -> Set<String> {
                let html = try await browser.get(client, "/admin/members?q=" + TestHTTP.encode(term)).text
                return Set(["Борис Петров", "Анна Петрова-Водкина", "Глеб Орлов"].filter { html.contains(">\($0)</a>") })
            }
            for term in ["Петров", "петров", "ПЕТРОВ"] {
                #expect(try await names(term) == ["Борис Петров", "Анна Петрова-Водкина"], "\(term)")
            }
            #expect(try await names("борис петров") == ["Борис Петров"])
            #expect(try await names("орлов") == ["Глеб Орлов"])
        }
    }

    @Test(arguments: TestDatabases.available)
    func searchTreatsWildcardsLiterally(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            try await harness.addMember(name: "Скидка 100% Иван", phone: "+79990000010")
            try await harness.addMember(name: "Пётр Плюшкин", phone: "+79990000011")
            try await harness.addMember(name: "user_one", phone: "+79990000012")
            try await harness.addMember(name: "userXone", phone: "+79990000013", username: "Anna_K")
            let browser = try await AdminBrowser.signIn(client)
            func names(_ query: String) async throws -> Set<String> {
                let html = try await browser.get(client, "/admin/members?" + query).text
                return Set(["Скидка 100% Иван", "Пётр Плюшкин", "user_one", "userXone"].filter { html.contains(">\($0)</a>") })
            }
            #expect(try await names("q=%25") == ["Скидка 100% Иван"])
            #expect(try await names("q=user_") == ["user_one"])
            // "_" is literal: it finds user_one by its name and userXone by its username Anna_K, never "any one character".
            #expect(try await names("q=_") == ["user_one", "userXone"])
            #expect(try await names("q=%40anna_k") == ["userXone"])
            #expect(try await names("q=8%20999%20000-00-11") == ["Пётр Плюшкин"])
            #expect(try await names("q=") .count == 4)
            #expect(try await names("q=%5C") .isEmpty)
        }
    }

    @Test func filtersSortingAndPaging() async throws {
        try await AdminHarness.with { harness, client in
            let base = Store.now() - 1_000_000
            for i in 0..<120 {
                try await harness.addMember(name: String(format: "Участник %03d", i), phone: "+7999100\(String(format: "%04d", i))",
                                            status: i % 3 == 0 ? "paid" : "registered", createdAt: base + Int64(i) * 1000)
            }
            try await harness.store.database.execute("UPDATE funnel_members SET paid_at = created_at WHERE status = 'paid'")
            let browser = try await AdminBrowser.signIn(client)
            let first = try await browser.get(client, "/admin/members").text
            #expect(first.contains("Найдено: 120"))
            #expect(first.contains("Участник 119") && !first.contains("Участник 069"))
            #expect(first.contains("page=2"))
            #expect(!first.contains("Назад"))
            let third = try await browser.get(client, "/admin/members?page=3").text
            #expect(third.contains("Участник 019") && !third.contains("Участник 070"))
            let paid = try await browser.get(client, "/admin/members?status=paid&sort=name_asc").text
            #expect(paid.contains("Найдено: 40"))
            #expect(paid.range(of: "Участник 000")!.lowerBound < paid.range(of: "Участник 003")!.lowerBound)
            // Unknown sort keys and statuses fall back to the defaults instead of reaching SQL.
            let hostile = try await browser.get(client, "/admin/members?sort=id;DROP%20TABLE%20x&status=x'--")
            #expect(hostile.status == .ok)
            #expect(hostile.text.contains("Найдено: 120"))
            let day = DateFormatter()
            day.timeZone = harness.dashboard.timeZone
            day.dateFormat = "yyyy-MM-dd"
            let todayText = day.string(from: Date())
            let range = try await browser.get(client, "/admin/members?paid_from=\(todayText)&paid_to=\(todayText)").text
            #expect(range.contains("Найдено: 40"))
            let past = try await browser.get(client, "/admin/members?paid_to=2000-01-01").text
            #expect(past.contains("Найдено: 0"))
        }
    }

    @Test(arguments: TestDatabases.available)
    func overviewDrawsChartsAndTheFunnel(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let id = try await harness.addMember(name: "Дина", phone: "+79990000020")
            try await harness.addMember(name: "Ева", phone: "+79990000021")
            try await harness.store.database.execute("UPDATE funnel_payments SET status = 'paid', paid_at = $2 WHERE member_id = $1",
                                                     [.string(id), .millis(Store.now())])
            try await harness.store.database.execute("UPDATE funnel_members SET status = 'joined', paid_at = $2, joined_at = $2 WHERE id = $1",
                                                     [.string(id), .millis(Store.now())])
            let browser = try await AdminBrowser.signIn(client)
            for days in [7, 30, 90] {
                let html = try await browser.get(client, "/admin?days=\(days)").text
                #expect(html.components(separatedBy: "<svg").count == 4)
                #expect(html.contains("<rect"))
                #expect(html.contains("50.0 %"))
                #expect(html.contains("Регистрации по дням"))
            }
            let stats = try await browser.get(client, "/admin/api/stats").text
            #expect(stats.contains("\"joined\":1"))
        }
    }

    /// A member removed by the admin who paid again (or was removed by mistake) gets access back:
    /// paid again, with the removal and its undoing in the audit.
    @Test(arguments: TestDatabases.available)
    func restoreUndoesARemoval(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let id = try await harness.addMember(name: "Вера", phone: "+79990000009", status: "removed")
            let db = harness.store.database
            try await db.execute("UPDATE funnel_members SET paid_at = $2 WHERE id = $1", [.string(id), .millis(Store.now())])
            let browser = try await AdminBrowser.signIn(client)
            let page = try await browser.get(client, "/admin/members/\(id)")
            #expect(page.text.contains("/admin/members/\(id)/restore"))
            let csrf = try await browser.csrf(client)
            let response = try await browser.post(client, "/admin/members/\(id)/restore", [("csrf", csrf)])
            #expect(response.headers[.location] == "/admin/members/\(id)?notice=restored")
            #expect(try await db.query("SELECT status FROM funnel_members WHERE id = $1", [.string(id)]).first?["status"] == "paid")
            #expect(try await db.query("SELECT action FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).map { $0["action"] } == ["restore"])
            let again = try await browser.post(client, "/admin/members/\(id)/restore", [("csrf", csrf)])
            #expect(again.status == .conflict)
            #expect(!(try await browser.get(client, "/admin/members/\(id)")).text.contains("/restore"))
        }
    }

    /// A client who changed Telegram account is freed from the old one by the admin, with the
    /// account kept on their unpaid orders, so their own link binds the new one.
    @Test(arguments: TestDatabases.available)
    func unbindFreesTheMemberFromTheirAccount(_ kind: TestDatabaseKind) async throws {
        try await AdminHarness.with(kind) { harness, client in
            let id = try await harness.addMember(name: "Гоша", phone: "+79990000010", username: "old_account")
            let db = harness.store.database
            try await db.execute("UPDATE funnel_members SET telegram_id = 5150 WHERE id = $1", [.string(id)])
            try await db.execute("UPDATE funnel_payments SET telegram_id = 5150 WHERE member_id = $1", [.string(id)])
            let browser = try await AdminBrowser.signIn(client)
            #expect(try await browser.get(client, "/admin/members/\(id)").text.contains("/admin/members/\(id)/unbind"))
            let csrf = try await browser.csrf(client)
            let response = try await browser.post(client, "/admin/members/\(id)/unbind", [("csrf", csrf)])
            #expect(response.headers[.location] == "/admin/members/\(id)?notice=unbound")
            let member = try #require(try await db.query("SELECT telegram_id, telegram_username FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(member["telegram_id"] == .null && member["telegram_username"] == .null)
            #expect(try await db.query("SELECT telegram_id FROM funnel_payments WHERE member_id = $1", [.string(id)]).first?["telegram_id"] == .null)
            #expect(try await db.query("SELECT action FROM hub_audit_log WHERE subject = $1", [.string("member:" + id)]).map { $0["action"] } == ["unbind_telegram"])
            #expect(try await browser.post(client, "/admin/members/\(id)/unbind", [("csrf", csrf)]).status == .conflict)
        }
    }
}

