/// Paces outgoing messages to Telegram's published targets: about 30 per second overall,
/// one per second to a private chat, 20 per minute to a group. A caller over the limit is
/// suspended until its slot (never spins, never fails); slots are reserved in call order.
///
/// Each limit is a GCRA cell (a virtual-time token bucket): `spacing` between sends on
/// average, `burst` sends back to back. The clock is injected so tests can drive time.
actor TelegramRateLimiter<C: Clock> where C.Duration == Duration {
    /// One pacing rule.
    struct Limit: Sendable {
        var spacing: Duration
        var burst: Int
    }

    static var overall: Limit { Limit(spacing: .milliseconds(34), burst: 30) }
    /// With `allow_paid_broadcast` (paid in Telegram Stars per message) Telegram takes up to 1,000 a second.
    static var paidBroadcast: Limit { Limit(spacing: .milliseconds(1), burst: 100) }
    static var privateChat: Limit { Limit(spacing: .seconds(1), burst: 1) }
    /// 20 a minute, in any minute: a burst on top of that pace would put 22 into the first one.
    static var group: Limit { Limit(spacing: .seconds(3), burst: 1) }

    let clock: C
    let overall: Limit
    let privateChat: Limit
    let group: Limit
    /// Theoretical arrival time per cell; a cell at or before now is idle.
    private var overallTAT: C.Instant?
    private var chatTAT: [Int64: C.Instant] = [:]

    init(clock: C, overall: Limit = overall, privateChat: Limit = privateChat, group: Limit = group) {
        self.clock = clock
        self.overall = overall
        self.privateChat = privateChat
        self.group = group
    }

    /// Waits until a message to `chat` may go out.
    func acquire(chat: Int64) async throws {
        let slot = reserve(chat: chat, now: clock.now)
        if slot > clock.now { try await clock.sleep(until: slot, tolerance: nil) }
    }

    /// Reserves the earliest moment at or after `now` that a message to `chat` may be sent.
    /// Private chats have positive ids, groups and channels negative ones.
    func reserve(chat: Int64, now: C.Instant) -> C.Instant {
        let chatLimit = chat > 0 ? privateChat : group
        let start = max(Self.earliest(overallTAT, overall, now), Self.earliest(chatTAT[chat], chatLimit, now))
        // The overall cell is charged at `now`, not at the slot: one chat's wait must not
        // hold up messages to other chats.
        overallTAT = max(overallTAT ?? now, now).advanced(by: overall.spacing)
        chatTAT[chat] = max(chatTAT[chat] ?? start, start).advanced(by: chatLimit.spacing)
        if chatTAT.count > 10_000 { chatTAT = chatTAT.filter { $0.value > now } }
        return start
    }

    /// Telegram answered a send to `chat` with flood control: nothing more goes to that chat
    /// before `wait` has passed, so the runs sending there meanwhile wait instead of each
    /// collecting a 429 of its own.
    func hold(chat: Int64, for wait: Duration) {
        let chatLimit = chat > 0 ? privateChat : group
        // The cell's next free moment is its TAT less the burst allowance: make that moment `wait` from now.
        let tat = clock.now.advanced(by: wait).advanced(by: chatLimit.spacing * (chatLimit.burst - 1))
        chatTAT[chat] = max(chatTAT[chat] ?? tat, tat)
    }

    private static func earliest(_ tat: C.Instant?, _ limit: Limit, _ now: C.Instant) -> C.Instant {
        guard let tat else { return now }
        return max(now, tat.advanced(by: limit.spacing * -(limit.burst - 1)))
    }
}
