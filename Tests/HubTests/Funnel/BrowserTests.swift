import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// A real browser walks the landing page and the emulated payment page (headless Chromium).
@Suite(.serialized, .timeLimit(.minutes(3))) struct BrowserTests {
    @Test("register and pay in headless Chromium")
    func registerAndPay() async throws {
        let prodamus = ProdamusEmulator(secretKey: "browser-secret")
        let telegram = TelegramEmulator(token: "42:BROWSER", botUsername: "session_hub_bot")
        telegram.addGroup(id: -100777, title: "Сеансы", hasProtectedContent: true)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        for file in FlowSet.flowFiles(in: Repository.path("flows")) {
            try folder.write(URL(fileURLWithPath: file).lastPathComponent, String(contentsOfFile: file, encoding: .utf8))
        }
        let port = TestHTTP.freePort()
        let hubURL = "http://127.0.0.1:\(port)"
        let database = folder.root.appendingPathComponent("hub.db").path
        let hub = try HubProcess(environment: [
            "HUB_DATABASE_URL": "sqlite:" + database, "HUB_FLOWS": folder.flows, "HUB_LISTEN": "127.0.0.1:\(port)", "HUB_PUBLIC_URL": hubURL,
            "PRODAMUS_FORM_URL": prodamusServer.baseURL + "/", "PRODAMUS_SECRET_KEY": "browser-secret",
            "TELEGRAM_BOT_TOKEN": "42:BROWSER", "TELEGRAM_API_URL": telegramServer.baseURL, "TELEGRAM_GROUP_ID": "-100777",
        ], workingDirectory: folder.root)
        _ = try await hub.waitForPort()

        let browser = try WebDriver(port: TestHTTP.freePort())
        do {
            try await browser.start()
            try await browser.open(hubURL + "/")
            try await browser.screenshot("1-landing")
            try await browser.type("#full_name", "Анна Иванова")
            try await browser.type("#phone", "8 (999) 765-43-21")
            try await browser.type("#city", "Москва")
            try await browser.type("#email", "anna@example.ru")
            try await browser.click("#consent")
            try await browser.click("#pay")
            _ = try await browser.waitForURL { $0.hasPrefix(prodamusServer.baseURL) }
            #expect(try await browser.pageText().contains("Оплатить"))
            try await browser.screenshot("2-payment-page")
            try await browser.click("button[type=submit]")
            let success = try await browser.waitForURL { $0.hasPrefix(hubURL + "/success") }
            #expect(success.contains("_payform_status=success"))
            #expect(try await browser.pageText().contains("Открыть бота в Telegram"))
            try await browser.screenshot("3-success")
            try await browser.open(hubURL + "/offer")
            try await browser.screenshot("4-offer")
        } catch {
            await browser.quit()
            throw error
        }
        await browser.quit()

        let store = try Store.open("sqlite:" + database, poolSize: 1)
        let member = try await store.database.query("SELECT status, phone FROM funnel_members").first
        #expect(member?["status"] == "paid")
        #expect(member?["phone"] == "+79997654321")
        await store.close()
        hub.kill(SIGTERM)
        _ = try await hub.waitForExit()
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
    }
}
