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
        return entries.withLock { Self.secondsLocked(keys, in: $0, now: now) }
    }

    /// Seconds until the last lock of `keys` ends, rounded up; 0 when none is locked.
    private static func secondsLocked(_ keys: [String], in entries: [String: Entry], now: Int64) -> Int {
        let until = keys.compactMap { entries[$0]?.lockedUntil }.max() ?? 0
        return until > now ? Int((until - now + 999) / 1000) : 0
    }

    /// Takes an attempt for `keys` before the password is checked, counting it as a failure at
    /// once (a success clears it): checked first and counted after, attempts sent in parallel
    /// all passed the check while the first was still hashing. Returns the seconds to wait when
    /// a key is locked; the attempt is then not taken. At most `limit` attempts in a row pass.
    func attempt(_ keys: [String]) -> Int {
        let now = now()
        return entries.withLock { entries in
            let wait = Self.secondsLocked(keys, in: entries, now: now)
            if wait > 0 { return wait }
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
            return 0
        }
    }

    func succeeded(_ keys: [String]) {
        entries.withLock { entries in for key in keys { entries[key] = nil } }
    }
}
