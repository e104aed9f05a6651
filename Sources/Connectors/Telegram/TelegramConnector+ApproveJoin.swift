import Flows

extension TelegramConnector {
    static let approveJoinSpec = ActionSpec(
        name: "approve_join", summary: "Approves a user's request to join the group (the bot needs the 'invite users' right).",
        inputs: [
            .required("user", .integer, "the user's Telegram id"),
            .optional("chat_id", .integer, "the chat (default: the group)"),
        ],
        outputs: [.output("approved", .boolean, "true: the user is in the chat")],
        example: """
            do: telegram.approve_join
            with: { user: "{{ event.body.user_id }}" }
            """)

    /// A repeat after the request was handled is answered by the user's membership.
    func approveJoin(_ call: ActionCall) async throws -> Value {
        let user = try Self.requireID(call.inputs, "user")
        let chat = try chatOrGroup(call.inputs)
        return try await effects.once(call.idempotencyKey, action: call.action) {
            do {
                _ = try await api.call("approveChatJoinRequest", ["chat_id": .id(chat), "user_id": .id(user)])
            } catch let error as ConnectorError where error.disposition == .permanent {
                // The request is gone (already approved by an earlier try, or expired): only
                // membership tells which, so a crash between approve and record is harmless.
                guard try await isMember(user, of: chat) else { throw error }
            }
            trace(call, "telegram join request approved", ["chat.id": "\(chat)", "user.id": "\(user)"])
            return ["approved": true]
        }
    }

    /// Whether `user` is in `chat` now (getChatMember); `false` when Telegram says it does not
    /// know them. A 429, a 5xx or a network error is thrown (retryable): read as "not a member"
    /// it turned a passing hiccup into a failed run.
    func isMember(_ user: Int64, of chat: Int64) async throws -> Bool {
        let member: Value
        do {
            member = try await api.call("getChatMember", ["chat_id": .id(chat), "user_id": .id(user)])
        } catch let error as ConnectorError where error.disposition == .permanent {
            return false
        }
        switch member["status"]?.stringValue {
        case "creator", "administrator", "member": return true
        case "restricted": return member["is_member"]?.boolValue ?? false
        default: return false
        }
    }
}
