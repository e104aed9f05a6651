import Flows

extension TelegramConnector {
    static let removeMemberSpec = ActionSpec(
        name: "remove_member", summary: "Removes a user from the group without blacklisting them (ban, then unban).",
        inputs: [
            .required("user", .integer, "the user's Telegram id"),
            .optional("chat_id", .integer, "the chat (default: the group)"),
        ],
        outputs: [.output("removed", .boolean, "true: the user is out and may come back with a new invite")],
        example: """
            do: telegram.remove_member
            with: { user: "{{ event.body.user_id }}" }
            """)

    /// Ban then `unbanChatMember(only_if_banned)`: the user is out but not blacklisted.
    /// Both calls are harmless to repeat, so a resumed run simply does them again.
    func removeMember(_ call: ActionCall) async throws -> Value {
        let user = try Self.requireID(call.inputs, "user")
        let chat = try chatOrGroup(call.inputs)
        _ = try await api.call("banChatMember", ["chat_id": .id(chat), "user_id": .id(user)])
        _ = try await api.call("unbanChatMember", ["chat_id": .id(chat), "user_id": .id(user), "only_if_banned": true])
        trace(call, "telegram member removed", ["chat.id": "\(chat)", "user.id": "\(user)"])
        return ["removed": true]
    }
}
