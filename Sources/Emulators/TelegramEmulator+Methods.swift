import Flows

extension TelegramEmulator {
    /// The implemented methods, keyed by lowercased name (Telegram matches names case-insensitively).
    static let methods: [String: MethodSpec] = {
        let specs: [MethodSpec] = [
            MethodSpec(name: "getMe") { bot, p in bot.getMe(p) },
            MethodSpec(name: "getUpdates") { bot, p in try await bot.getUpdates(p) },
            MethodSpec(name: "setWebhook") { bot, p in try bot.setWebhook(p) },
            MethodSpec(name: "deleteWebhook") { bot, p in bot.deleteWebhook(p) },
            MethodSpec(name: "getWebhookInfo") { bot, p in bot.getWebhookInfo(p) },
            MethodSpec(name: "sendMessage") { bot, p in try bot.sendMessage(p) },
            MethodSpec(name: "copyMessage") { bot, p in try bot.copyMessage(p) },
            MethodSpec(name: "forwardMessage") { bot, p in try bot.forwardMessage(p) },
            MethodSpec(name: "sendPhoto") { bot, p in try bot.sendPhoto(p) },
            MethodSpec(name: "sendDocument") { bot, p in try bot.sendDocument(p) },
            MethodSpec(name: "editMessageText") { bot, p in try bot.editMessageText(p) },
            MethodSpec(name: "pinChatMessage") { bot, p in try bot.pinChatMessage(p) },
            MethodSpec(name: "unpinChatMessage") { bot, p in try bot.unpinChatMessage(p) },
            MethodSpec(name: "deleteMessage") { bot, p in try bot.deleteMessage(p) },
            MethodSpec(name: "answerCallbackQuery") { bot, p in try bot.answerCallbackQuery(p) },
            MethodSpec(name: "getChat") { bot, p in try bot.getChat(p) },
            MethodSpec(name: "getChatMember") { bot, p in try bot.getChatMember(p) },
            MethodSpec(name: "getChatAdministrators") { bot, p in try bot.getChatAdministrators(p) },
            MethodSpec(name: "getChatMemberCount") { bot, p in try bot.getChatMemberCount(p) },
            MethodSpec(name: "createChatInviteLink") { bot, p in try bot.createChatInviteLink(p) },
            MethodSpec(name: "editChatInviteLink") { bot, p in try bot.editChatInviteLink(p) },
            MethodSpec(name: "revokeChatInviteLink") { bot, p in try bot.revokeChatInviteLink(p) },
            MethodSpec(name: "exportChatInviteLink") { bot, p in try bot.exportChatInviteLink(p) },
            MethodSpec(name: "approveChatJoinRequest") { bot, p in try bot.approveChatJoinRequest(p) },
            MethodSpec(name: "declineChatJoinRequest") { bot, p in try bot.declineChatJoinRequest(p) },
            MethodSpec(name: "banChatMember") { bot, p in try bot.banChatMember(p) },
            MethodSpec(name: "unbanChatMember") { bot, p in try bot.unbanChatMember(p) },
            MethodSpec(name: "setMyCommands") { bot, p in try bot.setMyCommands(p) },
            MethodSpec(name: "getMyCommands") { bot, p in bot.getMyCommands(p) },
            MethodSpec(name: "deleteMyCommands") { bot, p in bot.deleteMyCommands(p) },
        ]
        return Dictionary(uniqueKeysWithValues: specs.map { ($0.name.lowercased(), $0) })
    }()
}
