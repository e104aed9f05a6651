import Flows

extension TelegramConnector {
    static let declineJoinSpec = ActionSpec(
        name: "decline_join", summary: "Declines a user's request to join the group.",
        inputs: [
            .required("user", .integer, "the user's Telegram id"),
            .optional("chat_id", .integer, "the chat (default: the group)"),
        ],
        outputs: [.output("declined", .boolean, "true: the user is not let in")],
        example: """
            do: telegram.decline_join
            with: { user: "{{ event.body.user_id }}" }
            """)

    /// A repeat after the request was handled is harmless as long as the user is not in the chat.
    func declineJoin(_ call: ActionCall) async throws -> Value {
        let user = try Self.requireID(call.inputs, "user")
        let chat = try chatOrGroup(call.inputs)
        return try await effects.once(call.idempotencyKey, action: call.action) {
            do {
                _ = try await api.call("declineChatJoinRequest", ["chat_id": .id(chat), "user_id": .id(user)])
            } catch let error as ConnectorError where error.disposition == .permanent {
                guard !(try await isMember(user, of: chat)) else { throw error }
                call.logger.notice("telegram join request was already handled", metadata: ["chat.id": "\(chat)", "user.id": "\(user)",
                                                                                          "error": "\(error)"])
            }
            trace(call, "telegram join request declined", ["chat.id": "\(chat)", "user.id": "\(user)"])
            return ["declined": true]
        }
    }
}
