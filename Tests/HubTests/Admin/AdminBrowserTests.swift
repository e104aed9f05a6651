import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// The dashboard in a real browser (headless Chromium through chromedriver) against a child
/// `hub serve`: sign in, the charts, the health warning, search, mark paid, sign out.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AdminBrowserTests {
    static let flow = """
        name: greet
        on: { http: /hooks/greet }
        steps:
          - id: greeting
            do: core.set
            with: { values: { hello: "{{ event.body.name }}" } }
          - do: core.fail
            if: "{{ event.body.name == 'сбой' }}"
            with: { message: тестовый сбой }
        """

    @Test("sign in, see the charts, find a member, mark paid with a note, sign out", .enabled(if: WebDriver.driverPath != nil, "needs chromedriver"))
    func dashboardWalkthrough() async throws {
        let telegram = TelegramEmulator(token: "66:ADMIN-BROWSER", botUsername: "session_hub_bot")
        telegram.addGroup(id: -100777, title: "Сеансы", hasProtectedContent: false)
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let folder = try FlowFolder(["greet.yaml": Self.flow])
        defer { folder.remove() }
        let port = TestHTTP.freePort()
        let hubURL = "http://127.0.0.1:\(port)"
        let database = "sqlite:" + folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: [
            "HUB_DATABASE_URL": database, "HUB_FLOWS": folder.flows, "HUB_LISTEN": "127.0.0.1:\(port)", "HUB_PUBLIC_URL": hubURL,
            "HUB_ADMIN_PASSWORD": "browser admin password",
            "TELEGRAM_BOT_TOKEN": "66:ADMIN-BROWSER", "TELEGRAM_API_URL": telegramServer.baseURL, "TELEGRAM_GROUP_ID": "-100777",
        ], workingDirectory: folder.root)
        _ = try await hub.waitForPort()

        // The hub has migrated the database: give the pages something to show.
        let store = try Store.open(database, poolSize: 1)
        let day: Int64 = 86_400_000
        for (i, name) in ["Анна Иванова", "Борис Петров", "Вера Смирнова", "Глеб Орлов"].enumerated() {
            try await AdminHarness.insertMember(store.database, name: name, phone: "+7999000000\(i)", createdAt: Store.now() - Int64(i) * day)
        }
        try await store.database.execute("""
            UPDATE funnel_payments SET status = 'paid', paid_at = created_at
            WHERE member_id IN (SELECT id FROM funnel_members WHERE full_name IN ('Анна Иванова', 'Вера Смирнова'))
            """)
        try await store.database.execute("UPDATE funnel_members SET status = 'paid', paid_at = created_at WHERE full_name IN ('Анна Иванова', 'Вера Смирнова')")
        let petrov = try #require(try await store.database.query("SELECT id FROM funnel_members WHERE full_name = 'Борис Петров'").first?["id"]?.stringValue)
        #expect(await TestHTTP.postJSON(hubURL + "/hooks/greet", #"{"name": "Мир"}"#) == 202)
        #expect(await TestHTTP.postJSON(hubURL + "/hooks/greet", #"{"name": "сбой"}"#) == 202)

        let browser = try WebDriver(port: TestHTTP.freePort())
        do {
            try await browser.start()
            try await browser.open(hubURL + "/admin")
            _ = try await browser.waitForURL { $0.hasPrefix(hubURL + "/admin/login") }
            try await browser.type("#login", "admin")
            try await browser.type("#password", "browser admin password")
            try await browser.click("button[type=submit]")
            _ = try await browser.waitForURL { $0 == hubURL + "/admin" }
            // The first survey of the services may outlast the page's short wait on a loaded machine.
            for _ in 0..<100 where try await browser.pageText().contains(AdminText.labels["health_pending"]!) {
                try await Task.sleep(for: .milliseconds(100))
                try await browser.open(hubURL + "/admin")
            }
            // Three charts drawn by the server, and the owner's how-to for the unprotected group.
            #expect(try await browser.evaluate("return document.querySelectorAll('main svg').length") == 3)
            let overview = try await browser.pageText()
            #expect(overview.contains("Регистрации по дням"))
            #expect(overview.contains("защита содержимого ВЫКЛЮЧЕНА"))
            #expect(overview.contains("«Запретить копирование»"))
            try await browser.screenshot("admin-1-overview")
            try await browser.evaluate("document.getElementById('health').scrollIntoView(); return null")
            try await browser.screenshot("admin-1-overview-health")

            try await browser.open(hubURL + "/admin/members")
            try await browser.type("#q", "Петров")
            try await browser.click("form.filters button[type=submit]")
            _ = try await browser.waitForURL { $0.contains("q=") }
            let found = try await browser.pageText()
            #expect(found.contains("Найдено: 1"))
            #expect(found.contains("Борис Петров"))
            #expect(!found.contains("Анна Иванова"))
            try await browser.screenshot("admin-2-members")

            try await browser.click("#members a")
            _ = try await browser.waitForURL { $0 == hubURL + "/admin/members/\(petrov)" }
            try await browser.type("#amount", "2500")
            try await browser.type("#note", "оплата наличными в студии")
            try await browser.click("form[action$='/paid'] button[type=submit]")
            _ = try await browser.waitForURL { $0.hasSuffix("/admin/members/\(petrov)?notice=paid") }
            #expect(try await browser.pageText().contains("Оплата отмечена."))
            try await browser.screenshot("admin-3-member-paid")

            try await browser.open(hubURL + "/admin/runs")
            #expect(try await browser.pageText().contains("greet"))
            try await browser.screenshot("admin-4-runs")

            try await browser.click("header form button[type=submit]")
            _ = try await browser.waitForURL { $0.hasPrefix(hubURL + "/admin/login") }
            // Signed out for real: the dashboard sends the browser back to the sign-in form.
            try await browser.open(hubURL + "/admin/members")
            _ = try await browser.waitForURL { $0.hasPrefix(hubURL + "/admin/login") }
        } catch {
            await browser.quit()
            await Self.stop(hub, store, telegram, telegramServer)
            throw error
        }
        await browser.quit()

        let member = try #require(try await store.database.query("SELECT status, paid_at FROM funnel_members WHERE id = $1", [.string(petrov)]).first)
        #expect(member["status"] == "paid")
        #expect(member["paid_at"]?.millisValue != nil)
        let payment = try #require(try await store.database.query("SELECT status, amount, note FROM funnel_payments WHERE member_id = $1", [.string(petrov)]).first)
        #expect(payment["status"] == "paid")
        #expect(payment["amount"] == "2500.00")
        #expect(payment["note"] == "оплата наличными в студии")
        let audit = try await store.database.query("SELECT admin, action, details FROM hub_audit_log WHERE subject = $1", [.string("member:" + petrov)])
        #expect(audit.count == 1)
        #expect(audit.first?["admin"] == "admin")
        #expect(audit.first?["action"] == "mark_paid")
        #expect(audit.first?["details"]?.stringValue?.contains("оплата наличными в студии") == true)
        #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_admin_sessions").first?["n"] == 0)
        await Self.stop(hub, store, telegram, telegramServer)
    }

    static func stop(_ hub: HubProcess, _ store: Store, _ telegram: TelegramEmulator, _ server: EmulatorServer) async {
        await store.close()
        hub.kill(SIGTERM)
        _ = try? await hub.waitForExit()
        await telegram.shutdown()
        await server.stop()
    }
}

extension WebDriver {
    /// Runs `script` in the page and returns what it returned.
    @discardableResult
    func evaluate(_ script: String) async throws -> Value {
        try await call("POST", "/session/\(session)/execute/sync", ["script": .string(script), "args": []])
    }
}
