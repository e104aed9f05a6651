import Flows
import Foundation

extension Worker {
    /// Why a scheduled run must not start now, or nil: its slot is older than the flow's grace (a
    /// run orphaned by a crash at 18:00 and resumed the next morning would post yesterday's link).
    /// Only a run that has done nothing yet: one with a step behind it finishes what it began. A
    /// failed try is nothing done, but a run still trying (its last try no longer ago than its
    /// longest retry delay) goes on: Zoom down at 18:00 and the hub down until morning is refused,
    /// Zoom down from 18:00 to 19:02 with the hub up is not. Only a run the schedule made: one
    /// queued by hand (`hub run`, "Run now") or re-played by an admin runs whatever its age.
    func pastGrace(_ run: ClaimedRun, flow: Flow, state: RunState) async throws -> String? {
        guard case .cron = flow.trigger, run.retries == 0, state.results.isEmpty,
              let origin = try await store.database.query("SELECT source, received_at FROM hub_events WHERE id = $1",
                                                          [.string(run.eventID)]).first,
              origin["source"]?.stringValue?.hasPrefix("cron:") == true,
              var since = origin["received_at"]?.millisValue
        else { return nil }
        var allowance = Self.pickUpAllowance
        if !state.attempts.isEmpty {
            let tried = try await store.database.query("SELECT MAX(updated_at) AS at FROM hub_run_steps WHERE run_id = $1", [.string(run.id)])
            since = max(since, tried.first?["at"]?.millisValue ?? since)
            allowance += Double(flow.steps.map(\.retry.maxDelay.milliseconds).max() ?? 0) / 1000
        }
        return Self.pastGrace(flow: flow, event: state.event, queuedAt: Date(timeIntervalSince1970: Double(since) / 1000), now: Date(),
                              allowance: allowance)
    }

    /// The rule itself: past its slot's grace, and queued longer ago than a worker takes to pick a
    /// run up. The scheduler takes a slot until its grace is over, and that run must not be refused
    /// for the moment it waited; but one orphaned since (the hub died) gets no second grace.
    static func pastGrace(flow: Flow, event: Value, queuedAt: Date, now: Date, allowance: TimeInterval = pickUpAllowance) -> String? {
        guard case .cron(_, let zone, let missed) = flow.trigger,
              let text = event["slot"]?.stringValue, let slot = try? Date(text, strategy: .iso8601) else { return nil }
        // As lenient as the scheduler, which runs a slot found within `onTime` whatever the grace.
        let grace = max(missed.grace.seconds, Scheduler.onTime)
        guard now.timeIntervalSince(slot) > grace, now.timeIntervalSince(queuedAt) > allowance else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "dd.MM HH:mm"
        return "the \(formatter.string(from: slot)) slot (\(zone.identifier)) is past its grace of \(Self.written(grace)): not run"
    }

    /// How long a run the scheduler queued at the end of its grace may wait for a worker.
    static let pickUpAllowance: TimeInterval = 300

    /// A length as a flow would write it: `1h`, `90m`, `45s`.
    private static func written(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds.rounded())
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where whole % size == 0 { return "\(whole / size)\(unit)" }
        return "\(whole)s"
    }
}
