import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// The sandbox journey in headless Chromium: the pages a newcomer clicks through, from the
/// landing page to the group and the dashboard. Screenshots go to `.artifacts/screenshots/`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SandboxBrowserTests {
    @Test func newcomerWalksTheFunnelInABrowser() async throws {
        let setup = try await SandboxHub.start()
        let chat = setup.sandbox.chatURL
        let browser = try WebDriver(port: TestHTTP.freePort())
        do {
            try await browser.start()
            try await browser.open(setup.url + "/")
            try await browser.screenshot("1-landing")
            try await browser.type("#full_name", "Ольга Кузнецова")
            try await browser.type("#phone", "+7 903 111-22-33")
            try await browser.type("#city", "Самара")
            try await browser.type("#email", "olga@example.ru")
            try await browser.click("#consent")
            try await browser.click("#pay")
            _ = try await browser.waitForURL { $0.hasPrefix(setup.environment["PRODAMUS_FORM_URL"]!) }
            #expect(try await browser.pageText().contains("Оплатить"))
            try await browser.screenshot("2-payment-page")
            try await browser.click("button[type=submit]")
            let success = try await browser.waitForURL { $0.hasPrefix(setup.url + "/success") }
            #expect(success.contains("_payform_status=success"))
            #expect(try await browser.pageText().contains("Открыть бота в Telegram"))
            try await browser.screenshot("3-success")

            // The bot link opens the sandbox's Telegram app; the bot answers with the invite.
            try await browser.click("#bot")
            _ = try await browser.waitForURL { $0 == chat + "/chat" }
            try await browser.waitForText("https://t.me/+")
            try await browser.screenshot("sandbox-1-bot-chat")
            try await browser.click("a[href^='/+']")
            try await browser.waitForText("Подать заявку на вступление")
            try await browser.click("#join")
            try await browser.waitForText("Вы в группе.")

            // Today's post, run now: it appears in the open group page by itself.
            #expect(try await setup.runNow("daily-session-link") == 0)
            try await browser.waitForText("Ссылка на сеанс")
            try await browser.screenshot("sandbox-2-group")

            // Support: a question, a hand-over, the operator's answer.
            try await browser.open(chat + "/chat")
            try await browser.type("#text", "Когда начинается сеанс?")
            try await browser.click("#send")
            try await browser.waitForText("Позвать оператора")
            try await browser.type("#text", "Нужен человек")
            try await browser.click("#send")
            try await browser.waitForText("Вернуться к боту")
            try await browser.screenshot("sandbox-3-support")
            try await browser.open(chat + "/operators")
            try await browser.waitForText("Нужен человек")
            try await browser.click("#log .m:last-child a.reply")
            try await browser.type("#text", "Сеанс в 19:00 по Москве, ссылка придёт в группу.")
            try await browser.click("#send")
            try await browser.waitForText("Сеанс в 19:00 по Москве")
            try await browser.screenshot("sandbox-4-operators")
            try await browser.open(chat + "/chat")
            try await browser.waitForText("Сеанс в 19:00 по Москве, ссылка придёт в группу.")

            try await browser.open(setup.url + "/admin/login")
            try await browser.type("input[name=login]", "admin")
            try await browser.type("input[name=password]", SandboxHub.adminPassword)
            try await browser.click("button[type=submit]")
            // The sign-in's redirect lands first; opening the next page before it could be overtaken by it.
            _ = try await browser.waitForURL { $0 == setup.url + "/admin" }
            try await browser.open(setup.url + "/admin/members?q=Кузнецова")
            try await browser.waitForText("Ольга Кузнецова")
            try await browser.screenshot("sandbox-5-dashboard-members")
            // The pages payment moderation asks for, one screenshot each.
            for (path, title, name) in [("/offer", "Публичная оферта", "4-offer"), ("/privacy", "Политика обработки", "5-privacy"),
                                        ("/contacts", "Контакты", "6-contacts"), ("/fail", "Оплата не завершена", "7-fail")] {
                try await browser.open(setup.url + path)
                #expect(try await browser.pageText().contains(title), "\(path)")
                try await browser.screenshot(name)
            }
        } catch {
            try? await browser.screenshot("sandbox-failure")
            await browser.quit()
            _ = try? await setup.stop()
            throw error
        }
        await browser.quit()

        let store = try Store.open("sqlite:" + setup.database, poolSize: 1)
        let member = try #require(try await store.database.query("SELECT status, phone, telegram_id FROM funnel_members").first)
        #expect(member["status"] == "joined")
        #expect(member["phone"] == "+79031112233")
        let userID = try #require(member["telegram_id"]?.intValue)
        #expect(setup.sandbox.telegram.isMember(Int64(userID), of: Sandbox.groupID))
        #expect(setup.sandbox.telegram.messages(to: Sandbox.groupID).allSatisfy { $0.protectContent })
        await store.close()
        #expect(try await setup.stop() == 0)
    }
}
