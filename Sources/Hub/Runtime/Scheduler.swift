import Flows
import Foundation
import Logging
import ServiceLifecycle

/// Fires `cron` flows once per slot in their time zone. Several hubs on one database may run a
/// scheduler each: the slot's primary key lets exactly one of them create the run.
///
/// Missed slots (the hub was down): on start, and when a flow first appears, the slots after the
/// flow's last claimed slot are handled by its `missed:` policy — by default the latest one runs
/// once if it is within the grace period (1 hour). A flow that never ran has no missed slots.
public final class Scheduler: Service {
    let store: Store
    let flows: FlowRegistry
    let wakeUp: WakeUp
    let clock: any WallClock
    let logger: Logger
    /// Re-reads the flows at least this often, so a reload's new schedules are picked up.
    let recheck: TimeInterval

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

    private func loop() async throws {
        // By flow name, not version: an edited flow goes on from where the old one was (a slot
        // due between the edit and the next look still fires); a flow that went away starts
        // over with its missed-slot policy when it comes back.
        var checkedUpTo: [String: Date] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now()
            var wake = now.addingTimeInterval(recheck)
            let current = flows.flows
            checkedUpTo = checkedUpTo.filter { entry in current.contains { $0.name == entry.key } }
            for flow in current {
                guard case .cron(let schedule, let zone, let missed) = flow.trigger else { continue }
                let key = flow.name
                do {
                    if checkedUpTo[key] == nil {
                        // Marked only once it succeeded: a failed catch-up is tried again.
                        try await catchUp(flow, schedule: schedule, zone: zone, policy: missed, now: now)
                        checkedUpTo[key] = now
                    }
                    var from = checkedUpTo[key]!
                    while let slot = schedule.next(after: from, in: zone), slot <= now {
                        try await fire(flow, slot: slot, zone: zone)
                        from = slot
                    }
                    checkedUpTo[key] = max(from, now)
                    if let next = schedule.next(after: now, in: zone) { wake = min(wake, next) }
                } catch {
                    logger.warning("cannot fire schedule; will retry", metadata: ["flow.name": "\(flow.name)", "error": "\(error)"])
                    wake = min(wake, now.addingTimeInterval(5))
                }
            }
            do { try await clock.sleep(until: wake) } catch { break }
        }
    }

    private func catchUp(_ flow: Flow, schedule: CronSchedule, zone: TimeZone, policy: MissedSlots, now: Date) async throws {
        guard let last = try await store.lastSlot(flow: flow.name) else { return }
        let lastDate = Date(timeIntervalSince1970: Double(last) / 1000)
        // Only slots within the grace period may run, so look there rather than at the oldest
        // missed slots: after a day down, a minutely schedule has missed 1,440, and the latest counts.
        let grace: TimeInterval? = switch policy {
        case .skip: nil
        case .latest(let grace), .all(let grace): grace.seconds
        }
        let since = grace.map { max(lastDate, now.addingTimeInterval(-$0)) } ?? now
        let inGrace = schedule.slots(after: since, through: now, in: zone, limit: 1000)
        let chosen: [Date] = switch policy {
        case .skip: []
        case .latest: inGrace.suffix(1)
        case .all: inGrace
        }
        for slot in chosen { try await fire(flow, slot: slot, zone: zone) }
        let older = schedule.slots(after: lastDate, through: since, in: zone, limit: 1000)
        if !older.isEmpty || inGrace.count > chosen.count {
            let count = older.count + inGrace.count - chosen.count
            logger.notice("skipped missed schedule slots", metadata: ["flow.name": "\(flow.name)", "count": "\(count)\(older.count == 1000 ? " or more" : "")"])
        }
    }

    /// Claims the slot; only the hub that wins it creates the run.
    private func fire(_ flow: Flow, slot: Date, zone: TimeZone) async throws {
        let millis = Int64((slot.timeIntervalSince1970 * 1000).rounded())
        let payload: Value = ["slot": .string(slot.formatted(.iso8601)), "timezone": .string(zone.identifier)]
        if try await store.claimSlot(flow: flow, slot: millis, payload: payload) != nil { wakeUp.signal() }
    }
}

extension Duration {
    var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
