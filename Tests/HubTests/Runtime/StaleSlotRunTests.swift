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

    @Test("a run's slot and progress decide whether it still runs", arguments: [
        (20 * 3600.0, false, "failed"),
        (20 * 3600.0, true, "completed"),  // its meeting was made: it goes on to post
        (60.0, false, "completed"),
    ])
    func staleSlot(age: TimeInterval, started: Bool, status: String) async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            let (_, worker) = try WorkerHarness.make(store, flows: [Self.flow], owner: "test:1:stale", capacity: 2, pollInterval: .milliseconds(20))
            let daily = try #require(worker.flows.flow(named: "daily"))
            // Whole minutes, as the scheduler's slots are.
            let slot = Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 - age) / 60).rounded(.down) * 60)
            let payload: Value = ["slot": .string(slot.formatted(.iso8601)), "timezone": "Europe/Moscow"]
            let runID = try #require(try await store.claimSlot(flow: daily, slot: Int64(slot.timeIntervalSince1970 * 1000), payload: payload))
            if started {
                try await store.database.execute(
                    "INSERT INTO hub_run_steps (run_id, step_id, step_index, status, attempts, result, updated_at) VALUES ($1, 'meeting', 0, 'completed', 0, $2, 0)",
                    [.string(runID), .string(#"{"values":{"link":"https://zoom.example/j/1"}}"#)])
            }
            let task = Task { try await worker.run() }
            try await RunHandoffTests.waitFor(store, [status: 1])
            task.cancel()
            _ = await task.result
            let run = try #require(try await store.runs(flow: "daily").first)
            let steps = try await store.database.query("SELECT step_id FROM hub_run_steps ORDER BY step_index").compactMap { $0["step_id"]?.stringValue }
            if status == "failed" {
                #expect(run.error == Self.pastGrace(slot))
                #expect(steps == [])
            } else {
                #expect(run.error == nil)
                #expect(steps == ["meeting", "post"])
            }
        }
    }
}
