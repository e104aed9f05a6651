import Flows
import Synchronization

/// Group commit for intake: events stored at the same moment share one transaction, so a burst
/// of webhooks costs one commit (one fsync on Postgres) instead of one each. Every caller still
/// returns only after the transaction holding its event committed (persist, then acknowledge).
///
/// No background task: the first caller leads, commits everything queued up to then, answers
/// the others, and hands the lead to the next caller still waiting (whose event then goes in
/// the next transaction, together with whatever arrived meanwhile).
final class EventBatcher: Sendable {
    /// An event to store, with the runs it starts.
    struct Item: Sendable {
        var source: String
        var dedupKey: String
        var payload: Value
        var runs: [NewRun]
    }

    private enum Turn: Sendable {
        case lead
        case done(Result<[String]?, any Error>)
    }

    private struct Waiter {
        let item: Item
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
    func store(_ item: Item) async throws -> [String]? {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { s -> Bool in
                if s.leading {
                    s.waiting.append(Waiter(item: item, continuation: continuation))
                    return false
                }
                s.leading = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let result):
            return try result.get()
        case .lead:
            let others = state.withLock { s -> [Waiter] in
                let taken = Array(s.waiting.prefix(limit - 1))
                s.waiting.removeFirst(taken.count)
                return taken
            }
            let results = await store.storeEvents([item] + others.map(\.item))
            for (waiter, result) in zip(others, results.dropFirst()) { waiter.continuation.resume(returning: .done(result)) }
            let next = state.withLock { s -> Waiter? in
                guard !s.waiting.isEmpty else {
                    s.leading = false
                    return nil
                }
                return s.waiting.removeFirst()
            }
            next?.continuation.resume(returning: .lead)
            return try results[0].get()
        }
    }
}
