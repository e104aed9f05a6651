import Flows

/// A Bot API `Update` and the trigger it raises, if any. Unknown keys are ignored: new ones
/// appear with every Bot API release.
struct TelegramUpdate: Sendable {
    let id: Int64
    let json: Value

    init?(_ json: Value) {
        guard let id = json["update_id"]?.telegramID else { return nil }
        self.id = id
        self.json = json
    }

    /// A group's move to a supergroup, from the service message in the new chat.
    var migration: (from: Int64, to: Int64)? {
        guard let message = json["message"], let from = message["migrate_from_chat_id"]?.telegramID,
              let to = message["chat"]?["id"]?.telegramID else { return nil }
        return (from, to)
    }

    /// The trigger name and event payload, or `nil` for updates no trigger covers
    /// (group chatter, edits, the bot's own membership).
    func event(groupID: Int64?, operatorsChatID: Int64?, botID: Int64? = nil) -> (trigger: String, payload: Value)? {
        if let message = json["message"], case .object = message {
            return Self.message(message, operatorsChatID: operatorsChatID, botID: botID)
        }
        if let query = json["callback_query"], case .object = query {
            return ("callback", [
                "data": query["data"] ?? "",
                "from": Self.user(query["from"]),
                "message_id": query["message"]?["message_id"] ?? .null,
                "chat_id": query["message"]?["chat"]?["id"] ?? .null,
                "callback_id": query["id"] ?? "",
                "operators_chat_id": operatorsChatID.map(Value.id) ?? .null,
            ])
        }
        if let request = json["chat_join_request"], case .object = request {
            return ("join_request", [
                "chat_id": request["chat"]?["id"] ?? .null,
                "from": Self.user(request["from"]),
                "invite_link": request["invite_link"]?["invite_link"] ?? .null,
                "invite_name": request["invite_link"]?["name"] ?? .null,
                "date": request["date"] ?? .null,
            ])
        }
        if let change = json["chat_member"], case .object = change {
            return Self.member(change, groupID: groupID)
        }
        return nil
    }

    private static func message(_ message: Value, operatorsChatID: Int64?, botID: Int64?) -> (trigger: String, payload: Value)? {
        let chatID = message["chat"]?["id"]?.telegramID
        let text = message["text"]?.stringValue ?? ""
        let media = Self.media(message)
        if let operatorsChatID, chatID == operatorsChatID {
            guard let replyTo = message["reply_to_message"]?["message_id"] else { return nil }
            return ("operator_reply", [
                "text": .string(message["text"]?.stringValue ?? message["caption"]?.stringValue ?? ""),
                // `/close@session_hub_bot` as `close`: in a group, clients add the bot's name.
                "command": .string(command(in: message)?.command ?? ""),
                "reply_to_message_id": replyTo,
                // This bot's: an anonymous admin posts as a bot too (@GroupAnonymousBot).
                "reply_to_bot": .bool(botID.map { message["reply_to_message"]?["from"]?["id"]?.telegramID == $0 }
                    ?? (message["reply_to_message"]?["from"]?["is_bot"]?.boolValue == true)),
                "chat_id": message["chat"]?["id"] ?? .null,
                "from": user(message["from"]),
                "message_id": message["message_id"] ?? .null,
                "has_media": .bool(media != nil),
                "file_id": media.map { .string($0.fileID) } ?? .null,
                "media_type": media.map { .string($0.type) } ?? .null,
            ])
        }
        guard message["chat"]?["type"]?.stringValue == "private" else { return nil }
        if let parsed = command(in: message) {
            return ("command", [
                "command": .string(parsed.command),
                "payload": .string(parsed.payload),
                "from": user(message["from"]),
                "chat_id": message["chat"]?["id"] ?? .null,
                "message_id": message["message_id"] ?? .null,
                "text": .string(text),
                "operators_chat_id": operatorsChatID.map(Value.id) ?? .null,
            ])
        }
        return ("message", [
            "text": .string(text),
            "from": user(message["from"]),
            "chat_id": message["chat"]?["id"] ?? .null,
            "message_id": message["message_id"] ?? .null,
            "has_media": .bool(media != nil),
            "media_type": media.map { .string($0.type) } ?? .null,
            "file_id": media.map { .string($0.fileID) } ?? .null,
            "caption": message["caption"] ?? .null,
            "operators_chat_id": operatorsChatID.map(Value.id) ?? .null,
        ])
    }

    /// `/start TOKEN` → ("start", "TOKEN"); `/help@hub_bot` → ("help", ""). A command is a
    /// `bot_command` entity at offset 0 (or, without entities, text starting with '/').
    static func command(in message: Value) -> (command: String, payload: String)? {
        guard let text = message["text"]?.stringValue, text.hasPrefix("/") else { return nil }
        if let entities = message["entities"]?.arrayValue,
           !entities.contains(where: { $0["type"]?.stringValue == "bot_command" && $0["offset"]?.intValue == 0 })
        {
            return nil
        }
        let head = text.dropFirst().prefix { !$0.isWhitespace }
        let name = head.prefix { $0 != "@" }
        guard !name.isEmpty else { return nil }
        let rest = text.dropFirst(1 + head.count).drop { $0.isWhitespace }
        var payload = String(rest)
        while payload.last?.isWhitespace == true { payload.removeLast() }
        return (String(name), payload)
    }

    /// Joined, left or banned, from a `chat_member` change in the group; `nil` for rights changes.
    private static func member(_ change: Value, groupID: Int64?) -> (trigger: String, payload: Value)? {
        let chatID = change["chat"]?["id"]?.telegramID
        if let groupID, chatID != groupID { return nil }
        let before = change["old_chat_member"] ?? .null, after = change["new_chat_member"] ?? .null
        let status: String
        switch (isMember(before), isMember(after)) {
        case (false, true): status = "joined"
        case (true, false): status = after["status"]?.stringValue == "kicked" ? "banned" : "left"
        default: return nil
        }
        return ("member", [
            "chat_id": change["chat"]?["id"] ?? .null,
            "user": user(after["user"]),
            "status": .string(status),
            "invite_link": change["invite_link"]?["invite_link"] ?? .null,
        ])
    }

    private static func isMember(_ member: Value) -> Bool {
        switch member["status"]?.stringValue {
        case "creator", "administrator", "member": true
        case "restricted": member["is_member"]?.boolValue ?? false
        default: false
        }
    }

    /// `{id, username, first_name}`, the user fields triggers expose.
    static func user(_ user: Value?) -> Value {
        [
            "id": user?["id"] ?? .null,
            "username": user?["username"] ?? .null,
            "first_name": user?["first_name"] ?? .null,
        ]
    }

    /// The attachment's kind and file id; for photos the largest size.
    static func media(_ message: Value) -> (type: String, fileID: String)? {
        if let sizes = message["photo"]?.arrayValue, let id = sizes.last?["file_id"]?.stringValue { return ("photo", id) }
        // An animation also carries a `document`; name it by what the user sees.
        for type in ["animation", "video", "video_note", "voice", "audio", "document", "sticker"] {
            if let id = message[type]?["file_id"]?.stringValue { return (type, id) }
        }
        return nil
    }
}
