import Flows
import Foundation

// The users' side of the conversation: what a Telegram client would do, turned into updates.
// Each returns the update_id it queued, or 0 when Telegram would create no update for the bot
// (the type is left out of its `allowed_updates`, the link is dead, the message is unknown, …).
extension TelegramEmulator {
    /// The user writes to the bot in private. `/start PAYLOAD` (a deep link) and other `/commands`
    /// carry a `bot_command` entity, as Telegram sends them. Writing also "presses Start", so the
    /// bot may message the user from now on.
    @discardableResult
    public func userSends(_ text: String, from user: EmulatedUser) async -> Int64 {
        var content: [String: Value] = ["text": .string(text)]
        if let entity = Self.commandEntity(text) { content["entities"] = [entity] }
        return userWrites(content, from: user)
    }

    /// The user sends a photo (by file id) to the bot in private, for relay tests.
    @discardableResult
    public func userSendsPhoto(fileID: String, caption: String? = nil, from user: EmulatedUser) async -> Int64 {
        var content: [String: Value] = ["photo": Self.photoSizes(fileID)]
        if let caption { content["caption"] = .string(caption) }
        return userWrites(content, from: user)
    }

    /// The user sends a file (a `document`, by file id) to the bot in private, for relay tests.
    @discardableResult
    public func userSendsDocument(fileID: String, fileName: String, caption: String? = nil, from user: EmulatedUser) async -> Int64 {
        var content: [String: Value] = [
            "document": ["file_id": .string(fileID), "file_unique_id": .string("BQAD\(fileID.utf8.count)"),
                         "file_name": .string(fileName), "mime_type": "application/pdf", "file_size": 20_480],
        ]
        if let caption { content["caption"] = .string(caption) }
        return userWrites(content, from: user)
    }

    /// A private message from the user with `content` (text, photo, …): stored, queued as an update,
    /// and the user counts as having pressed Start.
    private func userWrites(_ content: [String: Value], from user: EmulatedUser) -> Int64 {
        state.withLock { s in
            s.users[user.id] = user
            s.startedChats.insert(user.id)
            let messageID = s.nextMessageID(in: user.id)
            var message: [String: Value] = [
                "message_id": .number(Double(messageID)), "from": user.json, "chat": user.privateChatJSON,
                "date": .number(Double(Self.now())),
            ]
            message.merge(content) { _, new in new }
            s.messages[MessageKey(chatID: user.id, messageID: messageID)] = StoredMessage(json: .object(message), fromBot: false, protected: false)
            return enqueue("message", .object(message), in: &s)
        }
    }

    /// The user presses an inline button of a bot message. The message is looked up in `chatID`
    /// when given, else in the user's private chat, else in the chat where the bot last sent a
    /// message with that id and a button with this data (an operator pressing in the operators' chat).
    @discardableResult
    public func userPresses(callbackData: String, on messageID: Int64, inChat chatID: Int64? = nil, from user: EmulatedUser) async -> Int64 {
        state.withLock { s in
            s.users[user.id] = user
            let key: MessageKey? = {
                if let chatID { return MessageKey(chatID: chatID, messageID: messageID) }
                let own = MessageKey(chatID: user.id, messageID: messageID)
                if s.messages[own] != nil { return own }
                return s.sent.last(where: { $0.messageID == messageID && Self.hasButton(callbackData, in: $0.replyMarkup) })
                    .map { MessageKey(chatID: $0.chatID, messageID: $0.messageID) }
            }()
            guard let key, let message = s.messages[key] else { return 0 }
            let queryID = String(UInt64.random(in: 1_000_000_000_000...9_000_000_000_000_000))
            s.callbackQueries[queryID] = key
            let query: Value = [
                "id": .string(queryID), "from": user.json, "message": message.json,
                "chat_instance": .string(String(key.chatID &* 7919 &+ 13)), "data": .string(callbackData),
            ]
            return enqueue("callback_query", query, in: &s)
        }
    }

