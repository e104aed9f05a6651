import Flows
import Foundation
@testable import Hub
import Testing

/// A scheduled run picked up long after its slot (orphaned by a crash, resumed the next morning)
/// does not post that slot's link late; one that already did steps finishes what it began.
@Suite(.timeLimit(.minutes(1))) struct StaleSlotRunTests {
    static let flow = """
        name: daily
        on: { cron: "0 18 * * *", timezone: Europe/Moscow }
        steps:
          - id: meeting
            do: core.set
            with: { values: { link: "https://zoom.example/j/1" } }
          - id: post
            do: core.set
            with: { values: { posted: "{{ meeting.values.link }}" } }
        """

    /// What the runs list shows for a run whose slot was `slot`.
    static func pastGrace(_ slot: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Moscow")
        formatter.dateFormat = "dd.MM HH:mm"
        return "the \(formatter.string(from: slot)) slot (Europe/Moscow) is past its grace of 1h: not run"
    }

    /// Told when a run fails for good.
    static let reporter = """
        name: reporter
        on: hub.run_failed
        steps:
          - do: core.log
            with: { message: "{{ event.error }}" }
        """

    /// How far a run got before it was orphaned.
    enum Progress: Sendable { case nothing, aStepDone, aFailedTry, aFailedTryJustNow }

    /// Age of the slot, progress, how long ago the run was queued, made by the schedule (else by hand), outcome.
    static let cases: [(TimeInterval, Progress, TimeInterval, Bool, String)] = [
        (20 * 3600.0, .nothing, 20 * 3600.0, true, "failed"),
        (20 * 3600.0, .aStepDone, 20 * 3600.0, true, "completed"),  // its meeting was made: it goes on to post
        // Zoom failed at 18:00, the hub was down until morning: a failed try is no progress.
        (20 * 3600.0, .aFailedTry, 20 * 3600.0, true, "failed"),
        // Caught up at 18:45, Zoom down until after 19:00: still trying, so it goes on past its grace.
        (3600.0 + 120, .aFailedTryJustNow, 900, true, "completed"),
        (60.0, .nothing, 60.0, true, "completed"),
        (3600.0 + 30, .nothing, 0, true, "completed"),  // taken by a catch-up at the end of its grace: not refused for the wait
        (2 * 3600.0 - 60, .nothing, 3600.0, true, "failed"),  // taken at the end of its grace, orphaned an hour: no second grace
        (20 * 3600.0, .nothing, 20 * 3600.0, false, "completed"),  // `hub run --event` with yesterday's slot: by hand, any age
    ]

    @Test("a run's slot, progress and origin decide whether it still runs", arguments: cases)
    func staleSlot(age: TimeInterval, progress: Progress, queuedAgo: TimeInterval, scheduled: Bool, status: String) async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            let (_, worker) = try WorkerHarness.make(store, flows: [Self.flow, Self.reporter], owner: "test:1:stale", capacity: 2,
                                                     pollInterval: .milliseconds(20))
            let daily = try #require(worker.flows.flow(named: "daily"))
            // Whole minutes, as the scheduler's slots are.
            let slot = Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 - age) / 60).rounded(.down) * 60)
            let slotMillis = Int64(slot.timeIntervalSince1970 * 1000)
            let payload: Value = ["slot": .string(slot.formatted(.iso8601)), "timezone": "Europe/Moscow"]
            let runID: String
            if scheduled {
                runID = try #require(try await store.claimSlot(flow: daily, slot: slotMillis, payload: payload))
            } else {
                runID = try #require(try await store.storeEvent(source: "manual:daily", dedupKey: "by-hand", payload: payload,
                                                                runs: [NewRun(flow: "daily", flowVersion: daily.version)])?.first)
            }
            try await store.database.execute("UPDATE hub_events SET received_at = $2 WHERE id = (SELECT event_id FROM hub_runs WHERE id = $1)",
                                             [.string(runID), .millis(Store.now() - Int64(queuedAgo * 1000))])
            switch progress {
            case .nothing: break
            case .aStepDone:
                try await store.database.execute(
                    "INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, updated_at) VALUES ($1, 'meeting', 0, 'completed', 0, $2, 0)",
                    [.string(runID), .string(#"{"values":{"link":"https://zoom.example/j/1"}}"#)])
            case .aFailedTry, .aFailedTryJustNow:
                try await store.database.execute(
                    "INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, error, updated_at) VALUES ($1, 'meeting', 0, 'failed', 1, 'zoom-503', $2)",
                    [.string(runID), .millis(progress == .aFailedTry ? 0 : Store.now() - 60_000)])
            }
            let task = Task { try await worker.run() }
            // A failed one is reported: the reporter's run completes too.
            try await RunHandoffTests.waitFor(store, status == "failed" ? ["failed": 1, "completed": 1] : [status: 1])
            task.cancel()
            _ = await task.result
            let run = try #require(try await store.runs(flow: "daily").first)
            let steps = try await store.database.query("SELECT step_id FROM hub_run_steps WHERE run_id = $1 ORDER BY step_index", [.string(runID)])
                .compactMap { $0["step_id"]?.stringValue }
            if status == "failed" {
                #expect(run.error == Self.pastGrace(slot))
                #expect(steps == (progress == .aFailedTry ? ["meeting"] : []))
                #expect(try await store.runs(flow: "reporter").map(\.status) == ["completed"])
            } else {
                #expect(run.error == nil)
                #expect(steps == ["meeting", "post"])
                if progress == .aFailedTryJustNow { #expect(run.status == "completed") }
            }
        }
    }
}
