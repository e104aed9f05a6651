import Flows

extension TelegramConnector {
    static let revokeInviteSpec = ActionSpec(
        name: "revoke_invite", summary: "Revokes an invite link the bot created, so nobody else can use it.",
        inputs: [
            .required("invite_link", .string, "the link to revoke"),
            .optional("chat_id", .integer, "the link's chat (default: the group)"),
        ],
        outputs: [.output("revoked", .boolean, "true once the link no longer works")],
        example: """
            do: telegram.revoke_invite
            with: { invite_link: "{{ event.body.invite_link }}" }
            """)

    /// Revoking twice is harmless: Telegram answers with the already revoked link.
    func revokeInvite(_ call: ActionCall) async throws -> Value {
        let link = try call.inputs.require("invite_link")
        let chat = try chatOrGroup(call.inputs)
        return try await effects.once(call.idempotencyKey, action: call.action) {
            _ = try await api.call("revokeChatInviteLink", ["chat_id": .id(chat), "invite_link": .string(link)])
            try await effects.markRevoked(link)
            trace(call, "telegram invite revoked", ["chat.id": "\(chat)"])
            return ["revoked": true]
        }
    }
}
