import Flows

extension TelegramConnector {
    static let createInviteSpec = ActionSpec(
        name: "create_invite", summary: "Creates a join-request invite link to the group, named after the member (no message is sent).",
        inputs: [.required("member_id", .string, "the hub's member id; the link is named 'm:<member_id>'")],
        outputs: [
            .output("invite_link", .string, "the link, e.g. https://t.me/+AbCd…"),
            .output("expires_at", .integer, "when the link stops working, Unix seconds"),
        ],
        example: """
            do: telegram.create_invite
            with: { member_id: "{{ event.body.member_id }}" }
            """)

    /// Once per key; a still-valid link of the same name is reused rather than a second one made.
    func createInvite(_ call: ActionCall) async throws -> Value {
        let name = Self.inviteName(memberID: try call.inputs.require("member_id"))
        let invite = try await invite(named: name, key: call.idempotencyKey, action: call.action, recorded: effects.recall(call.idempotencyKey))
        trace(call, "telegram invite link ready", ["invite.name": "\(name)"])
        return ["invite_link": .string(invite.link), "expires_at": .id(invite.expiresAt)]
    }

    /// The link's name: `m:<member id>`, cut to Telegram's 32 characters.
    static func inviteName(memberID: String) -> String {
        String("m:\(memberID)".prefix(32))
    }

    /// A join-request link to the group named `name`: the one in `recorded` (what `key` holds,
    /// read by the caller), else an active one of that name, else a new one valid for `invite_ttl`.
    func invite(named name: String, key: String, action: String, recorded: [String: Value]?) async throws -> (link: String, expiresAt: Int64) {
        if let done = recorded, let link = done["invite_link"]?.stringValue, let expires = done["expires_at"]?.telegramID {
            return (link, expires)
        }
        let group = try requireGroup()
        // A link about to expire is no good to a client who reads the message later.
        let margin = Int64(min(3600, settings.inviteTTL / 2))
        // One member at a time: two runs inviting the same member at once (the payment and a
        // /start) would each find no link and make one, and the member's invites would then be
        // recorded in either order, revoking the link that is still handed out.
        let invite = try await inviteCreation.run(name) { [self] () async throws -> (link: String, expiresAt: Int64) in
            if let active = try await effects.activeInvite(chat: group, name: name, margin: margin) { return active }
            let expires = TelegramEffects.now() + Int64(settings.inviteTTL)
            // creates_join_request: a forwarded link lets nobody in; the flow approves only the
            // paying user (member_limit would count members at once, not uses, and cannot be combined).
            let result = try await api.call("createChatInviteLink", [
                "chat_id": .id(group), "name": .string(name), "expire_date": .id(expires), "creates_join_request": true,
            ])
            guard let link = result["invite_link"]?.stringValue else {
                throw ConnectorError(code: "telegram-bad-response", "Telegram answered createChatInviteLink without a link", .retry)
            }
            let created = (link: link, expiresAt: result["expire_date"]?.telegramID ?? expires)
            try await effects.recordInvite(link, chat: group, name: name, expiresAt: created.expiresAt)
            return created
        }
        try await effects.remember(key, action: action, ["invite_link": .string(invite.link), "expires_at": .id(invite.expiresAt)])
        return invite
    }
}
