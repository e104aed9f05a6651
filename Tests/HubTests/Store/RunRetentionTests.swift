import Flows
import Foundation
@testable import Hub
import Logging
import Testing

/// `HUB_KEEP_RUNS`: finished runs older than that go, with their steps; their events stay as
/// dedup records without their payload; nothing a run still needs is touched.
@Suite struct RunRetentionTests {
    /// Stores an event with one run per flow; the run of flow "later" is not due for an hour.
    static func event(_ store: Store, _ key: String, flows: [String] = ["f"]) async throws -> [String] {
        let runs = flows.map { NewRun(flow: $0, flowVersion: "v", notBefore: $0 == "later" ? Store.now() + 3_600_000 : nil) }
        return try #require(try await store.storeEvent(source: "test.paid", dedupKey: key, payload: ["order": .string(key)], runs: runs))
    }

    /// Claims the one due run, which must be `id`.
    static func claim(_ store: Store, _ id: String) async throws {
        let claimed = try await store.claim(owner: "A", limit: 10, lease: .seconds(60))
        #expect(claimed.map(\.id) == [id])
    }

    static func finish(_ store: Store, _ id: String, status: RunStatus = .completed) async throws {
        try await claim(store, id)
        let steps: [StepOutcome] = status == .failed
            ? [.failed("one", index: 0, error: "boom")]
            : [.finished("one", index: 0, result: ["ok": true], skipped: false), .finished("two", index: 1, result: .null, skipped: true)]
        try await store.finish(runID: id, owner: "A", status: status, failedStep: status == .failed ? "one" : nil,
                               error: status == .failed ? "boom" : nil, steps: steps)
    }

