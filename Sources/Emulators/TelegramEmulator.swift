import Flows
import Foundation
import Hummingbird
import Synchronization

/// A local Telegram Bot API server for one bot: the real URLs (`/bot<token>/<method>`), envelopes,
/// errors, long polling, webhooks and 429s, with the group, users and join requests held in memory.
///
/// Tests and the sandbox play the users' side (`userSends`, `userPresses`, `userRequestsToJoin`,
/// `operatorReplies`) and assert on what the bot did (`sentMessages`, `calls`, `isMember`, …).
/// Serve `router()` with `EmulatorServer` and point the connector's Bot API base URL at it.
///
/// Deliberate relaxations, so it works on a test machine: a webhook URL may be plain `http://`
/// on any port, and webhook delivery gives up after a few quick retries (`setWebhookRetry`).
public final class TelegramEmulator: Sendable {
    /// The bot's token; requests with another token get 401.
    public let token: String
    public let botUsername: String
    public let botID: Int64

    let state: Mutex<State>

    /// Creates an emulator for the bot with this token. The bot's user id is the token's number,
    /// as on Telegram, unless given. Update ids start above `numbersFrom` + 500,000,000 and each
    /// chat's message ids above `numbersFrom`: Telegram never reuses either, and a hub that kept
    /// its database across emulators would take a reused update id for a duplicate and a reused
    /// message id in the operators' chat for an earlier client's message.
    public init(token: String, botUsername: String = "session_hub_bot", botID: Int64? = nil, numbersFrom: Int64 = 0) {
        self.token = token
        self.botUsername = botUsername
        self.botID = botID ?? Int64(token.prefix { $0.isNumber }) ?? 7000000001
        var state = State()
        state.nextUpdateID += numbersFrom
        state.firstMessageID = numbersFrom
        self.state = Mutex(state)
    }

    /// The private group the bot administers (or the operators' chat). Ids below -1000000000000
    /// are supergroups, as in Telegram.
    public func addGroup(id: Int64, title: String, hasProtectedContent: Bool) {
        state.withLock { s in
            if var group = s.groups[id] {
                group.title = title
                group.hasProtectedContent = hasProtectedContent
                s.groups[id] = group
            } else {
                s.groups[id] = Group(id: id, title: title, hasProtectedContent: hasProtectedContent)
            }
        }
    }

    /// Makes `user` a member of the group without any update, as if they were in it before the bot.
    public func addMember(_ user: EmulatedUser, to groupID: Int64) {
        state.withLock { s in
            s.users[user.id] = user
            s.groups[groupID]?.members.insert(user.id)
        }
    }

    // MARK: What the bot did

    /// Every message the bot put into any chat, in order.
    public var sentMessages: [SentMessage] { state.withLock { s in s.sent } }

    /// The messages after the first `start`: what a poller has not seen yet. Holding on to the
    /// whole record instead would make the emulator copy all of it on its next send.
    public func sentMessages(from start: Int) -> [SentMessage] {
        state.withLock { s in start < s.sent.count ? Array(s.sent[max(0, start)...]) : [] }
    }

    /// Every request the bot made, in order of completion.
    public var calls: [RecordedCall] { state.withLock { s in s.calls } }

    /// The calls of one method (matched case-insensitively).
    public func calls(of method: String) -> [RecordedCall] { calls.filter { $0.method == method } }

    /// The messages the bot put into one chat, in order.
    public func messages(to chatID: Int64) -> [SentMessage] { sentMessages.filter { $0.chatID == chatID } }

    /// Every invite link the bot created, in order, with its current state.
    public var inviteLinks: [EmulatedInviteLink] { state.withLock { s in s.links } }

    /// Whether the user is currently a member of the group.
    public func isMember(_ userID: Int64, of groupID: Int64) -> Bool {
        state.withLock { s in s.groups[groupID]?.members.contains(userID) ?? false }
    }

    /// Whether the user is banned from the group.
    public func isBanned(_ userID: Int64, from groupID: Int64) -> Bool {
        state.withLock { s in s.groups[groupID]?.banned[userID] != nil }
    }

    /// Whether the user has a join request waiting in the group.
    public func hasPendingJoinRequest(_ userID: Int64, in groupID: Int64) -> Bool {
        state.withLock { s in s.groups[groupID]?.pending[userID] != nil }
    }

    /// The bot message currently pinned in the chat, if the pinned message is the bot's.
    public func pinnedMessage(in chatID: Int64) -> SentMessage? {
        state.withLock { s in
            guard let id = s.pinned[chatID], let index = s.messages[MessageKey(chatID: chatID, messageID: id)]?.sentIndex else { return nil }
            return s.sent[index]
        }
    }

    /// The bot's answers to callback button presses, in order.
    public var callbackAnswers: [CallbackAnswer] { state.withLock { s in s.callbackAnswers } }

    /// Updates queued and not yet confirmed by getUpdates (or not yet delivered to the webhook).
    public var pendingUpdateCount: Int { state.withLock { s in s.queue.count } }

    // MARK: Faults on demand

    /// Fails the next `count` requests of `method` (any method when nil) with `status`, before
    /// they take effect. 429 answers carry `parameters.retry_after` and a `Retry-After` header.
    public func failNext(_ count: Int, method: String?, status: Int, retryAfter: Int? = nil, description: String? = nil) {
        guard count > 0 else { return }
        state.withLock { s in
            s.faults.append(Fault(remaining: count, method: method?.lowercased(), status: status,
                                  retryAfter: retryAfter ?? (status == 429 ? 1 : nil), description: description))
        }
    }

