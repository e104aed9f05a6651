import Synchronization

/// Waits for work at most so long, without cancelling it.
public enum Deadline {
    /// `work`'s result, or nil when `limit` passed first. The work goes on either way and a late
    /// result is dropped: this suits writes a retry finds again (a stored event is then a duplicate),
    /// where cancelling a statement mid-way would only add a broken connection to the outage.
    public static func result<T: Sendable>(within limit: Duration, of work: @escaping @Sendable () async -> T) async -> T? {
        let answer = Answer<T?>()
        return await withCheckedContinuation { continuation in
            answer.waiting.withLock { $0 = continuation }
            let timer = Task {
                // Cancelled: the work answered first.
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                answer.give(nil)
            }
            Task {
                let value = await work()
                answer.give(value)
                timer.cancel()
            }
        }
    }

    /// The caller's continuation, resumed by whichever comes first.
    private final class Answer<T: Sendable>: Sendable {
        let waiting = Mutex<CheckedContinuation<T, Never>?>(nil)

        func give(_ value: T) {
            waiting.withLock { $0.take() }?.resume(returning: value)
        }
    }
}
