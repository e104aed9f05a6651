import Foundation
import Synchronization

/// Wakes idle workers when new runs are queued, so they need not poll the database often.
/// Signals are not counted: one wake-up covers any number of new runs, since workers claim in batches.
final class WakeUp: Sendable {
    private enum Slot {
        /// Registered; the continuation arrives a moment later.
        case waiting(CheckedContinuation<Void, Never>?)
        case cancelled
    }

    private struct State {
        var pending = false
        var slots: [UUID: Slot] = [:]
    }

    private let state = Mutex(State())

    func signal() {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, slot) in s.slots {
                if case .waiting(let c?) = slot {
                    ready.append(c)
                    s.slots[id] = nil
                }
            }
            // Waiters still registering, or none at all: the next wait returns at once.
            if ready.isEmpty || !s.slots.isEmpty { s.pending = true }
            return ready
        }
        for c in ready { c.resume() }
    }

    /// Returns on the next signal (or at once if one came since the last wait), or after `timeout`.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        let id = UUID()
        state.withLock { $0.slots[id] = .waiting(nil) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { s -> Bool in
                    if case .cancelled? = s.slots[id] { s.slots[id] = nil; return true }
                    if s.pending { s.pending = false; s.slots[id] = nil; return true }
                    s.slots[id] = .waiting(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                switch s.slots[id] {
                case .waiting(let c?): s.slots[id] = nil; return c
                case .waiting(nil): s.slots[id] = .cancelled; return nil
                default: return nil
                }
            }
            waiter?.resume()
        }
    }
}
