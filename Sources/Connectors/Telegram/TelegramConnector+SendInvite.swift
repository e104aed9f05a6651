import Flows
import Foundation

extension TelegramConnector {
    /// The message that carries the link when the flow gives none; `{link}` marks where it goes.
    static let defaultInviteText = """
        Спасибо за оплату! Вот ваша личная ссылка в закрытую группу:
        {link}

        Нажмите на неё и отправьте заявку на вступление — мы одобрим её автоматически. \
        Ссылка работает только для вас и действует ограниченное время.
        """

    static let sendInviteSpec = ActionSpec(
        name: "send_invite", summary: "Creates a join-request invite link bound to the member and sends it to the user, protected from forwarding.",
        inputs: [
            .required("user", .integer, "the user's Telegram id (they must have pressed Start in the bot)"),
            .optional("member_id", .string, "the hub's member id; the link is named 'm:<member_id>' (default: the Telegram id)"),
            .optional("text", .string, "the message; '{link}' is replaced by the link (appended when missing)", default: .string(defaultInviteText)),
        ],
        outputs: [
            .output("invite_link", .string, "the link sent"),
            .output("expires_at", .integer, "when the link stops working, Unix seconds"),
            .output("message_id", .integer, "the message that carries the link"),
        ],
        example: """
            do: telegram.send_invite
            with:
              user: "{{ event.body.telegram_id }}"
              member_id: "{{ event.body.member_id }}"
            """)

    /// In two recorded steps (link, then message), so a resumed run neither makes a second
    /// link nor sends a second message once the first was recorded.
    func sendInvite(_ call: ActionCall) async throws -> Value {
        let user = try Self.requireID(call.inputs, "user")
        let name = Self.inviteName(memberID: call.inputs.get("member_id").flatMap { $0.isEmpty ? nil : $0 } ?? "\(user)")
        // One read of what this step recorded before (a resumed run): the link, and the message if it went out.
        let recorded = try await effects.recall(call.idempotencyKey)
        let invite = try await invite(named: name, key: call.idempotencyKey, action: call.action, recorded: recorded)
        var result: [String: Value] = ["invite_link": .string(invite.link), "expires_at": .id(invite.expiresAt)]
        if let sent = recorded?["message_id"] {
            result["message_id"] = sent
            return .object(result)
        }
        let template = call.inputs.get("text").flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultInviteText
        let text = template.contains("{link}") ? template.replacingOccurrences(of: "{link}", with: invite.link) : template + "\n" + invite.link
        let id = try await sendText(chat: user, text: text, ["protect_content": true])
        result["message_id"] = .id(id)
        try await effects.remember(call.idempotencyKey, action: call.action, result)
        trace(call, "telegram invite sent", ["invite.name": "\(name)", "message.id": "\(id)"])
        return .object(result)
    }
}
