import Flows

extension TelegramConnector {
    /// The declaration that drives config checking, flow checking and the docs.
    public static let spec = ConnectorSpec(
        name: "telegram",
        summary: "A Telegram bot: commands and messages in, messages, invite links and group posts out.",
        defaultInstance: "telegram",
        config: [
            .required(Key.token, .string, "the bot token from @BotFather", secret: true, environment: "TELEGRAM_BOT_TOKEN"),
            .optional(Key.apiURL, .string, "Bot API base URL", default: "https://api.telegram.org", environment: "TELEGRAM_API_URL"),
            .optional(Key.groupID, .integer, "the private group's chat id (-100…); the bot must be an admin there", environment: "TELEGRAM_GROUP_ID"),
            .optional(Key.operatorsChatID, .integer, "the operators' chat id, where support chats are relayed", environment: "TELEGRAM_OPERATORS_CHAT_ID"),
            .optional(Key.mode, .choice(TelegramSettings.Mode.allCases.map(\.rawValue)),
                      "how updates arrive; default: webhook when the hub's public URL is https, else polling"),
            .optional(Key.webhookPath, .string, "the path Telegram posts updates to in webhook mode", default: "/hooks/telegram"),
            .optional(Key.webhookSecret, .string, "the webhook's secret token; default: derived from the bot token", secret: true,
                      environment: "TELEGRAM_WEBHOOK_SECRET"),
            .optional(Key.inviteTTL, .integer, "how long an invite link stays valid, in seconds", default: 86_400),
            .optional(Key.paidBroadcast, .boolean, "send with allow_paid_broadcast: up to 1,000 messages a second instead of about 30, "
                      + "for a fee in Telegram Stars per message (the bot needs the Stars balance)", default: false,
                      environment: "TELEGRAM_PAID_BROADCAST"),
        ],
        actions: [
            sendMessageSpec, sendInviteSpec, createInviteSpec, revokeInviteSpec, approveJoinSpec, declineJoinSpec, removeMemberSpec,
            postGroupSpec, relayToOperatorsSpec, copyMessageSpec, answerCallbackSpec, botInfoSpec,
        ],
        triggers: triggers
    )

    /// `{id, username, first_name}` of a Telegram user.
    static func userFields(_ summary: String) -> FieldSpec {
        .output("from", .object, summary, fields: [
            .output("id", .integer, "the user's Telegram id"),
            .output("username", .string, "the @username without '@' (null when the user has none)"),
            .output("first_name", .string, "the user's first name"),
        ])
    }

    /// The connector's own setting (hub.yaml or the variable), so flows decide on hand-overs by
    /// what the bot will really do rather than by reading the environment themselves.
    static let operatorsChatField: FieldSpec = .output(
        "operators_chat_id", .integer, "the operators' chat the connector relays to (operators_chat_id); null when none is set")

    static let mediaFields: [FieldSpec] = [
        .output("has_media", .boolean, "whether the message carries a photo, document, voice, video …"),
        .output("media_type", .string, "photo, document, video, voice, audio, animation, video_note or sticker; null without media"),
        .output("file_id", .string, "the attachment's file id (for photos the largest size); null without media"),
    ]

