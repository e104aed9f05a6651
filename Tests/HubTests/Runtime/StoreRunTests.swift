import Flows
import Foundation
@testable import Hub
import Testing

/// The store's queue semantics, on both databases.
@Suite struct StoreRunTests {
    static func withStore(_ kind: TestDatabaseKind, _ body: (Store) async throws -> Void) async throws {
        try await TestDatabases.withURL(kind) { url in
            let store = try Store.open(url)
            try await store.migrate()
            do { try await body(store) } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }

    @Test("an event is stored once per dedup key, with its runs", arguments: TestDatabases.available)
    func dedup(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            let runs = [NewRun(flow: "a", flowVersion: "v1"), NewRun(flow: "b", flowVersion: "v1")]
            let first = try await store.storeEvent(source: "prodamus.paid", dedupKey: "1:success", payload: ["sum": "10.00"], runs: runs)
            let again = try await store.storeEvent(source: "prodamus.paid", dedupKey: "1:success", payload: ["sum": "99.00"], runs: runs)
            let other = try await store.storeEvent(source: "telegram.command", dedupKey: "1:success", payload: [:], runs: [])
            #expect(first?.count == 2)
            #expect(again == nil)
            #expect(other == [])
            let events = try await store.database.query("SELECT source, payload FROM hub_events ORDER BY source")
            #expect(events.map { $0["source"] } == ["prodamus.paid", "telegram.command"])
            #expect(events.first?["payload"] == .string("{\"sum\":\"10.00\"}"))
            #expect(try await store.runCounts() == ["queued": 2])
        }
    }

