import Flows
import Foundation
@testable import Hub
import Testing

/// A run that fails for good is reported to `hub.run_failed` flows, even when storing the report
/// failed at first.
@Suite(.timeLimit(.minutes(1))) struct FailureReportTests {
    /// A step that fails for good (its zone is unknown at run time), and a flow that hears of it.
    static let flows = [
        """
        name: fails
        on: { http: /fails }
        steps:
          - id: when
            do: core.set
            with: { values: { at: "{{ now | date: 'HH:mm', event.body.zone }}" } }
        """,
        """
        name: hears
        on: hub.run_failed
        steps:
          - do: core.set
            with: { values: { failed: "{{ event.flow }}/{{ event.step }}" } }
        """,
    ]

    static func setUp(_ store: Store) throws -> (Intake, Worker) {
        try WorkerHarness.make(store, flows: Self.flows, owner: "test:1:report", capacity: 4, pollInterval: .milliseconds(20))
    }

    static func reports(_ store: Store) async throws -> Int {
        try await store.database.query("SELECT COUNT(*) AS n FROM hub_events WHERE source = 'hub.run_failed'").first?["n"]?.intValue ?? 0
    }

    @Test("a failed run is reported once, and the report's flow runs")
    func failureIsReported() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            let (intake, worker) = try Self.setUp(store)
            let task = Task { try await worker.run() }
            #expect(try await intake.emit(key: "http:/fails", payload: ["body": ["zone": "Nowhere/Else"]], dedupKey: "one") == .accepted(runs: 1))
            try await RunHandoffTests.waitFor(store, ["failed": 1, "completed": 1])
            task.cancel()
            #expect(try await Self.reports(store) == 1)
            let heard = try await store.database.query("SELECT result FROM hub_run_steps WHERE result LIKE '%fails/when%'")
            #expect(heard.count == 1)
        }
    }

    @Test("when storing the report fails, the run is not marked failed until the report is stored")
    func reportIsNotLost() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            // The database refuses the report for now.
            try await store.database.execute("""
                CREATE TRIGGER refuse_reports BEFORE INSERT ON hub_events WHEN NEW.source = 'hub.run_failed'
                BEGIN SELECT RAISE(ABORT, 'reports refused for the test'); END
                """)
            let (intake, worker) = try Self.setUp(store)
            let task = Task { try await worker.run() }
            #expect(try await intake.emit(key: "http:/fails", payload: ["body": ["zone": "Nowhere/Else"]], dedupKey: "one") == .accepted(runs: 1))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.reports(store) == 0)
            #expect(try await store.runCounts()["failed"] == nil)
            // The database takes reports again: the run is tried again (after 5 s), reported, and failed.
            try await store.database.execute("DROP TRIGGER refuse_reports")
            for _ in 0..<200 where try await store.runCounts() != ["failed": 1, "completed": 1] { try await Task.sleep(for: .milliseconds(50)) }
            task.cancel()
            #expect(try await store.runCounts() == ["failed": 1, "completed": 1])
            #expect(try await Self.reports(store) == 1)
        }
    }

    @Test("a report stored before marking the run failed went wrong is not made again; a failure after a re-play is a new one")
    func reportIsMadeOncePerFailure() async throws {
        try await StoreRunTests.withStore(.sqlite) { store in
            // The run cannot be marked failed for now; the report itself goes through.
            try await store.database.execute("""
                CREATE TRIGGER refuse_failing BEFORE UPDATE ON hub_runs WHEN NEW.status = 'failed'
                BEGIN SELECT RAISE(ABORT, 'failing refused for the test'); END
                """)
            let (intake, worker) = try Self.setUp(store)
            let task = Task { try await worker.run() }
            #expect(try await intake.emit(key: "http:/fails", payload: ["body": ["zone": "Nowhere/Else"]], dedupKey: "one") == .accepted(runs: 1))
            for _ in 0..<100 where try await Self.reports(store) == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await store.runCounts()["failed"] == nil)
            // Marking works again: the run fails again after 5 s, and its report is the one already made.
            try await store.database.execute("DROP TRIGGER refuse_failing")
            for _ in 0..<200 where try await store.runCounts()["failed"] == nil { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await store.runCounts() == ["failed": 1, "completed": 1])
            #expect(try await Self.reports(store) == 1)
            // An admin re-plays it and it fails again: that is reported.
            let failed = try await store.database.query("SELECT id FROM hub_runs WHERE status = 'failed'").first?["id"]?.text ?? ""
            #expect(try await store.retry(runID: failed))
            for _ in 0..<200 where try await store.runCounts() != ["failed": 1, "completed": 2] { try await Task.sleep(for: .milliseconds(50)) }
            task.cancel()
            #expect(try await store.runCounts() == ["failed": 1, "completed": 2])
            #expect(try await Self.reports(store) == 2)
        }
    }
}
