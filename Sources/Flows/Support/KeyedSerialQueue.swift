/// Runs work for one key at a time, in the order it arrived; work for different keys runs at
/// once. For a check-then-act on an outside service that this process must not interleave
/// with itself (two runs making an invite link for the same member).
public actor KeyedSerialQueue {
    /// Per busy key, the callers waiting their turn; no entry when the key is idle.
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    public func run<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        if waiting[key] == nil {
            waiting[key] = []
        } else {
            await withCheckedContinuation { waiting[key, default: []].append($0) }
        }
        defer { handOver(key) }
        return try await body()
    }

    private func handOver(_ key: String) {
        guard var queue = waiting[key], !queue.isEmpty else {
            waiting[key] = nil
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue
        next.resume()
    }
}