    @Test("old finished runs and their steps go; events stay as dedup keys; waiting, running and recent runs stay",
          arguments: TestDatabases.available)
    func prunesOldFinishedRuns(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let done = try await Self.event(store, "done")[0]
            try await Self.finish(store, done)
            let failed = try await Self.event(store, "failed")[0]
            try await Self.finish(store, failed, status: .failed)
            // One event, two flows: one run finished, the other waits (a retry an hour away).
            let shared = try await Self.event(store, "shared", flows: ["f", "later"])
            try await Self.finish(store, shared[0])
            let running = try await Self.event(store, "running")[0]
            try await Self.claim(store, running)
            let more = try await Self.event(store, "more")[0]
            try await Self.finish(store, more)
            try await Task.sleep(for: .milliseconds(5))
            let cutoff = Store.now()
            try await Task.sleep(for: .milliseconds(5))
            let recent = try await Self.event(store, "recent")[0]
            try await Self.finish(store, recent)

            // What connectors keep by idempotency key (`RUN-ID:STEP-ID`), and a Zoom slot's meeting.
            // `more` was created after `running`, which stays: records go by run, not by age.
            let keys = ["\(done):invite", "\(failed):send", "\(more):send", "\(more):send:2", "\(shared[1]):send", "\(running):send",
                        "\(recent):send"]
            for key in keys {
                try await store.database.execute("INSERT INTO telegram_effects (key, action, result, created_at) VALUES ($1, 'send_message', '{}', 0)",
                                                 [.string(key)])
            }
            for key in ["\(done):meeting", "slot:daily/meeting@1700000000000"] {
                try await store.database.execute("INSERT INTO zoom_meetings (key, meeting_id, result, created_at) VALUES ($1, 1, '{}', 0)", [.string(key)])
            }

            // Chunks of two: three transactions for the four old finished runs.
            #expect(try await store.pruneRuns(before: cutoff, chunk: 2) == PruneResult(runs: 4, events: 3, records: 5))
            // Only the records of runs still stored, and the slot's, stay.
            let effects = try await store.database.query("SELECT key FROM telegram_effects ORDER BY key").map { $0["key"]?.stringValue ?? "" }
            #expect(effects == keys.suffix(3).sorted())
            let meetings = try await store.database.query("SELECT key FROM zoom_meetings").map { $0["key"]?.stringValue ?? "" }
            #expect(meetings == ["slot:daily/meeting@1700000000000"])

            let runs = try await store.database.query("SELECT id, status FROM hub_runs ORDER BY id")
            #expect(runs.map { $0["id"]?.stringValue ?? "" } == [shared[1], running, recent].sorted())
            let steps = try await store.database.query("SELECT DISTINCT run_id FROM hub_run_steps")
            #expect(steps.map { $0["run_id"]?.stringValue ?? "" } == [recent])
            let events = try await store.database.query("SELECT dedup_key, payload FROM hub_events ORDER BY dedup_key")
            let payloads = Dictionary(uniqueKeysWithValues: events.map { ($0["dedup_key"]?.stringValue ?? "", $0["payload"]?.stringValue ?? "") })
            #expect(payloads == ["done": "null", "failed": "null", "more": "null", "shared": #"{"order":"shared"}"#,
                                 "running": #"{"order":"running"}"#, "recent": #"{"order":"recent"}"#])
            // A pruned failed run is gone for `hub runs retry` too.
            #expect(try await store.retry(runID: failed) == false)
            // A late redelivery of a pruned run's event is still a duplicate.
            #expect(try await store.storeEvent(source: "test.paid", dedupKey: "done", payload: [:], runs: [NewRun(flow: "f", flowVersion: "v")]) == nil)
            // The waiting run can still be resumed: its event is whole.
            let eventID = try await store.database.query("SELECT event_id FROM hub_runs WHERE id = $1", [.string(shared[1])]).first?["event_id"]
            let state = try await store.state(of: ClaimedRun(id: shared[1], flow: "later", flowVersion: "v", eventID: eventID?.stringValue ?? ""))
            #expect(state.event == ["order": "shared"])
            // Nothing more to do.
            #expect(try await store.pruneRuns(before: cutoff) == PruneResult(runs: 0, events: 0, records: 0))
        }
    }

    @Test("claimed schedule slots older than the cutoff go, except each flow's newest, which the scheduler counts from",
          arguments: TestDatabases.available)
    func prunesOldScheduleSlots(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let cutoff = Store.now()
            let hour: Int64 = 3_600_000
            // "daily" has two old slots and a recent one; "weekly" only old ones, one turned down by its `if:`.
            let slots: [(String, Int64)] = [("daily", cutoff - 48 * hour), ("daily", cutoff - 24 * hour), ("daily", cutoff + hour),
                                            ("weekly", cutoff - 14 * 24 * hour), ("weekly", cutoff - 7 * 24 * hour)]
            for (flow, slot) in slots {
                try await store.database.execute("INSERT INTO hub_schedule_slots (flow, slot, run_id, claimed_at) VALUES ($1, $2, NULL, $2)",
                                                 [.string(flow), .millis(slot)])
            }
            #expect(try await store.pruneRuns(before: cutoff) == PruneResult(runs: 0, events: 0, records: 0, slots: 3))
            let left = try await store.database.query("SELECT flow, slot FROM hub_schedule_slots ORDER BY flow, slot")
            #expect(left.map { "\($0["flow"]?.stringValue ?? "")@\($0["slot"]?.intValue ?? 0)" }
                == ["daily@\(cutoff + hour)", "weekly@\(cutoff - 7 * 24 * hour)"])
            #expect(try await store.lastSlot(flow: "weekly") == cutoff - 7 * 24 * hour)
            #expect(try await store.pruneRuns(before: cutoff) == PruneResult(runs: 0, events: 0, records: 0))
        }
    }

    @Test("a shutdown stops a long prune between chunks")
    func aCancelledPruneStopsBetweenChunks() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            for index in 0..<6 { try await Self.finish(store, try await Self.event(store, "old-\(index)")[0]) }
            try await Task.sleep(for: .milliseconds(5))
            let cutoff = Store.now()
            let pruning = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await store.pruneRuns(before: cutoff, chunk: 2)
            }
            #expect(try await pruning.value == PruneResult(runs: 2, events: 2, records: 0))
            #expect(try await store.pruneRuns(before: cutoff, chunk: 2) == PruneResult(runs: 4, events: 4, records: 0))
        }
    }

    @Test("HUB_KEEP_RUNS: a duration of at least 7 days, or forever")
    func keepSetting() throws {
        #expect(try HubSettings(environment: [:]).keepRuns == nil)
        #expect(try HubSettings(environment: ["HUB_KEEP_RUNS": "forever"]).keepRuns == nil)
        #expect(try HubSettings(environment: ["HUB_KEEP_RUNS": "90d"]).keepRuns == .seconds(90 * 86400))
        #expect(try HubSettings(environment: ["HUB_KEEP_RUNS": "168h"]).keepRuns == .seconds(7 * 86400))
        for bad in ["90", "6d", "ninety days"] {
            #expect(throws: HubError.self) { try HubSettings(environment: ["HUB_KEEP_RUNS": bad]) }
            do {
                _ = try HubSettings(environment: ["HUB_KEEP_RUNS": bad])
            } catch let error as HubError {
                #expect(error.message == "HUB_KEEP_RUNS must be a duration of at least 7 days (e.g. 90d, or 2160h) or 'forever', not '\(bad)'")
            }
        }
    }

    @Test("the pruner service prunes soon after start and then every interval")
    func prunerService() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            let first = try await Self.event(store, "first")[0]
            try await Self.finish(store, first)
            let pruner = RunPruner(store: store, keep: .milliseconds(1), interval: .milliseconds(20), logger: Logger(label: "test"))
            let task = Task { try await pruner.run() }
            defer { task.cancel() }
            #expect(try await Self.waitUntilGone(store, first))
            // A run finished later goes in a later pass.
            let second = try await Self.event(store, "second")[0]
            try await Self.finish(store, second)
            #expect(try await Self.waitUntilGone(store, second))
        }
    }

    /// Whether the run is deleted within 5 s.
    static func waitUntilGone(_ store: Store, _ id: String) async throws -> Bool {
        for _ in 0..<500 {
            if try await store.database.query("SELECT id FROM hub_runs WHERE id = $1", [.string(id)]).isEmpty { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