    @Test("runs of one order key start one after another, by position; other keys and unordered runs do not wait",
          arguments: TestDatabases.available)
    func orderedRuns(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            func event(_ key: String?, _ position: Int64, flow: String) async throws -> String {
                let order = key.map { EventOrder(key: $0, position: position) }
                return try #require(try await store.storeEvent(source: "telegram.message", dedupKey: "\(key ?? "-"):\(position)", payload: [:],
                                                              runs: [NewRun(flow: flow, flowVersion: "v", order: order)])?.first)
            }
            // Stored out of position order on purpose: the position decides, not the arrival.
            let second = try await event("chat:1", 11, flow: "a2")
            let first = try await event("chat:1", 10, flow: "a1")
            let third = try await event("chat:1", 12, flow: "a3")
            let otherChat = try await event("chat:2", 5, flow: "b1")
            let unordered = try await event(nil, 0, flow: "u")

            let round1 = try await store.claim(owner: "A", limit: 10, lease: .seconds(60))
            #expect(Set(round1.map(\.id)) == [first, otherChat, unordered])
            // While the first is running, a second worker gets nothing of that chat.
            #expect(try await store.claim(owner: "B", limit: 10, lease: .seconds(60)).isEmpty)
            try await store.finish(runID: first, owner: "A", status: .completed)
            #expect(try await store.claim(owner: "B", limit: 10, lease: .seconds(60)).map(\.id) == [second])
            // A dead-lettered run does not hold its chat up for ever.
            try await store.finish(runID: second, owner: "B", status: .failed, failedStep: "s", error: "gave up")
            #expect(try await store.claim(owner: "B", limit: 10, lease: .seconds(60)).map(\.id) == [third])
        }
    }

    @Test("a claimed run is held by one worker until its lease runs out", arguments: TestDatabases.available)
    func leases(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            _ = try await store.storeEvent(source: "x", dedupKey: "1", payload: [:], runs: [NewRun(flow: "f", flowVersion: "v")])
            let claimed = try await store.claim(owner: "A", limit: 10, lease: .seconds(2))
            #expect(claimed.count == 1)
            #expect(try await store.claim(owner: "B", limit: 10, lease: .seconds(60)).isEmpty)
            try await Task.sleep(for: .milliseconds(2200))
            // A stalled: B takes over, and A may no longer write.
            let taken = try await store.claim(owner: "B", limit: 10, lease: .seconds(60))
            try #require(taken.map(\.id) == claimed.map(\.id))
            await #expect(throws: HubError.self) {
                try await store.recordSteps(runID: claimed[0].id, owner: "A", lease: .seconds(60), [.finished("s", index: 0, result: 1, skipped: false)])
            }
            try await store.recordSteps(runID: taken[0].id, owner: "B", lease: .seconds(60), [.finished("s", index: 0, result: ["ok": true], skipped: false)])
            let state = try await store.state(of: taken[0])
            #expect(state.results == ["s": ["ok": true]])
        }
    }

    @Test("a dead-lettered run is re-played from its failed step", arguments: TestDatabases.available)
    func deadLetter(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            _ = try await store.storeEvent(source: "x", dedupKey: "1", payload: ["n": 1], runs: [NewRun(flow: "f", flowVersion: "v")])
            let run = try #require(try await store.claim(owner: "A", limit: 1, lease: .seconds(60)).first)
            try await store.recordSteps(runID: run.id, owner: "A", lease: .seconds(60), [.finished("one", index: 0, result: 1, skipped: false)])
            for _ in 0..<3 {
                try await store.recordSteps(runID: run.id, owner: "A", lease: .seconds(60), [.failed("two", index: 1, error: "boom [http-503]")])
            }
            try await store.finish(runID: run.id, owner: "A", status: .failed, failedStep: "two", error: "boom [http-503]")
            #expect(try await store.runs(status: "failed").map(\.failedStep) == ["two"])
            #expect(try await store.retry(runID: run.id))
            #expect(try await store.retry(runID: run.id) == false)
            let again = try #require(try await store.claim(owner: "B", limit: 1, lease: .seconds(60)).first)
            let state = try await store.state(of: again)
            #expect(state.results == ["one": 1])
            #expect(state.attempts["two"] == 0)
            #expect(state.event == ["n": 1])
        }
    }

    @Test("runs are listed newest first, filtered by flow, status or both", arguments: TestDatabases.available)
    func listing(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            for i in 0..<6 {
                _ = try await store.storeEvent(source: "x", dedupKey: "\(i)", payload: [:], runs: [NewRun(flow: i % 2 == 0 ? "even" : "odd", flowVersion: "v")])
                try await Task.sleep(for: .milliseconds(3))  // distinct creation times
            }
            let run = try #require(try await store.claim(owner: "A", limit: 1, lease: .seconds(60)).first)  // the oldest: "even", 0
            try await store.finish(runID: run.id, owner: "A", status: .failed, failedStep: "s", error: "boom")
            let all = try await store.runs(limit: 10)
            #expect(all.map(\.flow) == ["odd", "even", "odd", "even", "odd", "even"])
            #expect(all.map(\.createdAt) == all.map(\.createdAt).sorted(by: >))
            #expect(try await store.runs(limit: 2).map(\.id) == Array(all.prefix(2).map(\.id)))
            #expect(try await store.runs(flow: "even", limit: 10).map(\.id) == all.filter { $0.flow == "even" }.map(\.id))
            #expect(try await store.runs(status: "failed", limit: 10).map(\.id) == [run.id])
            #expect(try await store.runs(flow: "odd", status: "failed", limit: 10).isEmpty)
            #expect(try await store.runs(flow: "even", status: "queued", limit: 10).count == 2)
        }
    }

    @Test("concurrent workers claim each run exactly once", arguments: TestDatabases.available)
    func concurrentClaims(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            for i in 0..<200 {
                _ = try await store.storeEvent(source: "x", dedupKey: "\(i)", payload: [:], runs: [NewRun(flow: "f", flowVersion: "v")])
            }
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [String] = []
                        for _ in 0..<100 {
                            let batch = try await store.claim(owner: "w\(worker)", limit: 7, lease: .seconds(60))
                            if batch.isEmpty { break }
                            mine += batch.map(\.id)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claims.count == 200)
            #expect(Set(claims).count == 200)
        }
    }

    @Test("a named lease has one owner at a time", arguments: TestDatabases.available)
    func namedLease(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            #expect(try await store.acquireLease("telegram:1", owner: "A", for: .seconds(2)))
            #expect(try await store.acquireLease("telegram:1", owner: "B", for: .seconds(10)) == false)
            #expect(try await store.acquireLease("telegram:1", owner: "A", for: .seconds(2)))
            try await Task.sleep(for: .milliseconds(2200))
            #expect(try await store.acquireLease("telegram:1", owner: "B", for: .seconds(10)))
            #expect(try await store.acquireLease("telegram:1", owner: "A", for: .seconds(10)) == false)
        }
    }

    @Test("migrations are recorded and applied once", arguments: TestDatabases.available)
    func migrations(kind: TestDatabaseKind) async throws {
        try await Self.withStore(kind) { store in
            #expect(try await store.migrate() == [])
            let rows = try await store.database.query("SELECT component, version FROM hub_migrations WHERE component = 'hub'")
            #expect(rows.count == Migrations.hub.count)
        }
    }
}
