import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// A paid client who asks to join through an invite that no longer works (it ran out, or a newer
/// one replaced it) is declined, as anyone would be, but told how to get in.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StaleInviteTests {
    @Test func aClientWithARunOutInviteIsToldToAskForANewOne() async throws {
        let setup = try await PaidClient.start()
        let (telegram, store, payer, stranger) = (setup.telegram, setup.store, FunnelTests.payer, FunnelTests.stranger)

        // Days later the link has run out; the client presses it anyway.
        let before = telegram.messages(to: payer.id).count
        await telegram.userRequestsToJoin(groupID: FunnelTests.groupID, via: setup.invite, from: payer)
        let told = try await FunnelTests.eventually { telegram.messages(to: payer.id).dropFirst(before).first }
        #expect(told.text == "Эта ссылка-приглашение больше не действует. Отправьте /start — я пришлю новую.")
        #expect(!telegram.isMember(payer.id, of: FunnelTests.groupID))
        #expect(telegram.calls(of: "declineChatJoinRequest").count == 1)

        // /start gives a new link, which lets them in.
        await telegram.userSends("/start", from: payer)
        let renewed = try await FunnelTests.eventually { telegram.inviteLinks.first { $0.inviteLink != setup.invite } }
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
        try await setup.stop()
    }

    @Test("the notice is a courtesy: a client who blocked the bot is declined and the run does not fail")
    func aClientWhoBlockedTheBotIsDeclinedWithoutAFailedRun() async throws {
        let setup = try await PaidClient.start()
        let (telegram, store, payer) = (setup.telegram, setup.store, FunnelTests.payer)
        _ = await telegram.userBlocksBot(payer)
        await telegram.userRequestsToJoin(groupID: FunnelTests.groupID, via: setup.invite, from: payer)
        _ = try await FunnelTests.eventually { telegram.calls(of: "declineChatJoinRequest").count == 1 ? true : nil }
        _ = try await FunnelTests.eventually { () -> Bool? in
            try await store.database.query("SELECT 1 FROM hub_runs WHERE flow = 'admit-the-payer' AND status = 'completed'").isEmpty ? nil : true
        }
        #expect(try await store.runs(status: "failed").isEmpty)
        try await setup.stop()
    }
}

/// A hub with the repository's flows and a client who registered, paid and got an invite through
/// the bot, which has since run out (in the funnel's table and the Telegram connector's).
struct PaidClient {
    let prodamusServer: EmulatorServer
    let telegram: TelegramEmulator
    let telegramServer: EmulatorServer
    let hub: HubProcess
    let folder: FlowFolder
    let store: Store
    /// The invite that ran out.
    let invite: String

    static func start() async throws -> PaidClient {
        let prodamus = ProdamusEmulator(secretKey: "test-secret-key")
        let telegram = TelegramEmulator(token: "123456:TEST-token", botUsername: "session_hub_bot")
        telegram.addGroup(id: FunnelTests.groupID, title: "Сеансы", hasProtectedContent: true)
        let prodamusServer = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let (hub, hubURL, database, folder) = try await FunnelTests.startHub(prodamus: prodamus, prodamusURL: prodamusServer.baseURL,
                                                                             telegramURL: telegramServer.baseURL)
        let form = try await TestHTTP.postForm(hubURL + "/", [
            ("full_name", "Анна Иванова"), ("phone", "+7 999 123-45-67"), ("city", "Казань"), ("email", "anna@example.ru"), ("consent", "on"),
        ])
        let paymentURL = try #require(form.location, "\(form.status) \(form.body.prefix(300))")
        let paid = try await TestHTTP.postForm(prodamusServer.baseURL + "/pay", [("query", String(paymentURL.split(separator: "?", maxSplits: 1)[1]))])
        let token = try #require(paid.location?.split(separator: "t=").last?.split(separator: "&").first.map(String.init))
        await telegram.userSends("/start \(token)", from: FunnelTests.payer)
        _ = try await FunnelTests.eventually { telegram.messages(to: FunnelTests.payer.id).first { $0.text?.contains("https://t.me/+") == true } }
        let invite = try #require(telegram.inviteLinks.first?.inviteLink)
        let store = try Store.open("sqlite:" + database, poolSize: 1)
        try await store.database.execute("UPDATE funnel_invites SET expires_at = $1", [.number(Double(Store.now() - 1000))])
        try await store.database.execute("UPDATE telegram_invite_links SET expires_at = $1", [.number(Double(Store.now() / 1000 - 1))])
        return PaidClient(prodamusServer: prodamusServer, telegram: telegram, telegramServer: telegramServer, hub: hub, folder: folder,
                          store: store, invite: invite)
    }

    func stop() async throws {
        await store.close()
        hub.kill(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        await telegram.shutdown()
        await telegramServer.stop()
        await prodamusServer.stop()
        folder.remove()
    }
}
