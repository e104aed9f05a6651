import Flows
import Foundation
@testable import Hub
import Testing

/// Runs finishing at the same moment (one statement on Postgres): each gets its own outcome.
@Suite struct RunFinishTests {
    /// `count` runs claimed by worker A.
    static func claimed(_ store: Store, count: Int) async throws -> [ClaimedRun] {
        for i in 0..<count {
            _ = try await store.storeEvent(source: "x", dedupKey: "\(i)", payload: [:], runs: [NewRun(flow: "f", flowVersion: "v")])
        }
        let runs = try await store.claim(owner: "A", limit: count, lease: .seconds(60))
        try #require(runs.count == count)
        return runs
    }

    @Test("runs finishing at once: each its status and steps; a run another worker took is left alone", arguments: TestDatabases.available)
    func concurrentFinishes(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let runs = try await Self.claimed(store, count: 60)
            // Worker B took the first two (A's lease ran out): run 0 has steps to record, run 1 none.
            for run in runs.prefix(2) {
                try await store.database.execute("UPDATE hub_runs SET lease_owner = 'B' WHERE id = $1", [.string(run.id)])
            }
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for (i, run) in runs.enumerated() {
                    group.addTask {
                        let steps: [StepOutcome] = i % 2 == 0
                            ? [.finished("one", index: 0, result: ["i": .number(Double(i))], skipped: false), .finished("two", index: 1, result: .null, skipped: true)]
                            : []
                        do {
                            switch i % 3 {
                            case 0: try await store.finish(runID: run.id, owner: "A", status: .completed, steps: steps)
                            case 1: try await store.finish(runID: run.id, owner: "A", status: .failed, failedStep: "two", error: "boom", steps: steps)
                            default: try await store.finish(runID: run.id, owner: "A", status: .queued, notBefore: 4_000_000_000_000, steps: steps)
                            }
                            return (i, true)
                        } catch {
                            return (i, false)
                        }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            // Only the run with steps to record says its lease is lost.
            #expect(outcomes.filter { !$0.value }.map(\.key) == [0])
            let rows = try await store.database.query("SELECT id, status, lease_owner, failed_step, error, not_before, finished_at FROM hub_runs")
            let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0["id"]?.stringValue ?? "", $0) })
            for (i, run) in runs.enumerated() {
                let row = try #require(byID[run.id])
                if i < 2 {
                    #expect(row["status"]?.stringValue == "running" && row["lease_owner"]?.stringValue == "B")
                    continue
                }
                #expect(row["lease_owner"] == .null)
                switch i % 3 {
                case 0:
                    #expect(row["status"]?.stringValue == "completed" && row["finished_at"] != .null)
                case 1:
                    #expect(row["status"]?.stringValue == "failed" && row["failed_step"]?.stringValue == "two" && row["error"]?.stringValue == "boom")
                default:
                    #expect(row["status"]?.stringValue == "queued" && row["not_before"]?.intValue == 4_000_000_000_000 && row["finished_at"] == .null)
                }
            }
            let steps = try await store.database.query("SELECT run_id, step_id, status, result FROM hub_run_steps")
            let recorded = Dictionary(grouping: steps) { $0["run_id"]?.stringValue ?? "" }
            #expect(recorded.count == 29)  // the even runs from 2 to 58
            for (i, run) in runs.enumerated() where i >= 2 && i % 2 == 0 {
                let mine = recorded[run.id] ?? []
                #expect(Set(mine.compactMap { $0["step_id"]?.stringValue }) == ["one", "two"])
                #expect(mine.first { $0["step_id"]?.stringValue == "one" }?["result"]?.stringValue == #"{"i":\#(i)}"#)
                #expect(mine.first { $0["step_id"]?.stringValue == "two" }?["status"]?.stringValue == "skipped")
            }
        }
    }

    @Test("a batch whose statement fails finishes the good runs one by one", .enabled(if: TestDatabases.available.contains(.postgres)))
    func failingFinishDoesNotSinkTheBatch() async throws {
        try await StoreRunTests.withStore(.postgres) { store in
            let runs = try await Self.claimed(store, count: 3)
            // One step recorded twice in one upsert is refused ("cannot affect row a second time"):
            // that run's statement fails, and the whole batch's with it.
            let twice = [StepOutcome.failed("one", index: 0, error: "first"), StepOutcome.failed("one", index: 0, error: "second")]
            let finishes = runs.enumerated().map { i, run in
                RunFinish(runID: run.id, owner: "A", status: i == 1 ? .queued : .completed, notBefore: nil,
                          failedStep: nil, error: nil, steps: i == 1 ? twice : [])
            }
            let results = await Store.finishAll(finishes, store.database)
            #expect(results.count == 3)
            #expect((try? results[0].get()) == true)
            #expect(throws: (any Error).self) { try results[1].get() }
            #expect((try? results[2].get()) == true)
            let statuses = try await store.database.query("SELECT id, status FROM hub_runs")
            let byID = Dictionary(uniqueKeysWithValues: statuses.map { ($0["id"]?.stringValue ?? "", $0["status"]?.stringValue ?? "") })
            #expect(runs.map { byID[$0.id] } == ["completed", "running", "completed"])
        }
    }
}
