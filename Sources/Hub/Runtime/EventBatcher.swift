import Flows
import Synchronization

/// Group commit for intake on Postgres: events stored at the same moment share one transaction,
/// so a burst of webhooks costs one round trip and one commit (one fsync) instead of one each.
/// (SQLite's transactions are group-committed by `SQLiteGroupCommit` already.) Every caller still
/// returns only after the transaction holding its event committed (persist, then acknowledge).
///
/// No background task: the first caller leads, commits everything queued up to then, answers
/// the others, and hands the lead to the next caller still waiting (whose event then goes in
/// the next transaction, together with whatever arrived meanwhile).
final class EventBatcher: Sendable {
    private enum Turn: Sendable {
        case lead
        case done([Result<[String]?, any Error>])
    }

    /// A caller's events (those of one delivery, stored in the same transaction).
    private struct Waiter {
        let items: [NewEvent]
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var leading = false
        var waiting: [Waiter] = []
    }

    let store: Store
    /// Most events in one transaction; more wait for the next one.
    let limit: Int
    private let state = Mutex(State())

    init(store: Store, limit: Int = 256) {
        self.store = store
        self.limit = limit
    }

    /// Stores the event and its runs; returns the run ids, or nil for a duplicate.
    func store(_ item: NewEvent) async throws -> [String]? {
        try await store([item])[0].get()
    }

    /// Stores events in one transaction with whatever else is waiting; one result per event.
    func store(_ items: [NewEvent]) async -> [Result<[String]?, any Error>] {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { s -> Bool in
                if s.leading {
                    s.waiting.append(Waiter(items: items, continuation: continuation))
                    return false
                }
                s.leading = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let results):
            return results
        case .lead:
            let others = state.withLock { s -> [Waiter] in
                var taken = 0
                var count = items.count
                while taken < s.waiting.count && count + s.waiting[taken].items.count <= limit {
                    count += s.waiting[taken].items.count
                    taken += 1
                }
                defer { s.waiting.removeFirst(taken) }
                return Array(s.waiting.prefix(taken))
            }
            var results = await store.storeEvents(items + others.flatMap(\.items))[...]
            let mine = Array(results.prefix(items.count))
            results = results.dropFirst(items.count)
            for waiter in others {
                waiter.continuation.resume(returning: .done(Array(results.prefix(waiter.items.count))))
                results = results.dropFirst(waiter.items.count)
            }
            let next = state.withLock { s -> Waiter? in
                guard !s.waiting.isEmpty else {
                    s.leading = false
                    return nil
                }
                return s.waiting.removeFirst()
            }
            next?.continuation.resume(returning: .lead)
            return mine
        }
    }
}
