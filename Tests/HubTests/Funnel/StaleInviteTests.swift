import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// A paid client who asks to join through an invite that no longer works (it ran out, or a newer
/// one replaced it) is declined, as anyone would be, but told how to get in.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StaleInviteTests {
    @Test func aClientWithARunOutInviteIsToldToAskForANewOne() async throws {
        let prodamus = ProdamusEmulator(secretKey: "test-secret-key")
        let telegram = TelegramEmulator(token: "123456:TEST-token", botUsername: "session_hub_bot")
        telegram.addGroup(id: FunnelTests.groupID, title: "Сеансы", hasProtectedContent: true)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let (hub, hubURL, database, folder) = try await FunnelTests.startHub(prodamus: prodamus, prodamusURL: prodamusServer.baseURL,
                                                                             telegramURL: telegramServer.baseURL)
        defer { folder.remove() }
        let payer = FunnelTests.payer, stranger = FunnelTests.stranger

        let form = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Анна Иванова"), ("phone", "+7 999 123-45-67"), ("city", "Казань"), ("email", "anna@example.ru"), ("consent", "on"),
        ])
        let paymentURL = try #require(form.location, "\(form.status) \(form.body.prefix(300))")
        let paid = try await TestHTTP.postForm(prodamusServer.baseURL + "/pay", [("query", String(paymentURL.split(separator: "?", maxSplits: 1)[1]))])
        let token = try #require(paid.location?.split(separator: "t=").last?.split(separator: "&").first.map(String.init))
        await telegram.userSends("/start \(token)", from: payer)
        _ = try await FunnelTests.eventually { telegram.messages(to: payer.id).first { $0.text?.contains("https://t.me/+") == true } }
        let first = try #require(telegram.inviteLinks.first)

        // Days later the link has run out; the client presses it anyway.
        let store = try Store.open("sqlite:" + database, poolSize: 1)
        try await Self.expireInvites(store)
        let before = telegram.messages(to: payer.id).count
        await telegram.userRequestsToJoin(groupID: FunnelTests.groupID, via: first.inviteLink, from: payer)
        let told = try await FunnelTests.eventually { telegram.messages(to: payer.id).dropFirst(before).first }
        #expect(told.text == "Эта ссылка-приглашение больше не действует. Отправьте /start — я пришлю новую.")
        #expect(!telegram.isMember(payer.id, of: FunnelTests.groupID))
        #expect(telegram.calls(of: "declineChatJoinRequest").count == 1)

        // /start gives a new link, which lets them in.
        await telegram.userSends("/start", from: payer)
        let renewed = try await FunnelTests.eventually { telegram.inviteLinks.first { $0.inviteLink != first.inviteLink } }
        // A person takes a moment to press it: by then the flow has recorded it.
        _ = try await FunnelTests.eventually { () -> Bool? in
            let active = try await store.database.query("SELECT 1 FROM funnel_invites WHERE invite_link = $1 AND status = 'active'",
                                                        [.string(renewed.inviteLink)])
            return active.isEmpty ? nil : true
        }
        // Someone else with the forwarded link is declined without a word: nothing tells them whose it was.
        await telegram.userRequestsToJoin(groupID: FunnelTests.groupID, via: renewed.inviteLink, from: stranger)
        _ = try await FunnelTests.eventually { telegram.calls(of: "declineChatJoinRequest").count == 2 ? true : nil }
        await telegram.userRequestsToJoin(groupID: FunnelTests.groupID, via: renewed.inviteLink, from: payer)
        _ = try await FunnelTests.eventually { telegram.isMember(payer.id, of: FunnelTests.groupID) ? true : nil }
        #expect(telegram.messages(to: stranger.id).isEmpty)

        #expect(try await store.runs(status: "failed").isEmpty)
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
    }

    /// Every invite recorded so far has run out, in the funnel's table and the Telegram connector's.
    static func expireInvites(_ store: Store) async throws {
        try await store.database.execute("UPDATE funnel_invites SET expires_at = $1", [.number(Double(Store.now() - 1000))])
        try await store.database.execute("UPDATE telegram_invite_links SET expires_at = $1", [.number(Double(Store.now() / 1000 - 1))])
    }

    @Test("the notice is a courtesy: a client who blocked the bot is declined and the run does not fail")
    func aClientWhoBlockedTheBotIsDeclinedWithoutAFailedRun() async throws {
        let prodamus = ProdamusEmulator(secretKey: "test-secret-key")
        let telegram = TelegramEmulator(token: "123456:TEST-token", botUsername: "session_hub_bot")
        telegram.addGroup(id: FunnelTests.groupID, title: "Сеансы", hasProtectedContent: true)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let (hub, hubURL, database, folder) = try await FunnelTests.startHub(prodamus: prodamus, prodamusURL: prodamusServer.baseURL,
                                                                             telegramURL: telegramServer.baseURL)
        defer { folder.remove() }
        let payer = FunnelTests.payer
        let form = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Анна Иванова"), ("phone", "+7 999 123-45-67"), ("city", "Казань"), ("email", "anna@example.ru"), ("consent", "on"),
        ])
        let paymentURL = try #require(form.location, "\(form.status) \(form.body.prefix(300))")
        let paid = try await TestHTTP.postForm(prodamusServer.baseURL + "/pay", [("query", String(paymentURL.split(separator: "?", maxSplits: 1)[1]))])
        let token = try #require(paid.location?.split(separator: "t=").last?.split(separator: "&").first.map(String.init))
        await telegram.userSends("/start \(token)", from: payer)
        _ = try await FunnelTests.eventually { telegram.messages(to: payer.id).first { $0.text?.contains("https://t.me/+") == true } }
        let first = try #require(telegram.inviteLinks.first)
        let store = try Store.open("sqlite:" + database, poolSize: 1)
        try await Self.expireInvites(store)

        _ = await telegram.userBlocksBot(payer)
        await telegram.userRequestsToJoin(groupID: FunnelTests.groupID, via: first.inviteLink, from: payer)
        _ = try await FunnelTests.eventually { telegram.calls(of: "declineChatJoinRequest").count == 1 ? true : nil }
        _ = try await FunnelTests.eventually { () -> Bool? in
            try await store.database.query("SELECT 1 FROM hub_runs WHERE flow = 'admit-the-payer' AND status = 'completed'").isEmpty ? nil : true
        }
        #expect(try await store.runs(status: "failed").isEmpty)
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
    }
}
