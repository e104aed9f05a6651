import Flows
import Foundation

// getMe, getChat, members, invite links, join requests, bans, commands.
extension TelegramEmulator {
    func getMe(_ p: Params) -> MethodOutput {
        guard case .object(var me) = botUser else { return MethodOutput(result: botUser) }
        me["can_join_groups"] = true
        me["can_read_all_group_messages"] = false
        me["supports_inline_queries"] = false
        me["can_connect_to_business"] = false
        me["has_main_web_app"] = false
        return MethodOutput(result: .object(me))
    }

    /// The group, or "chat not found" (private chats have no members, links or bans).
    private func group(_ p: Params, _ s: inout State) throws -> Group {
        let chatID = try p.requireChatID()
        guard let group = s.groups[chatID] else {
            if chatID > 0, s.users[chatID] != nil { throw APIError.badRequest("method is available for supergroup and channel chats only") }
            throw APIError.chatNotFound
        }
        return group
    }

    func getChat(_ p: Params) throws -> MethodOutput {
        let chatID = try p.requireChatID()
        return try state.withLock { s in
            if let group = s.groups[chatID] {
                guard case .object(var info) = group.chatJSON else { throw APIError.chatNotFound }
                info["accent_color_id"] = 0
                info["max_reaction_count"] = 11
                // Telegram leaves out optional booleans that are false.
                if group.hasProtectedContent { info["has_protected_content"] = true }
                if let primary = group.primaryLink { info["invite_link"] = .string(primary) }
                info["permissions"] = [
                    "can_send_messages": true, "can_send_audios": true, "can_send_documents": true, "can_send_photos": true,
                    "can_send_videos": true, "can_send_video_notes": true, "can_send_voice_notes": true, "can_send_polls": true,
                    "can_send_other_messages": true, "can_add_web_page_previews": true, "can_change_info": false,
                    "can_invite_users": false, "can_pin_messages": false, "can_manage_topics": false,
                ]
                return MethodOutput(result: .object(info))
            }
            let chat = try target(chatID, &s)
            guard case .object(var info) = chat.json else { throw APIError.chatNotFound }
            info["accent_color_id"] = 0
            info["max_reaction_count"] = 11
            return MethodOutput(result: .object(info))
        }
    }

    func getChatMember(_ p: Params) throws -> MethodOutput {
        let userID = try p.requireUserID()
        return try state.withLock { s in
            let group = try group(p, &s)
            if userID == botID { return MethodOutput(result: botAdministrator) }
            guard let user = s.users[userID] else { throw APIError.badRequest("user not found") }
            if let until = group.banned[userID] { return MethodOutput(result: Self.member("kicked", user.json, untilDate: until)) }
            return MethodOutput(result: Self.member(group.members.contains(userID) ? "member" : "left", user.json))
        }
    }

    func getChatAdministrators(_ p: Params) throws -> MethodOutput {
        try state.withLock { s in
            _ = try group(p, &s)
            return MethodOutput(result: [botAdministrator])
        }
    }

    func getChatMemberCount(_ p: Params) throws -> MethodOutput {
        try state.withLock { s in
            let group = try group(p, &s)
            return MethodOutput(result: .number(Double(group.members.count + 1)))
        }
    }

    // MARK: Invite links

