import Foundation

/// The sandbox: local emulators of Prodamus, Telegram, Zoom and OpenAI on loopback ports, wired
/// in through the same environment variables real credentials use. `hub serve` starts it when no
/// Prodamus and Telegram credentials are set (or with `--sandbox`), so a newcomer needs no accounts.
/// Tests start the same sandbox to walk the journey and assert on what each emulator received.
public struct Sandbox: Sendable {
    public static let secretKey = "sandbox-secret-key"
    public static let botToken = "100000:SANDBOX"
    public static let botUsername = "session_hub_sandbox_bot"
    public static let groupID: Int64 = -1001000000001
    public static let operatorsChatID: Int64 = -1001000000002

    public let prodamus: ProdamusEmulator
    public let telegram: TelegramEmulator
    public let zoom: ZoomEmulator
    public let openai: OpenAIEmulator
    public let servers: [EmulatorServer]
    /// The variables to run the hub with.
    public let environment: [String: String]

    /// `siteURL` is the hub's public address, for the chat page's links back to the site and
    /// dashboard and for the Prodamus notifications.
    public static func start(siteURL: String) async throws -> Sandbox {
        // The hub keeps its database (./hub.db) from one start to the next, and knows payments,
        // updates and the operators' messages by the emulators' numbers: number from the clock,
        // in steps of 100 a second, so a later start never reuses an earlier one's.
        let numbersFrom = Int64(Date().timeIntervalSince1970 * 100)
        // The hub's links carry no `sys` (it is agreed with Prodamus per integration), so their
        // urlNotification does not count: like a real shop, the sandbox's LK names the hub's
        // webhook, at the Prodamus connector's default webhook_path.
        let prodamusEmulator = ProdamusEmulator(secretKey: secretKey, notificationURLs: [siteURL + "/hooks/prodamus"],
                                                firstOrderID: Int(numbersFrom))
        let prodamus = try await EmulatorServer.start(prodamusEmulator.router(), name: "prodamus")
        let telegramEmulator = TelegramEmulator(token: botToken, botUsername: botUsername, numbersFrom: numbersFrom)
        telegramEmulator.addGroup(id: groupID, title: "Сеансы (песочница)", hasProtectedContent: true)
        telegramEmulator.addGroup(id: operatorsChatID, title: "Операторы (песочница)", hasProtectedContent: false)
        let telegram = try await EmulatorServer.start(telegramEmulator.router(), name: "telegram")
        let chat = try await EmulatorServer.start(
            telegramEmulator.chatRouter(TelegramChatPageSettings(groupID: groupID, operatorsChatID: operatorsChatID, siteURL: siteURL)),
            name: "telegram-chat")
        let zoomEmulator = ZoomEmulator(accountID: "sandbox", clientID: "sandbox", clientSecret: "sandbox")
        let zoom = try await EmulatorServer.start(zoomEmulator.router(), name: "zoom")
        let openaiEmulator = OpenAIEmulator(apiKey: "sandbox-key")
        let openai = try await EmulatorServer.start(openaiEmulator.router(), name: "openai")
        return Sandbox(prodamus: prodamusEmulator, telegram: telegramEmulator, zoom: zoomEmulator, openai: openaiEmulator,
                       servers: [prodamus, telegram, chat, zoom, openai], environment: [
            "PRODAMUS_FORM_URL": prodamus.baseURL + "/", "PRODAMUS_SECRET_KEY": secretKey,
            "TELEGRAM_BOT_TOKEN": botToken, "TELEGRAM_API_URL": telegram.baseURL, "TELEGRAM_GROUP_ID": String(groupID),
            "TELEGRAM_OPERATORS_CHAT_ID": String(operatorsChatID), "TELEGRAM_LINK_URL": chat.baseURL,
            "ZOOM_ACCOUNT_ID": "sandbox", "ZOOM_CLIENT_ID": "sandbox", "ZOOM_CLIENT_SECRET": "sandbox", "ZOOM_HOST": "host@sandbox.example",
            "ZOOM_API_URL": zoom.baseURL + "/v2", "ZOOM_OAUTH_URL": zoom.baseURL,
            "OPENAI_BASE_URL": openai.baseURL + "/v1", "OPENAI_API_KEY": "sandbox-key",
        ])
    }

    /// The Telegram app page (chat with the bot, the group, the operators' chat).
    public var chatURL: String { environment["TELEGRAM_LINK_URL"] ?? "" }

    /// What the start-up prints; `forced`: asked for by `--sandbox` or `HUB_SANDBOX=on`.
    public func summary(forced: Bool) -> String {
        (forced ? "sandbox: asked for, so " : "sandbox: no credentials set, so ") + "Prodamus, Telegram, Zoom and OpenAI are local emulators "
            + "(payment page \(environment["PRODAMUS_FORM_URL"] ?? ""), Bot API \(environment["TELEGRAM_API_URL"] ?? ""));\n"
            + "sandbox: the Telegram app (chat with the bot, the group, the operators' chat) is at \(chatURL)"
    }

    public func stop() async {
        await telegram.shutdown()
        for server in servers { await server.stop() }
    }
}
