import Flows

extension TelegramConnector {
    static let botInfoSpec = ActionSpec(
        name: "bot_info", summary: "The bot's username, id and t.me link (for deep links such as https://t.me/<bot>?start=TOKEN).",
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

    func botInfo(_ call: ActionCall) async throws -> Value {
        try Self.botValue(try await api.call("getMe"))
    }

    /// `{username, id, link}` from getMe's `User`.
    static func botValue(_ me: Value) throws -> Value {
        guard let username = me["username"]?.stringValue, let id = me["id"]?.telegramID else {
            throw ConnectorError(code: "telegram-bad-response", "Telegram answered getMe without the bot's username", .retry)
        }
        return ["username": .string(username), "id": .id(id), "link": .string("https://t.me/\(username)")]
    }
}
