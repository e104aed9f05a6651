import Flows

extension TelegramConnector {
    static let botInfoSpec = ActionSpec(
        name: "bot_info", summary: "The bot's username, id and t.me link (for deep links such as https://t.me/<bot>?start=TOKEN); "
            + "asked of Telegram (getMe, 5 s at most) until it first answers, then remembered.",
        inputs: [],
        outputs: [
            .output("username", .string, "the bot's username without '@'"),
            .output("id", .integer, "the bot's user id"),
            .output("link", .string, "https://t.me/<username>"),
        ],
        hasSideEffects: false,
        example: """
            id: bot
            do: telegram.bot_info
            """)

    /// Registrations wait for this step, and the form waits 10 s for its whole flow.
    static let botInfoTimeout: Duration = .seconds(5)

    func botInfo(_ call: ActionCall) async throws -> Value {
        if let known = api.knownBot.withLock({ $0 }) { return known }
        return try rememberBot(try await api.call("getMe", timeout: Self.botInfoTimeout))
    }

    /// `botValue` of getMe's answer, kept for `bot_info`.
    func rememberBot(_ me: Value) throws -> Value {
        let bot = try Self.botValue(me)
        api.knownBot.withLock { $0 = bot }
        return bot
    }

    /// `{username, id, link}` from getMe's `User`.
    static func botValue(_ me: Value) throws -> Value {
        guard let username = me["username"]?.stringValue, let id = me["id"]?.telegramID else {
            throw ConnectorError(code: "telegram-bad-response", "Telegram answered getMe without the bot's username", .retry)
        }
        return ["username": .string(username), "id": .id(id), "link": .string("https://t.me/\(username)")]
    }
}