    static let triggers: [TriggerSpec] = [
        TriggerSpec(
            name: "command", summary: "A private message that starts with a bot command, e.g. /start TOKEN from a deep link.",
            fields: [
                .output("command", .string, "the command without '/' and '@bot', e.g. start"),
                .output("payload", .string, "the text after the command, e.g. the deep-link token of /start TOKEN; empty when none"),
                userFields("who sent it"),
                .output("chat_id", .integer, "the private chat's id (equals from.id)"),
                .output("message_id", .integer, "the message's id in that chat"),
                .output("text", .string, "the whole message text"),
                operatorsChatField,
            ],
            example: """
                on: telegram.command
                if: "{{ event.command == 'start' }}"
                steps:
                  - do: telegram.send_message
                    with:
                      chat_id: "{{ event.chat_id }}"
                      text: "Здравствуйте, {{ event.from.first_name }}! Проверяем оплату…"
                """),
        TriggerSpec(
            name: "message", summary: "A private message to the bot that is not a command (text or media).",
            fields: [
                .output("text", .string, "the message text; empty for media without text"),
                userFields("who sent it"),
                .output("chat_id", .integer, "the private chat's id"),
                .output("message_id", .integer, "the message's id in that chat"),
            ] + mediaFields + [
                .output("caption", .string, "the media caption, if any"),
                operatorsChatField,
            ],
            example: """
                on: telegram.message
                steps:
                  - do: telegram.relay_to_operators
                    with:
                      from_chat_id: "{{ event.chat_id }}"
                      message_id: "{{ event.message_id }}"
                      header: "Вопрос от {{ event.from.first_name }} (id {{ event.from.id }})"
                """),
        TriggerSpec(
            name: "callback", summary: "A press on an inline keyboard button with callback data.",
            fields: [
                .output("data", .string, "the button's callback data"),
                userFields("who pressed it"),
                .output("message_id", .integer, "the message the button belongs to"),
                .output("chat_id", .integer, "the chat of that message"),
                .output("callback_id", .string, "answer it with telegram.answer_callback"),
                operatorsChatField,
            ],
            example: """
                on: telegram.callback
                steps:
                  - do: telegram.answer_callback
                    with: { callback_id: "{{ event.callback_id }}", text: "Принято" }
                """),
        TriggerSpec(
            name: "join_request", summary: "Someone asked to join a group through a join-request invite link.",
            fields: [
                .output("chat_id", .integer, "the group's chat id"),
                userFields("who asks to join"),
                .output("invite_link", .string, "the invite link used"),
                .output("invite_name", .string, "the link's name: 'm:<member id>' for links from send_invite/create_invite"),
                .output("date", .integer, "when the request was sent, Unix seconds"),
            ],
            example: """
                on: telegram.join_request
                steps:
                  - do: telegram.approve_join
                    if: "{{ event.invite_name != null }}"
                    with: { user: "{{ event.from.id }}", chat_id: "{{ event.chat_id }}" }
                """),
        TriggerSpec(
            name: "member", summary: "Someone joined, left or was banned from the group.",
            fields: [
                .output("chat_id", .integer, "the group's chat id"),
                .output("user", .object, "the member", fields: [
                    .output("id", .integer, "the user's Telegram id"),
                    .output("username", .string, "the @username without '@'"),
                    .output("first_name", .string, "the user's first name"),
                ]),
                .output("status", .choice(["joined", "left", "banned"]), "what happened"),
                .output("invite_link", .string, "the invite link used to join, if any"),
            ],
            example: """
                on: telegram.member
                if: "{{ event.status == 'joined' and event.invite_link != null }}"
                steps:
                  - do: telegram.revoke_invite
                    with: { invite_link: "{{ event.invite_link }}" }
                """),
        TriggerSpec(
            name: "operator_reply", summary: "An operator replied, in the operators' chat, to a relayed message.",
            fields: [
                .output("text", .string, "the reply's text (or caption)"),
                .output("command", .string, "the command a reply of one is, without '/' and '@bot' (\"close\"); empty otherwise"),
                .output("reply_to_message_id", .integer, "the operators' chat message replied to (relay_to_operators' operators_message_id)"),
                .output("reply_to_bot", .boolean, "whether that message was this bot's (a relay, a header, a notice) rather than a person's"),
                .output("chat_id", .integer, "the operators' chat (copy the reply to the client from here)"),
                userFields("the operator"),
                .output("message_id", .integer, "the reply's id in the operators' chat"),
            ] + mediaFields,
            example: """
                on: telegram.operator_reply
                steps:
                  - do: core.log
                    with: { message: "operator {{ event.from.id }} answered relayed message {{ event.reply_to_message_id }}" }
                """),
    ]
}
