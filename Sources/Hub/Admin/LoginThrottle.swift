import Synchronization

/// Counts failed sign-ins per login and per client address; after `limit` failures in a row
/// the key is locked for `lockout`. Kept in memory: a restart forgives, which is acceptable
/// next to 200,000-iteration hashes, and it keeps brute force off the database.
final class LoginThrottle: Sendable {
    private struct Entry {
        var failures = 0
        var lockedUntil: Int64 = 0
    }

    let limit: Int
    let lockoutMillis: Int64
    private let now: @Sendable () -> Int64
    private let entries = Mutex([String: Entry]())

    init(limit: Int = 5, lockoutMillis: Int64 = 60_000, now: @escaping @Sendable () -> Int64 = { Store.now() }) {
        self.limit = limit
        self.lockoutMillis = lockoutMillis
        self.now = now
    }

    /// Seconds until any of `keys` may try again; 0 when none is locked.
    func waitSeconds(_ keys: [String]) -> Int {
        let now = now()
        return entries.withLock { entries in
            let until = keys.compactMap { entries[$0]?.lockedUntil }.max() ?? 0
            return until > now ? Int((until - now + 999) / 1000) : 0
        }
    }

    func failed(_ keys: [String]) {
        let now = now()
        entries.withLock { entries in
            // Old entries go when the map grows, so a flood of made-up logins cannot exhaust memory.
            if entries.count > 10_000 { entries = entries.filter { $0.value.lockedUntil > now } }
            for key in keys {
                var entry = entries[key] ?? Entry()
                entry.failures += 1
                if entry.failures >= limit {
                    entry.lockedUntil = now + lockoutMillis
                    entry.failures = 0
                }
                entries[key] = entry
            }
        }
    }

    func succeeded(_ keys: [String]) {
        entries.withLock { entries in for key in keys { entries[key] = nil } }
    }
}