    /// The user opens an invite link of the group. A link that creates join requests yields a
    /// `chat_join_request`; any other valid link lets the user in at once (a `chat_member` update,
    /// sent only if the bot asked for `chat_member`). A revoked or expired link, a link whose
    /// `member_limit` is reached, a banned user or a current member get nothing.
    @discardableResult
    public func userRequestsToJoin(groupID: Int64, via inviteLink: String, from user: EmulatedUser) async -> Int64 {
        state.withLock { s in
            guard var group = s.groups[groupID],
                  let index = s.links.firstIndex(where: { $0.inviteLink == inviteLink && $0.chatID == groupID })
            else { return 0 }
            let link = s.links[index]
            guard !link.isRevoked, (link.expireDate ?? Int64.max) > Self.now(),
                  group.banned[user.id] == nil, !group.members.contains(user.id)
            else { return 0 }
            s.users[user.id] = user
            if link.createsJoinRequest {
                guard group.pending[user.id] == nil else { return 0 }
                group.pending[user.id] = link.inviteLink
                s.groups[groupID] = group
                s.links[index].pendingUserIDs.append(user.id)
                let request: Value = [
                    "chat": group.chatJSON, "from": user.json, "user_chat_id": .number(Double(user.id)),
                    "date": .number(Double(Self.now())), "invite_link": linkJSON(s.links[index]),
                ]
                return enqueue("chat_join_request", request, in: &s)
            }
            if let limit = link.memberLimit {
                // member_limit counts members who joined through the link and are still in the group.
                let current = link.joinedUserIDs.filter { group.members.contains($0) }.count
                guard current < limit else { return 0 }
            }
            group.members.insert(user.id)
            s.groups[groupID] = group
            s.links[index].joinedUserIDs.append(user.id)
            let update = chatMemberUpdated(chat: group.chatJSON, from: user.json, old: Self.member("left", user.json),
                                           new: Self.member("member", user.json), inviteLink: linkJSON(s.links[index]))
            return enqueue("chat_member", update, in: &s)
        }
    }

    /// The user leaves the group on their own (a `chat_member` update when the bot asked for them).
    @discardableResult
    public func userLeaves(groupID: Int64, user: EmulatedUser) async -> Int64 {
        state.withLock { s in
            guard let group = s.groups[groupID], group.members.contains(user.id) else { return 0 }
            s.groups[groupID]?.members.remove(user.id)
            let update = chatMemberUpdated(chat: group.chatJSON, from: user.json, old: Self.member("member", user.json),
                                           new: Self.member("left", user.json))
            return enqueue("chat_member", update, in: &s)
        }
    }

    /// The user blocks the bot: a `my_chat_member` update, and sends to them fail with 403.
    @discardableResult
    public func userBlocksBot(_ user: EmulatedUser) async -> Int64 {
        state.withLock { s in
            s.users[user.id] = user
            s.blockedBy.insert(user.id)
            let update = chatMemberUpdated(chat: user.privateChatJSON, from: user.json, old: Self.member("member", botUser),
                                           new: Self.member("kicked", botUser, untilDate: 0))
            return enqueue("my_chat_member", update, in: &s)
        }
    }

    /// An operator answers, in a group chat (the operators' chat), with a reply to a message there
    /// (typically one the bot forwarded or copied). The chat is created if the test did not add it.
    @discardableResult
    public func operatorReplies(inChat chatID: Int64, to messageID: Int64, text: String, from user: EmulatedUser) async -> Int64 {
        state.withLock { s in
            s.users[user.id] = user
            if s.groups[chatID] == nil { s.groups[chatID] = Group(id: chatID, title: "Operators", hasProtectedContent: false) }
            s.groups[chatID]?.members.insert(user.id)
            let group = s.groups[chatID]!
            let newID = s.nextMessageID(in: chatID)
            var message: [String: Value] = [
                "message_id": .number(Double(newID)), "from": user.json, "chat": group.chatJSON,
                "date": .number(Double(Self.now())), "text": .string(text),
            ]
            if let entity = Self.commandEntity(text) { message["entities"] = [entity] }
            if let original = s.messages[MessageKey(chatID: chatID, messageID: messageID)] {
                message["reply_to_message"] = Self.withoutReply(original.json)
            }
            s.messages[MessageKey(chatID: chatID, messageID: newID)] = StoredMessage(json: .object(message), fromBot: false, protected: false)
            return enqueue("message", .object(message), in: &s)
        }
    }

