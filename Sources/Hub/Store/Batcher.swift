import Synchronization

/// Group commit one level up: calls made at the same moment are handled together, so a burst of
/// them costs one statement or one transaction instead of one each. Intake stores its events
/// this way on Postgres (on SQLite, `SQLiteGroupCommit` shares their commits already), and
/// workers finish their runs this way on both. Every caller still returns only after the batch
/// holding its items is done (persist, then acknowledge).
///
/// No background task: the first caller leads, hands everything queued up to then to `handle`,
/// answers the others, and passes the lead to the next caller still waiting (whose items then go
/// in the next batch, together with whatever arrived meanwhile).
final class Batcher<Item: Sendable, Output: Sendable>: Sendable {
    /// Handles a batch: one result per item, in order.
    typealias Handle = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private enum Turn: Sendable {
        case lead
        case done([Result<Output, any Error>])
    }

    /// A caller's items (handled in the same batch).
    private struct Waiter {
        let items: [Item]
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var leading = false
        var waiting: [Waiter] = []
    }

    /// Most items in one batch; more wait for the next one.
    let limit: Int
    private let handle: Handle
    private let state = Mutex(State())

    init(limit: Int, handle: @escaping Handle) {
        self.limit = limit
        self.handle = handle
    }

    func submit(_ item: Item) async throws -> Output {
        try await submit([item])[0].get()
    }

    /// Handles `items` in one batch with whatever else is waiting; one result per item.
    func submit(_ items: [Item]) async -> [Result<Output, any Error>] {
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
            // In a task of its own: cancelling the leader's task must not fail the items of the
            // others in its batch.
            let batch = items + others.flatMap(\.items)
            var results = await Task { [handle] in await handle(batch) }.value[...]
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