    static func newInviteLink() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        return "https://t.me/+" + String((0..<16).map { _ in alphabet.randomElement()! })
    }

    /// Reads and checks the optional fields shared by create and edit.
    private func linkFields(_ p: Params) throws -> (name: String?, expire: Int64?, limit: Int?, joinRequest: Bool) {
        let name = p.string("name").flatMap { $0.isEmpty ? nil : $0 }
        if let name, name.count > 32 { throw APIError.badRequest("invite link name is too long") }
        let expire = p.int64("expire_date").flatMap { $0 == 0 ? nil : $0 }
        if let expire, expire <= Self.now() { throw APIError.badRequest("EXPIRE_DATE_INVALID") }
        let limit = p.int("member_limit").flatMap { $0 == 0 ? nil : $0 }
        if let limit, !(1...99_999).contains(limit) { throw APIError.badRequest("member limit must be between 1 and 99999") }
        let joinRequest = p.bool("creates_join_request")
        if joinRequest && limit != nil {
            throw APIError.badRequest("member_limit can't be specified for links requiring administrator approval")
        }
        return (name, expire, limit, joinRequest)
    }

    func createChatInviteLink(_ p: Params) throws -> MethodOutput {
        let fields = try linkFields(p)
        return try state.withLock { s in
            let group = try group(p, &s)
            let link = EmulatedInviteLink(inviteLink: Self.newInviteLink(), chatID: group.id, creatorID: botID, name: fields.name,
                                          createsJoinRequest: fields.joinRequest, expireDate: fields.expire, memberLimit: fields.limit,
                                          isRevoked: false, joinedUserIDs: [], pendingUserIDs: [])
            s.links.append(link)
            return MethodOutput(result: linkJSON(link))
        }
    }

    private func linkIndex(_ p: Params, in group: Group, _ s: State) throws -> Int {
        guard let text = p.string("invite_link"), !text.isEmpty else { throw APIError.badRequest("invite_link is empty") }
        guard let index = s.links.firstIndex(where: { $0.inviteLink == text && $0.chatID == group.id }) else {
            throw APIError.badRequest("INVITE_HASH_EXPIRED")
        }
        return index
    }

    /// Like Telegram, an edit sets every optional field: the ones left out are cleared.
    func editChatInviteLink(_ p: Params) throws -> MethodOutput {
        let fields = try linkFields(p)
        return try state.withLock { s in
            let group = try group(p, &s)
            let index = try linkIndex(p, in: group, s)
            guard !s.links[index].isRevoked else { throw APIError.badRequest("INVITE_HASH_EXPIRED") }
            s.links[index].name = fields.name
            s.links[index].expireDate = fields.expire
            s.links[index].memberLimit = fields.limit
            s.links[index].createsJoinRequest = fields.joinRequest
            return MethodOutput(result: linkJSON(s.links[index]))
        }
    }

    func revokeChatInviteLink(_ p: Params) throws -> MethodOutput {
        try state.withLock { s in
            let group = try group(p, &s)
            let index = try linkIndex(p, in: group, s)
            s.links[index].isRevoked = true
            return MethodOutput(result: linkJSON(s.links[index]))
        }
    }

    func exportChatInviteLink(_ p: Params) throws -> MethodOutput {
        try state.withLock { s in
            let group = try group(p, &s)
            let link = Self.newInviteLink()
            s.groups[group.id]?.primaryLink = link
            return MethodOutput(result: .string(link))
        }
    }

    // MARK: Join requests and members

    func approveChatJoinRequest(_ p: Params) throws -> MethodOutput {
        let userID = try p.requireUserID()
        return try state.withLock { s in
            var group = try group(p, &s)
            guard let linkText = group.pending.removeValue(forKey: userID) else {
                if group.members.contains(userID) { throw APIError.badRequest("USER_ALREADY_PARTICIPANT") }
                throw APIError.badRequest("HIDE_REQUESTER_MISSING")
            }
            group.members.insert(userID)
            s.groups[group.id] = group
            var linkValue: Value?
            if let index = s.links.firstIndex(where: { $0.inviteLink == linkText }) {
                s.links[index].pendingUserIDs.removeAll { $0 == userID }
                s.links[index].joinedUserIDs.append(userID)
                linkValue = linkJSON(s.links[index])
            }
            if let user = s.users[userID] {
                let update = chatMemberUpdated(chat: group.chatJSON, from: user.json, old: Self.member("left", user.json),
                                               new: Self.member("member", user.json), inviteLink: linkValue, viaJoinRequest: linkValue == nil)
                _ = enqueue("chat_member", update, in: &s)
            }
            return MethodOutput(result: true)
        }
    }

    func declineChatJoinRequest(_ p: Params) throws -> MethodOutput {
        let userID = try p.requireUserID()
        return try state.withLock { s in
            let group = try group(p, &s)
            guard let linkText = s.groups[group.id]?.pending.removeValue(forKey: userID) else {
                throw APIError.badRequest("HIDE_REQUESTER_MISSING")
            }
            if let index = s.links.firstIndex(where: { $0.inviteLink == linkText }) {
                s.links[index].pendingUserIDs.removeAll { $0 == userID }
            }
            return MethodOutput(result: true)
        }
    }

    func banChatMember(_ p: Params) throws -> MethodOutput {
        let userID = try p.requireUserID()
        return try state.withLock { s in
            var group = try group(p, &s)
            if userID == botID { throw APIError.badRequest("can't remove chat owner") }
            // until_date under 30 s or over 366 days from now means forever (0).
            var until = p.int64("until_date") ?? 0
            let now = Self.now()
            if until < now + 30 || until > now + 366 * 86_400 { until = 0 }
            let wasMember = group.members.remove(userID) != nil
            group.banned[userID] = until
            group.pending[userID] = nil
            s.groups[group.id] = group
            if let user = s.users[userID] {
                let update = chatMemberUpdated(chat: group.chatJSON, from: botUser, old: Self.member(wasMember ? "member" : "left", user.json),
                                               new: Self.member("kicked", user.json, untilDate: until))
                _ = enqueue("chat_member", update, in: &s)
            }
            return MethodOutput(result: true)
        }
    }

    func unbanChatMember(_ p: Params) throws -> MethodOutput {
        let userID = try p.requireUserID()
        let onlyIfBanned = p.bool("only_if_banned")
        return try state.withLock { s in
            var group = try group(p, &s)
            if group.banned.removeValue(forKey: userID) != nil {
                s.groups[group.id] = group
                if let user = s.users[userID] {
                    let update = chatMemberUpdated(chat: group.chatJSON, from: botUser, old: Self.member("kicked", user.json, untilDate: 0),
                                                   new: Self.member("left", user.json))
                    _ = enqueue("chat_member", update, in: &s)
                }
            } else if group.members.contains(userID) && !onlyIfBanned {
                // Without only_if_banned, unban guarantees the user is not a member afterwards: a kick.
                group.members.remove(userID)
                s.groups[group.id] = group
                if let user = s.users[userID] {
                    let update = chatMemberUpdated(chat: group.chatJSON, from: botUser, old: Self.member("member", user.json),
                                                   new: Self.member("left", user.json))
                    _ = enqueue("chat_member", update, in: &s)
                }
            }
            return MethodOutput(result: true)
        }
    }

    // MARK: Commands

    func setMyCommands(_ p: Params) throws -> MethodOutput {
        guard case .array(let commands)? = p["commands"] else { throw APIError.badRequest("can't parse commands JSON array") }
        guard commands.count <= 100 else { throw APIError.badRequest("too many commands specified") }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789_")
        for command in commands {
            guard let name = command["command"]?.stringValue, (1...32).contains(name.count),
                  name.unicodeScalars.allSatisfy(allowed.contains)
            else { throw APIError.badRequest("BOT_COMMAND_INVALID") }
            guard let description = command["description"]?.stringValue, (1...256).contains(description.count) else {
                throw APIError.badRequest("command description is empty")
            }
        }
        state.withLock { s in s.commands = commands }
        return MethodOutput(result: true)
    }

    func getMyCommands(_ p: Params) -> MethodOutput {
        MethodOutput(result: .array(state.withLock { s in s.commands }))
    }

    func deleteMyCommands(_ p: Params) -> MethodOutput {
        state.withLock { s in s.commands = [] }
        return MethodOutput(result: true)
    }
}