    /// Turns on flood control like Telegram's FAQ describes: more than `perChatPerSecond` messages to
    /// one chat within a second, more than `perGroupPerMinute` to one group within a minute, or more
    /// than `globalPerSecond` overall, is answered 429 with the seconds left. Nil turns a limit off.
    public func setRateLimit(perChatPerSecond: Int?, perGroupPerMinute: Int? = nil, globalPerSecond: Int? = nil) {
        state.withLock { s in
            s.rateLimit = RateLimit(perChatPerSecond: perChatPerSecond, perGroupPerMinute: perGroupPerMinute, globalPerSecond: globalPerSecond)
        }
    }

    /// How hard webhook delivery tries: `attempts` POSTs per update, waiting `initialBackoff`,
    /// then twice as long, … between them, before it gives the update up (as Telegram eventually does).
    public func setWebhookRetry(attempts: Int, initialBackoff: Duration) {
        state.withLock { s in
            s.webhookAttempts = max(1, attempts)
            s.webhookBackoff = initialBackoff
        }
    }

    /// Stops webhook delivery and ends a waiting long poll. Call it when a test is done.
    public func shutdown() async {
        let (task, waiters) = state.withLock { s in
            let task = s.webhookTask
            s.webhookTask = nil
            s.webhook = nil
            let waiters = s.pollWaiters
            s.pollWaiters = [:]
            s.currentPoll = nil
            s.activePolls = []
            return (task, waiters)
        }
        for waiter in waiters.values { waiter.resume(returning: .timeout) }
        task?.cancel()
        await task?.value
    }

    // MARK: Shared helpers

    var botUser: Value {
        .object(["id": .number(Double(botID)), "is_bot": true, "first_name": "Session Hub", "username": .string(botUsername)])
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}

extension TelegramEmulator {
    /// Everything the emulator knows, behind one lock.
    struct State {
        var users: [Int64: EmulatedUser] = [:]
        /// Users who pressed Start (wrote to the bot) and so can be messaged.
        var startedChats: Set<Int64> = []
        var blockedBy: Set<Int64> = []
        var groups: [Int64: Group] = [:]
        var messages: [MessageKey: StoredMessage] = [:]
        var lastMessageID: [Int64: Int64] = [:]
        /// Each chat's message ids count up from here.
        var firstMessageID: Int64 = 0
        var pinned: [Int64: Int64] = [:]
        var sent: [SentMessage] = []
        var calls: [RecordedCall] = []
        var links: [EmulatedInviteLink] = []
        var callbackQueries: [String: MessageKey] = [:]
        var callbackAnswers: [CallbackAnswer] = []
        var commands: [Value] = []

        // Updates and their receivers.
        var queue: [QueuedUpdate] = []
        var nextUpdateID: Int64 = 500_000_001
        /// The sticky `allowed_updates`; nil = the default set.
        var allowedUpdates: [String]? = nil
        var webhook: Webhook? = nil
        var lastWebhookError: (date: Int64, message: String)? = nil
        var webhookTask: Task<Void, Never>? = nil
        var webhookWaiter: CheckedContinuation<Void, Never>? = nil
        var webhookSignalled = false
        var webhookAttempts = 4
        var webhookBackoff: Duration = .milliseconds(200)
        var currentPoll: Int? = nil
        var nextPollID = 1
        var activePolls: Set<Int> = []
        var pollWaiters: [Int: CheckedContinuation<PollWake, Never>] = [:]
        var pollEarly: [Int: PollWake] = [:]

        // Faults.
        var faults: [Fault] = []
        var rateLimit = RateLimit()
        var sendTimes: [Int64: [ContinuousClock.Instant]] = [:]
        var globalSendTimes: [ContinuousClock.Instant] = []

        mutating func user(_ id: Int64) -> EmulatedUser? { users[id] }

        mutating func nextMessageID(in chatID: Int64) -> Int64 {
            let id = (lastMessageID[chatID] ?? firstMessageID) + 1
            lastMessageID[chatID] = id
            return id
        }
    }

    struct Group {
        var id: Int64
        var title: String
        var hasProtectedContent: Bool
        var members: Set<Int64> = []
        /// Banned user → until_date (0 = forever).
        var banned: [Int64: Int64] = [:]
        /// User → the invite link their join request came through.
        var pending: [Int64: String] = [:]
        var primaryLink: String? = nil

        var type: String { id < -1_000_000_000_000 ? "supergroup" : "group" }
        var chatJSON: Value { .object(["id": .number(Double(id)), "type": .string(type), "title": .string(title)]) }
    }

    struct MessageKey: Hashable {
        var chatID: Int64
        var messageID: Int64
    }

    /// Any message in any chat (the users' and the bot's), for replies, copies and forwards.
    struct StoredMessage {
        var json: Value
        var fromBot: Bool
        var protected: Bool
        /// Index into `sent` for the bot's own messages.
        var sentIndex: Int?
    }

    struct QueuedUpdate {
        var id: Int64
        var type: String
        var json: Value
    }

    struct Webhook {
        var url: String
        var secretToken: String?
        var maxConnections: Int
        var ipAddress: String?
        var setAt: ContinuousClock.Instant
    }

    enum PollWake: Sendable {
        case updates
        case timeout
        case conflict(String)
    }

    struct Fault {
        var remaining: Int
        var method: String?
        var status: Int
        var retryAfter: Int?
        var description: String?
    }

    struct RateLimit {
        var perChatPerSecond: Int? = nil
        var perGroupPerMinute: Int? = nil
        var globalPerSecond: Int? = nil
    }
}
