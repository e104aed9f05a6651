import Flows
import Foundation
import Logging
import ServiceLifecycle

/// Fires `cron` flows once per slot in their time zone. Several hubs on one database may run a
/// scheduler each: the slot's primary key lets exactly one of them create the run.
///
/// Missed slots: whenever slots passed unseen — the hub was down, the database away, the machine
/// suspended, the clock stepped forward — they are handled by the flow's `missed:` policy: by
/// default the latest one runs once if it is within the grace period (1 hour). After a restart,
/// and when a flow or its schedule first appears, that counts from the flow's last claimed slot;
/// a flow that never ran has no missed slots.
public final class Scheduler: Service {
    let store: Store
    let flows: FlowRegistry
    let wakeUp: WakeUp
    let clock: any WallClock
    let logger: Logger
    /// Re-reads the flows at least this often, so a reload's new schedules are picked up.
    let recheck: TimeInterval

    /// A slot found this soon after its time is on time, whatever the policy: the scheduler wakes
    /// at the slot, but a slow database or a retry after a failed claim may hold it a few seconds.
    static let onTime: TimeInterval = 60
    /// At most this many missed slots run at once, the newest (`missed: all`).
    static let mostAtOnce = 1000

    init(store: Store, flows: FlowRegistry, wakeUp: WakeUp, clock: any WallClock, recheck: TimeInterval = 30, logger: Logger) {
        self.store = store
        self.flows = flows
        self.wakeUp = wakeUp
        self.clock = clock
        self.recheck = recheck
        self.logger = logger
    }

    public func run() async throws {
        // Claiming a slot is one transaction, so stopping mid-sleep or mid-claim loses nothing.
        try await cancelWhenGracefulShutdown { try await self.loop() }
    }

    /// A flow's schedule as the scheduler tracks it. Not the flow's version: an edit elsewhere in
    /// the flow goes on from where the old one was; a new schedule or time zone, or a cron trigger
    /// that went away and came back, starts afresh from the flow's last claimed slot.
    private struct ScheduleKey: Hashable {
        let flow: String
        let schedule: CronSchedule
        let zone: TimeZone
    }

    private func loop() async throws {
        var checkedUpTo: [ScheduleKey: Date] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now()
            var wake = now.addingTimeInterval(recheck)
            // Only the schedules in force now are kept, so one that goes away is forgotten.
            var checked: [ScheduleKey: Date] = [:]
            for flow in flows.flows {
                guard case .cron(let schedule, let zone, let missed) = flow.trigger else { continue }
                let key = ScheduleKey(flow: flow.name, schedule: schedule, zone: zone)
                checked[key] = checkedUpTo[key]
                do {
                    let from: Date
                    if let seen = checkedUpTo[key] { from = seen } else { from = try await lastClaimed(flow) ?? now }
                    try await fireDue(flow, schedule: schedule, zone: zone, policy: missed, after: from, now: now)
                    // Marked only once it succeeded: a failed look is tried again from the same point.
                    checked[key] = max(from, now)
                    if let next = schedule.next(after: now, in: zone) { wake = min(wake, next) }
                } catch {
                    logger.warning("cannot fire schedule; will retry", metadata: ["flow.name": "\(flow.name)", "error": "\(error)"])
                    wake = min(wake, now.addingTimeInterval(5))
                }
            }
            checkedUpTo = checked
            do { try await clock.sleep(until: wake) } catch { break }
        }
    }

    private func lastClaimed(_ flow: Flow) async throws -> Date? {
        try await store.lastSlot(flow: flow.name).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// Fires the slots in (from, now] that the policy allows. A slot within grace (or on time) may
    /// run, the rest are skipped: so a gap never posts a link hours late nor queues a day of a
    /// minutely schedule, and `missed: skip` runs only slots found on time.
    private func fireDue(_ flow: Flow, schedule: CronSchedule, zone: TimeZone, policy: MissedSlots, after from: Date, now: Date) async throws {
        guard let first = schedule.next(after: from, in: zone), first <= now else { return }
        let (grace, most): (TimeInterval, Int) = switch policy {
        case .skip: (0, 1)
        case .latest(let grace): (grace.seconds, 1)
        case .all(let grace): (grace.seconds, Self.mostAtOnce)
        }
        let since = max(from, now.addingTimeInterval(-max(grace, Self.onTime)))
        // The flow's `if:` chooses among the slots within grace before the policy counts them: an
        // `if:` that turns down the newest leaves `latest` to the newest it takes.
        let candidates = schedule.latestSlots(after: since, through: now, in: zone, limit: Self.mostAtOnce)
        let weighed = candidates.map { (slot: $0, taken: admits(flow, Self.payload(slot: $0, zone: zone))) }
        let chosen = Set(weighed.filter { $0.taken == true }.map(\.slot).suffix(most))
        // A slot turned down is claimed all the same (without a run): no later look weighs it again.
        // One whose `if:` could not be evaluated is not: fixed, the flow may still run it within grace.
        let handled = weighed.filter { $0.taken == false || chosen.contains($0.slot) }
        for candidate in handled { try await fire(flow, slot: candidate.slot, zone: zone, startsRun: candidate.taken == true) }
        let passed = schedule.slots(after: from, through: now, in: zone, limit: handled.count + Self.mostAtOnce).count
        if passed > handled.count {
            let count = "\(passed - handled.count)\(passed == handled.count + Self.mostAtOnce ? " or more" : "")"
            logger.notice("skipped missed schedule slots", metadata: ["flow.name": "\(flow.name)", "count": "\(count)"])
        }
    }

    /// Claims the slot; only the hub that wins it creates the run (when `startsRun`).
    private func fire(_ flow: Flow, slot: Date, zone: TimeZone, startsRun: Bool) async throws {
        let millis = Int64((slot.timeIntervalSince1970 * 1000).rounded())
        let payload = Self.payload(slot: slot, zone: zone)
        if try await store.claimSlot(flow: flow, slot: millis, payload: payload, startsRun: startsRun) != nil { wakeUp.signal() }
    }

    /// The event a slot gives its run.
    static func payload(slot: Date, zone: TimeZone) -> Value {
        ["slot": .string(slot.formatted(.iso8601)), "timezone": .string(zone.identifier)]
    }

    /// Whether the flow's `if:` takes a slot; nil (logged) when it cannot be evaluated.
    private func admits(_ flow: Flow, _ payload: Value) -> Bool? {
        do { return try flow.admits(payload) } catch {
            logger.warning("the flow's if: cannot be evaluated for a slot; not run", metadata: ["flow.name": "\(flow.name)", "error": "\(error)"])
            return nil
        }
    }
}

extension Duration {
    var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
