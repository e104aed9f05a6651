import Emulators
import Foundation

/// The sandbox: local emulators of Prodamus, Telegram, Zoom and OpenAI on loopback ports, wired
/// in through the same environment variables real credentials use. `hub serve` starts it when no
/// Prodamus and Telegram credentials are set (or with `--sandbox`), so a newcomer needs no accounts.
struct Sandbox {
    static let secretKey = "sandbox-secret-key"
    static let botToken = "100000:SANDBOX"
    static let groupID: Int64 = -1001000000001

    let servers: [EmulatorServer]
    /// The variables to run the hub with.
    let environment: [String: String]

    static func start() async throws -> Sandbox {
        let prodamus = try await EmulatorServer.start(ProdamusEmulator(secretKey: secretKey).router(), name: "prodamus")
        let telegramEmulator = TelegramEmulator(token: botToken, botUsername: "session_hub_sandbox_bot")
        telegramEmulator.addGroup(id: groupID, title: "Сеансы (песочница)", hasProtectedContent: true)
        let telegram = try await EmulatorServer.start(telegramEmulator.router(), name: "telegram")
        let zoom = try await EmulatorServer.start(ZoomEmulator(accountID: "sandbox", clientID: "sandbox", clientSecret: "sandbox").router(), name: "zoom")
        let openai = try await EmulatorServer.start(OpenAIEmulator(apiKey: "sandbox-key").router(), name: "openai")
        return Sandbox(servers: [prodamus, telegram, zoom, openai], environment: [
            "PRODAMUS_FORM_URL": prodamus.baseURL + "/", "PRODAMUS_SECRET_KEY": secretKey,
            "TELEGRAM_BOT_TOKEN": botToken, "TELEGRAM_API_URL": telegram.baseURL, "TELEGRAM_GROUP_ID": String(groupID),
            "ZOOM_ACCOUNT_ID": "sandbox", "ZOOM_CLIENT_ID": "sandbox", "ZOOM_CLIENT_SECRET": "sandbox", "ZOOM_HOST": "host@sandbox.example",
            "ZOOM_API_URL": zoom.baseURL + "/v2", "ZOOM_OAUTH_URL": zoom.baseURL,
            "OPENAI_BASE_URL": openai.baseURL + "/v1", "OPENAI_API_KEY": "sandbox-key",
        ])
    }

    /// True when the environment has no real Prodamus or Telegram credentials (and `HUB_SANDBOX` is not `off`).
    static func needed(_ environment: [String: String]) -> Bool {
        environment["HUB_SANDBOX"] != "off"
            && (environment["PRODAMUS_SECRET_KEY"] ?? "").isEmpty && (environment["TELEGRAM_BOT_TOKEN"] ?? "").isEmpty
    }

    var summary: String {
        "sandbox: no credentials set, so Prodamus, Telegram, Zoom and OpenAI are local emulators "
            + "(payment page \(environment["PRODAMUS_FORM_URL"] ?? ""), Bot API \(environment["TELEGRAM_API_URL"] ?? ""))"
    }
}
