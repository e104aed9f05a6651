import Flows

// The small value types the Telegram emulator hands to tests. They live in one
// `TelegramEmulator+…` file because the emulator owns only files of that name.

/// A Telegram user the test or the sandbox plays (a client, an operator).
public struct EmulatedUser: Sendable, Hashable {
    /// The user's Telegram id; also the id of their private chat with the bot.
    public var id: Int64
    public var firstName: String
    public var lastName: String?
    public var username: String?
    public var languageCode: String?

    public init(id: Int64, firstName: String, lastName: String? = nil, username: String? = nil, languageCode: String? = nil) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
    }

    /// The Bot API `User` object.
    var json: Value {
        var o: [String: Value] = ["id": .number(Double(id)), "is_bot": false, "first_name": .string(firstName)]
        if let lastName { o["last_name"] = .string(lastName) }
        if let username { o["username"] = .string(username) }
        if let languageCode { o["language_code"] = .string(languageCode) }
        return .object(o)
    }

    /// The short `Chat` object of the user's private chat with the bot.
    var privateChatJSON: Value {
        var o: [String: Value] = ["id": .number(Double(id)), "type": "private", "first_name": .string(firstName)]
        if let lastName { o["last_name"] = .string(lastName) }
        if let username { o["username"] = .string(username) }
        return .object(o)
    }
}

/// A Bot API method name. Telegram matches method names case-insensitively, so equality here
/// does too: `call.method == "sendMessage"` and `call.method == "sendmessage"` both hold.
public struct TelegramMethodName: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The canonical spelling when the method is known (`sendMessage`), else the name as requested.
    public let name: String

    public init(_ name: String) { self.name = name }
    public init(stringLiteral value: String) { self.name = value }

    public var description: String { name }

    public static func == (lhs: TelegramMethodName, rhs: TelegramMethodName) -> Bool {
        lhs.name.lowercased() == rhs.name.lowercased()
    }
    public static func == (lhs: TelegramMethodName, rhs: String) -> Bool { lhs.name.lowercased() == rhs.lowercased() }
    public static func == (lhs: String, rhs: TelegramMethodName) -> Bool { rhs == lhs }
    public static func != (lhs: TelegramMethodName, rhs: String) -> Bool { !(lhs == rhs) }

    public func hash(into hasher: inout Hasher) { hasher.combine(name.lowercased()) }
}

/// A message the bot put into a chat (sendMessage, copyMessage, forwardMessage, sendPhoto, …).
public struct SentMessage: Sendable, Hashable {
    public var chatID: Int64
    public var messageID: Int64
    /// The text, or a media message's caption.
    public var text: String?
    public var parseMode: String?
    public var protectContent: Bool
    public var replyMarkup: Value?
    public var replyToMessageID: Int64?
    /// The method that created it.
    public var method: TelegramMethodName
    /// `photo` / `document` file id for media messages.
    public var fileID: String?
    /// For copyMessage / forwardMessage: where the original was.
    public var fromChatID: Int64?
    public var sourceMessageID: Int64?
    public var linkPreviewOptions: Value?
    public var disableNotification: Bool
    /// Unix time of sending.
    public var date: Int64
    /// How many times editMessageText changed it.
    public var editCount: Int
}

/// One request the bot made, in arrival order of completion.
public struct RecordedCall: Sendable, Hashable {
    /// The method (compares case-insensitively; canonical spelling when known).
    public var method: TelegramMethodName
    /// The method name exactly as written in the URL.
    public var requestedName: String
    /// All parameters as one object; JSON-serialised object parameters of form requests are decoded.
    public var params: Value
    /// The HTTP status answered (equal to `error_code` on failures).
    public var status: Int
    /// `description` of a failure.
    public var errorDescription: String?
}

/// An invite link the bot created for a group.
public struct EmulatedInviteLink: Sendable, Hashable {
    public var inviteLink: String
    public var chatID: Int64
    public var creatorID: Int64
    public var name: String?
    public var createsJoinRequest: Bool
    public var expireDate: Int64?
    public var memberLimit: Int?
    public var isRevoked: Bool
    /// Users who joined the group through this link (directly or by an approved request).
    public var joinedUserIDs: [Int64]
    /// Users whose join requests through this link wait for approval.
    public var pendingUserIDs: [Int64]
}

/// The bot's answer to a callback button press.
public struct CallbackAnswer: Sendable, Hashable {
    public var callbackQueryID: String
    public var text: String?
    public var showAlert: Bool
    public var url: String?
}
