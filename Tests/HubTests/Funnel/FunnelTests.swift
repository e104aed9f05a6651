import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// The funnel end to end with the repository's flows: a child hub talks to the Prodamus and
/// Telegram emulators over their real protocols; the test plays the clients.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FunnelTests {
    static let groupID: Int64 = -1001234567890
    static let payer = EmulatedUser(id: 5001, firstName: "Анна", username: "anna")
    static let stranger = EmulatedUser(id: 5002, firstName: "Boris", username: "boris")
    static let unpaid = EmulatedUser(id: 5003, firstName: "Vera", username: nil)

    @Test func registerPayStartJoin() async throws {
        let prodamus = ProdamusEmulator(secretKey: "test-secret-key")
        let telegram = TelegramEmulator(token: "123456:TEST-token", botUsername: "session_hub_bot")
        telegram.addGroup(id: Self.groupID, title: "Сеансы", hasProtectedContent: true)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let (hub, hubURL, database, folder) = try await Self.startHub(prodamus: prodamus, prodamusURL: prodamusServer.baseURL,
                                                                      telegramURL: telegramServer.baseURL)
        defer { folder.remove() }

        // 1. Registration: the form's flow answers with a redirect to the payment page.
        let form = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Анна <b>Иванова</b>"), ("phone", "8 (999) 123-45-67"), ("city", "Казань"),
            ("email", "anna@example.ru"), ("consent", "on"),
        ])
        #expect(form.status == 303, "\(form.body.prefix(500)) \(hub.stderr)")
        let paymentURL = try #require(form.location)
        #expect(paymentURL.hasPrefix(prodamusServer.baseURL + "/?"))

        // 2. The client pays on the emulated payment page; Prodamus notifies the hub, then redirects.
        let page = try #require(await TestHTTP.get(paymentURL))
        #expect(page.status == 200)
        #expect(page.body.contains("Оплатить"))
        let query = String(paymentURL.split(separator: "?", maxSplits: 1)[1])
        let paid = try await TestHTTP.postForm(prodamusServer.baseURL + "/pay", [("query", query)])
        #expect(paid.status == 303)
        #expect(prodamus.webhooksSent.map(\.status) == [200])
        let success = try #require(paid.location)
        #expect(success.hasPrefix(hubURL + "/success?t="))

        // 3. The success page links to the bot with this client's token.
        let successPage = try #require(await TestHTTP.get(success))
        let token = try #require(success.split(separator: "t=").last?.split(separator: "&").first.map(String.init))
        #expect(successPage.body.contains("https://t.me/session_hub_bot?start=\(token)"))

        let store = try Store.open("sqlite:" + database, poolSize: 1)
        let members = try await store.database.query("SELECT full_name, phone, status, token FROM funnel_members")
        #expect(members.count == 1)
        #expect(members.first?["full_name"] == "Анна <b>Иванова</b>")
        #expect(members.first?["phone"] == "+79991234567")
        #expect(members.first?["status"] == "paid")
        // The deep link is the paid order's, not the member's.
        #expect(try await store.database.query("SELECT status FROM funnel_payments WHERE token = $1", [.string(token)]).first?["status"] == "paid")

        // 4. /start TOKEN: the bot sends a personal join-request link, protected from forwarding.
        await telegram.userSends("/start \(token)", from: Self.payer)
        let invite = try await Self.eventually { telegram.messages(to: Self.payer.id).first { $0.text?.contains("https://t.me/+") == true } }
        #expect(invite.protectContent == true)
        let link = try #require(telegram.inviteLinks.first)
        #expect(link.createsJoinRequest)
        #expect(invite.text?.contains(link.inviteLink) == true)
        // A plain /start from that account (the invite lost): the way in again, not "pay on the site".
        let sentBefore = telegram.messages(to: Self.payer.id).count
        await telegram.userSends("/start", from: Self.payer)
        let again = try await Self.eventually {
            telegram.messages(to: Self.payer.id).dropFirst(sentBefore).first { $0.text?.contains("https://t.me/+") == true }
        }
        #expect(again.text?.contains(link.inviteLink) == true)
        #expect(!telegram.messages(to: Self.payer.id).contains { $0.text?.contains("оплатите") == true })

        // 5. Someone else using the forwarded link is declined; the payer is let in, and the link revoked.
        await telegram.userRequestsToJoin(groupID: Self.groupID, via: link.inviteLink, from: Self.stranger)
        _ = try await Self.eventually { telegram.calls(of: "declineChatJoinRequest").first }
        #expect(!telegram.isMember(Self.stranger.id, of: Self.groupID))
        await telegram.userRequestsToJoin(groupID: Self.groupID, via: link.inviteLink, from: Self.payer)
        _ = try await Self.eventually { telegram.isMember(Self.payer.id, of: Self.groupID) ? true : nil }
        _ = try await Self.eventually { telegram.inviteLinks.first { $0.inviteLink == link.inviteLink && $0.isRevoked } }
        _ = try await Self.eventually {
            try await store.database.query("SELECT status FROM funnel_members WHERE telegram_id = $1", [.number(Double(Self.payer.id))])
                .first?["status"] == "joined" ? true : nil
        }

        // 6. /start again once in the group: told so, no second link.
        await telegram.userSends("/start \(token)", from: Self.payer)
        _ = try await Self.eventually { telegram.messages(to: Self.payer.id).first { $0.text?.contains("уже в группе") == true } }
        #expect(telegram.inviteLinks.count == 1)

        // 7. A client who registered but did not pay gets the payment link from the bot.
        let other = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Вера Петрова"), ("phone", "+7 912 000-11-22"), ("city", "Пермь"), ("email", "vera@example.ru"), ("consent", "on"),
        ])
        #expect(other.status == 303)
        let veraToken = try #require(try await store.database.query(
            "SELECT p.token FROM funnel_payments p JOIN funnel_members m ON m.id = p.member_id WHERE m.phone = '+79120001122'").first?["token"]?.stringValue)
        await telegram.userSends("/start \(veraToken)", from: Self.unpaid)
        let reminder = try await Self.eventually { telegram.messages(to: Self.unpaid.id).first { $0.text?.contains("не подтверждена") == true } }
        #expect(reminder.replyMarkup?.json.contains("Оплатить") == true)
        #expect(!telegram.isMember(Self.unpaid.id, of: Self.groupID))

        // 8. A member the admin removed is told so at /start, not asked to pay their paid order again.
        try await store.database.execute("UPDATE funnel_members SET status = 'removed' WHERE telegram_id = $1", [.number(Double(Self.payer.id))])
        await telegram.userSends("/start \(token)", from: Self.payer)
        _ = try await Self.eventually { telegram.messages(to: Self.payer.id).first { $0.text?.contains("Доступ к группе для вас закрыт") == true } }
        // Registering again on the site sends them to the contacts, not to pay for access the bot refuses.
        let removedAgain = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Анна Иванова"), ("phone", "+7 999 123-45-67"), ("city", "Москва"), ("email", "anna@example.ru"), ("consent", "on"),
        ])
        #expect(removedAgain.status == 303)
        #expect(removedAgain.location == hubURL + "/contacts")
        #expect(!telegram.messages(to: Self.payer.id).contains { $0.text?.contains("не подтверждена") == true })
        #expect(telegram.inviteLinks.count == 1)

        let failed = try await store.runs(status: "failed").map { "\($0.flow): \($0.error ?? "")" }
        #expect(failed.isEmpty)
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
    }

    /// Telegram failing (a getMe that answers 500 every time): the client still goes to pay, and
    /// the success page, without the bot's name, tells them where to turn.
    @Test func registrationDoesNotWaitForTelegram() async throws {
        let prodamus = ProdamusEmulator(secretKey: "test-secret-key")
        let telegram = TelegramEmulator(token: "123456:TEST-token", botUsername: "session_hub_bot")
        telegram.addGroup(id: Self.groupID, title: "Сеансы", hasProtectedContent: true)
        let faults = TelegramFaults()
        faults.storm(method: "getMe", status: 500, failures: 1, every: 1, total: 1_000_000)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(faults: faults), name: "telegram")
        let (hub, hubURL, database, folder) = try await Self.startHub(prodamus: prodamus, prodamusURL: prodamusServer.baseURL,
                                                                      telegramURL: telegramServer.baseURL)
        defer { folder.remove() }

        let started = ContinuousClock.now
        let form = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Анна Иванова"), ("phone", "8 (999) 123-45-67"), ("city", "Казань"), ("email", "anna@example.ru"), ("consent", "on"),
        ])
        #expect(form.status == 303, "\(form.body.prefix(500)) \(hub.stderr)")
        let paymentURL = try #require(form.location)
        #expect(paymentURL.hasPrefix(prodamusServer.baseURL + "/?"))
        #expect(ContinuousClock.now - started < .seconds(8))

        let query = String(paymentURL.split(separator: "?", maxSplits: 1)[1])
        let paid = try await TestHTTP.postForm(prodamusServer.baseURL + "/pay", [("query", query)])
        #expect(prodamus.webhooksSent.map(\.status) == [200])
        let success = try #require(paid.location)
        #expect(success.hasPrefix(hubURL + "/success?t="))
        let successPage = try #require(await TestHTTP.get(success))
        #expect(successPage.status == 200)
        #expect(successPage.body.contains("Напишите или позвоните нам"))
        #expect(!successPage.body.contains("start="))

        let store = try Store.open("sqlite:" + database, poolSize: 1)
        #expect(try await store.database.query("SELECT status FROM funnel_members").map { $0["status"] } == ["paid"])
        #expect(try await store.runs(status: "failed").isEmpty)
        // The flow did ask Telegram, and went on without its answer.
        let bot = try await store.database.query("SELECT error FROM hub_run_steps WHERE step_id = 'bot'")
        #expect(bot.count == 1 && bot.first?["error"]?.stringValue?.contains("getMe") == true, "\(bot)")
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
    }

    /// SESSION_PRICE sets the one price: the site shows it, the order records it, and the bot's
    /// payment button (for a client who opens the bot before paying) charges the order's amount.
    /// Written as people write prices too: the order records 2500.00 and both payment links charge that.
    @Test(arguments: ["2500", "2 500", "2500,00"])
    func sessionPriceIsWhatTheSiteShowsAndTheBotCharges(_ written: String) async throws {
        let prodamus = ProdamusEmulator(secretKey: "test-secret-key")
        let telegram = TelegramEmulator(token: "123456:TEST-token", botUsername: "session_hub_bot")
        telegram.addGroup(id: Self.groupID, title: "Сеансы", hasProtectedContent: true)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let (hub, hubURL, database, folder) = try await Self.startHub(prodamus: prodamus, prodamusURL: prodamusServer.baseURL,
                                                                      telegramURL: telegramServer.baseURL, environment: ["SESSION_PRICE": written])
        defer { folder.remove() }

        let landing = try #require(await TestHTTP.get(hubURL + "/"))
        #expect(landing.body.contains("2\u{00A0}500 ₽"), "\(landing.body.prefix(2000))")
        #expect(!landing.body.contains("3\u{00A0}000"))
        let form = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Вера Петрова"), ("phone", "+7 912 000-11-22"), ("city", "Пермь"), ("email", "vera@example.ru"), ("consent", "on"),
        ])
        #expect(form.status == 303, "\(form.body.prefix(500)) \(hub.stderr)")
        let store = try Store.open("sqlite:" + database, poolSize: 1)
        let order = try #require(try await store.database.query("SELECT token, amount FROM funnel_payments").first)
        #expect(order["amount"] == "2500.00")
        let token = try #require(order["token"]?.stringValue)

        // The client opens the bot before paying and pays with its button.
        await telegram.userSends("/start \(token)", from: Self.unpaid)
        let reminder = try await Self.eventually { telegram.messages(to: Self.unpaid.id).first { $0.text?.contains("не подтверждена") == true } }
        let button = try #require(reminder.replyMarkup?["inline_keyboard"]?.arrayValue?.first?.arrayValue?.first?["url"]?.stringValue)
        #expect(button.hasPrefix(prodamusServer.baseURL + "/?"))
        let query = String(button.split(separator: "?", maxSplits: 1)[1])
        _ = try await TestHTTP.postForm(prodamusServer.baseURL + "/pay", [("query", query)])
        #expect(prodamus.webhooksSent.map(\.status) == [200])
        _ = try await Self.eventually {
            try await store.database.query("SELECT status FROM funnel_members").first?["status"] == "paid" ? true : nil
        }
        #expect(try await store.database.query("SELECT status, amount FROM funnel_payments").map { [$0["status"], $0["amount"]] } == [["paid", "2500.00"]])
        // Paid through the bot: the invite follows without another /start.
        _ = try await Self.eventually { telegram.messages(to: Self.unpaid.id).first { $0.text?.contains("https://t.me/+") == true } }
        #expect(try await store.runs(status: "failed").isEmpty)
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
    }

    /// A child hub running the repository's flows against the emulators; Prodamus is told to
    /// notify it. The caller removes `folder`.
    static func startHub(prodamus: ProdamusEmulator, prodamusURL: String, telegramURL: String, environment extra: [String: String] = [:]) async throws
        -> (hub: HubProcess, url: String, database: String, folder: FlowFolder)
    {
        let folder = try FlowFolder([:])
        do {
            for file in FlowSet.flowFiles(in: Repository.path("flows")) {
                try folder.write(URL(fileURLWithPath: file).lastPathComponent, String(contentsOfFile: file, encoding: .utf8))
            }
            let port = TestHTTP.freePort()
            let hubURL = "http://127.0.0.1:\(port)"
            // The hub's links have no `sys`, so Prodamus notifies the URL set in the shop's LK.
            prodamus.notificationURLs = [hubURL + "/hooks/prodamus"]
            let database = folder.root.appendingPathComponent("hub.db").path
            let hub = try HubProcess(environment: [
                "HUB_DATABASE_URL": "sqlite:" + database, "HUB_FLOWS": folder.flows,
                "HUB_LISTEN": "127.0.0.1:\(port)", "HUB_PUBLIC_URL": hubURL,
                "PRODAMUS_FORM_URL": prodamusURL + "/", "PRODAMUS_SECRET_KEY": "test-secret-key",
                "TELEGRAM_BOT_TOKEN": "123456:TEST-token", "TELEGRAM_API_URL": telegramURL,
                "TELEGRAM_GROUP_ID": String(Self.groupID),
            ].merging(extra) { _, new in new }, workingDirectory: folder.root)
            _ = try await hub.waitForPort()
            return (hub, hubURL, database, folder)
        } catch {
            folder.remove()
            throw error
        }
    }

    /// Polls until `probe` gives a value (at most 10 s).
    static func eventually<T>(_ probe: () async throws -> T?) async throws -> T {
        for _ in 0..<200 {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HubProcessError(message: "condition not met within 10 s")
    }
}
