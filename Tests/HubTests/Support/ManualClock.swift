import Foundation
@testable import Hub
import Synchronization

/// A wall clock that moves only when the test says so; sleepers wake when it passes their time.
final class ManualClock: WallClock {
    private struct Sleeper {
        let until: Date
        let continuation: CheckedContinuation<Void, Error>
    }

    private let state: Mutex<(now: Date, sleepers: [UUID: Sleeper])>

    init(_ start: Date) { state = Mutex((start, [:])) }

    func now() -> Date { state.withLock { $0.now } }

    func sleep(until date: Date) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let ready = state.withLock { s -> Bool in
                    if date <= s.now { return true }
                    s.sleepers[id] = Sleeper(until: date, continuation: continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time to `date` and wakes every sleeper whose time has come.
    func set(_ date: Date) {
        let woken = state.withLock { s -> [Sleeper] in
            s.now = date
            let due = s.sleepers.filter { $0.value.until <= date }
            for id in due.keys { s.sleepers.removeValue(forKey: id) }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// How many tasks are asleep on this clock (a scheduler waiting for its next slot).
    var sleeping: Int { state.withLock { $0.sleepers.count } }
}
