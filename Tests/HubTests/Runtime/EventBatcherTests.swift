import Flows
import Foundation
@testable import Hub
import Synchronization
import Testing

/// Group commit of intake: concurrent events share transactions, yet each is stored once and
/// each caller learns its own outcome.
@Suite struct EventBatcherTests {
    @Test("concurrent events: each stored once with its run, duplicates told apart", arguments: TestDatabases.available)
    func concurrentEvents(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            let batcher = Batcher<NewEvent, [String]?>(limit: 16) { await store.storeEvents($0) }
            // 150 keys, each sent twice at once: 300 callers racing into shared transactions.
            let outcomes = try await withThrowingTaskGroup(of: (String, [String]?).self) { group in
                for i in 0..<300 {
                    group.addTask {
                        let key = "order-\(i % 150)"
                        let ids = try await batcher.submit(.init(source: "prodamus.paid", dedupKey: key, payload: ["n": .number(Double(i))],
                                                                runs: [NewRun(flow: "f", flowVersion: "v1")]))
                        return (key, ids)
                    }
                }
                var all: [(String, [String]?)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let stored = outcomes.filter { $0.1 != nil }
            #expect(stored.count == 150)
            #expect(Set(stored.map(\.0)).count == 150)
            #expect(stored.allSatisfy { $0.1?.count == 1 })
            let events = try await store.database.query("SELECT COUNT(*) AS n FROM hub_events").first?["n"]?.intValue
            #expect(events == 150)
            #expect(try await store.runCounts() == ["queued": 150])
        }
    }

    @Test("a batch whose transaction fails stores the good events one by one", arguments: TestDatabases.available)
    func failingEventDoesNotSinkTheBatch(kind: TestDatabaseKind) async throws {
        try await StoreRunTests.withStore(kind) { store in
            // A key too long for a btree index entry (about 2.7 KB, after compression) is refused by
            // Postgres; SQLite stores it. Either way the others must be stored.
            let tooLong = (0..<1000).map { _ in RecordID.make() }.joined()
            let results = await store.storeEvents([
                .init(source: "x", dedupKey: "a", payload: ["ok": true], runs: [NewRun(flow: "f", flowVersion: "v")]),
                .init(source: "x", dedupKey: tooLong, payload: ["ok": true], runs: [NewRun(flow: "f", flowVersion: "v")]),
                .init(source: "x", dedupKey: "c", payload: ["ok": true], runs: []),
            ])
            #expect(results.count == 3)
            #expect((try? results[0].get())??.count == 1)
            #expect((try? results[2].get()) ?? nil == [])
            let keys = try await store.database.query("SELECT dedup_key FROM hub_events ORDER BY dedup_key").compactMap { $0["dedup_key"]?.stringValue }
            #expect(keys.contains("a") && keys.contains("c"))
            if kind == .postgres { #expect(throws: (any Error).self) { try results[1].get() } }
        }
    }
}

/// The batching itself, with a stand-in for the database.
@Suite struct BatcherTests {
    /// Batches handed to the handler, each held until the test lets it go.
    final class Gate: Sendable {
        let held = Mutex<[(items: [String], release: CheckedContinuation<Void, Never>)]>([])
        var count: Int { held.withLock { $0.count } }
        func items(_ index: Int) -> [String] { held.withLock { $0[index].items } }
        func release(_ index: Int) { held.withLock { $0[index].release }.resume() }

        func waitFor(_ count: Int) async throws {
            for _ in 0..<1_000 where self.count < count { try await Task.sleep(for: .milliseconds(5)) }
            try #require(self.count >= count)
        }
    }

    @Test("cancelling a batch's leader does not fail the other callers in its batch")
    func leaderCancellation() async throws {
        let gate = Gate()
        let batcher = Batcher<String, Bool>(limit: 10) { items in
            await withCheckedContinuation { continuation in gate.held.withLock { $0.append((items, continuation)) } }
            // What a pool does when its caller is cancelled: it refuses.
            return items.map { _ in Task.isCancelled ? .failure(CancellationError()) : .success(true) }
        }
        let first = Task { try await batcher.submit("first") }
        try await gate.waitFor(1)
        // Two callers queue behind the first batch; the first of them leads the next one.
        let leader = Task { try await batcher.submit("leader") }
        try await Task.sleep(for: .milliseconds(50))
        let follower = Task { try await batcher.submit("follower") }
        try await Task.sleep(for: .milliseconds(50))
        gate.release(0)
        try await gate.waitFor(2)
        try #require(gate.items(1) == ["leader", "follower"])
        leader.cancel()
        gate.release(1)
        #expect(try await first.value)
        #expect(try await follower.value)
        #expect(try await leader.value)
    }
}
