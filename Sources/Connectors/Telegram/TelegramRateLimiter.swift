/// Paces outgoing messages to Telegram's published targets: at most 30 in any second overall,
/// one a second to a private chat, 20 a minute to a group. A caller over the limit is
/// suspended until its slot (never spins, never fails); slots are reserved in call order.
///
/// Each send is placed at the earliest moment its chat allows (one spacing after that chat's
/// previous send) at which no window of `overall.window` would hold more than `overall.count`
/// sends, counting those already reserved for later. Both limits are charged at the moment the
/// message goes out, so a send deferred by its chat's limit neither holds up other chats nor
/// lands on top of their sends. The clock is injected so tests can drive time.
actor TelegramRateLimiter<C: Clock> where C.Duration == Duration {
    /// At most `count` sends in any `window`.
    struct Pace: Sendable {
        var count: Int
        var window: Duration
    }

    static var overall: Pace { Pace(count: 30, window: .seconds(1)) }
    /// With `allow_paid_broadcast` (paid in Telegram Stars per message) Telegram takes up to 1,000 a second.
    static var paidBroadcast: Pace { Pace(count: 1_000, window: .seconds(1)) }
    static var privateChat: Duration { .seconds(1) }
    /// 20 a minute, in any minute.
    static var group: Duration { .seconds(3) }

    let clock: C
    let overall: Pace
    let privateChat: Duration
    let group: Duration
    /// The overall sends within the last window and those reserved for later, in time order.
    private var sends: [C.Instant] = []
    /// The earliest moment each chat may get its next message; one at or before now is idle.
    private var chatNext: [Int64: C.Instant] = [:]

    init(clock: C, overall: Pace = overall, privateChat: Duration = privateChat, group: Duration = group) {
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
        sends.removeFirst(index(after: now.advanced(by: overall.window * -1)))
        let slot = overallSlot(notBefore: max(now, chatNext[chat] ?? now))
        sends.insert(slot, at: index(after: slot))
        chatNext[chat] = slot.advanced(by: chat > 0 ? privateChat : group)
        if chatNext.count > 10_000 { chatNext = chatNext.filter { $0.value > now } }
        return slot
    }

    /// Telegram answered a send to `chat` with flood control: nothing more goes to that chat
    /// before `wait` has passed, so the runs sending there meanwhile wait instead of each
    /// collecting a 429 of its own.
    func hold(chat: Int64, for wait: Duration) {
        let until = clock.now.advanced(by: wait)
        chatNext[chat] = max(chatNext[chat] ?? until, until)
    }

    /// The earliest moment at or after `start` at which one more send keeps every window to
    /// `overall.count` sends. Such a moment is `start` or one window after a reserved send
    /// (when that send leaves the window), so those are tried in order.
    private func overallSlot(notBefore start: C.Instant) -> C.Instant {
        var candidate = start
        var next = index(after: start.advanced(by: overall.window * -1))
        while !fits(candidate) {
            // Sends at the same moment give the same candidate: skip them.
            while next < sends.endIndex, sends[next].advanced(by: overall.window) <= candidate { next += 1 }
            guard next < sends.endIndex else { break }
            candidate = sends[next].advanced(by: overall.window)
        }
        return candidate
    }

    /// Whether a send at `time` keeps every run of `count + 1` consecutive sends at least a window apart.
    private func fits(_ time: C.Instant) -> Bool {
        let count = overall.count
        let at = index(after: time)
        // The sends with `time` among them: index `at` is the new one.
        func send(_ index: Int) -> C.Instant { index < at ? sends[index] : index == at ? time : sends[index - 1] }
        let first = max(0, at - count), last = min(at, sends.count - count)
        guard first <= last else { return true }
        return (first...last).allSatisfy { send($0).advanced(by: overall.window) <= send($0 + count) }
    }

    /// The position of the first send after `time` (binary search: a burst reserves hundreds ahead).
    private func index(after time: C.Instant) -> Int {
        var low = 0, high = sends.count
        while low < high {
            let middle = (low + high) / 2
            if sends[middle] > time { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