    // MARK: Object builders

    static func commandEntity(_ text: String) -> Value? {
        guard text.hasPrefix("/") else { return nil }
        let command = text.prefix { !$0.isWhitespace }
        guard command.count > 1 else { return nil }
        return ["type": "bot_command", "offset": 0, "length": .number(Double(command.utf16.count))]
    }

    static func photoSizes(_ fileID: String) -> Value {
        let unique = String(fileID.hashValue.magnitude % 1_000_000_000)
        return [
            ["file_id": .string(fileID), "file_unique_id": .string("AQAD\(unique)s"), "file_size": 1_432, "width": 90, "height": 90],
            ["file_id": .string(fileID), "file_unique_id": .string("AQAD\(unique)m"), "file_size": 48_211, "width": 800, "height": 800],
        ]
    }

    static func hasButton(_ data: String, in markup: Value?) -> Bool {
        guard let rows = markup?["inline_keyboard"]?.arrayValue else { return false }
        return rows.contains { row in row.arrayValue?.contains { $0["callback_data"]?.stringValue == data } ?? false }
    }

    /// A replied-to message is embedded without its own `reply_to_message`, as Telegram does.
    static func withoutReply(_ message: Value) -> Value {
        guard case .object(var o) = message else { return message }
        o["reply_to_message"] = nil
        return .object(o)
    }

    static func member(_ status: String, _ user: Value, untilDate: Int64? = nil) -> Value {
        var o: [String: Value] = ["status": .string(status), "user": user]
        if let untilDate { o["until_date"] = .number(Double(untilDate)) }
        if status == "restricted" { o["is_member"] = true }
        return .object(o)
    }

    var botAdministrator: Value {
        [
            "status": "administrator", "user": botUser, "can_be_edited": false, "is_anonymous": false,
            "can_manage_chat": true, "can_delete_messages": true, "can_manage_video_chats": true,
            "can_restrict_members": true, "can_promote_members": false, "can_change_info": true,
            "can_invite_users": true, "can_post_stories": false, "can_edit_stories": false,
            "can_delete_stories": false, "can_pin_messages": true, "can_manage_topics": false,
        ]
    }

    func chatMemberUpdated(chat: Value, from: Value, old: Value, new: Value, inviteLink: Value? = nil, viaJoinRequest: Bool = false) -> Value {
        var o: [String: Value] = [
            "chat": chat, "from": from, "date": .number(Double(Self.now())),
            "old_chat_member": old, "new_chat_member": new,
        ]
        if let inviteLink { o["invite_link"] = inviteLink }
        if viaJoinRequest { o["via_join_request"] = true }
        return .object(o)
    }

    /// The `ChatInviteLink` object (the bot sees its own links in full).
    func linkJSON(_ link: EmulatedInviteLink) -> Value {
        var o: [String: Value] = [
            "invite_link": .string(link.inviteLink), "creator": botUser,
            "creates_join_request": .bool(link.createsJoinRequest), "is_primary": false, "is_revoked": .bool(link.isRevoked),
        ]
        if let name = link.name { o["name"] = .string(name) }
        if let expire = link.expireDate { o["expire_date"] = .number(Double(expire)) }
        if let limit = link.memberLimit { o["member_limit"] = .number(Double(limit)) }
        if link.createsJoinRequest { o["pending_join_request_count"] = .number(Double(link.pendingUserIDs.count)) }
        return .object(o)
    }
}
