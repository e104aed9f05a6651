import Foundation

/// Wall-clock time, injected so schedule tests drive time instead of sleeping.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Sleeps until `date` (returns early only by throwing on cancellation).
    func sleep(until date: Date) async throws
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }
    }
}
