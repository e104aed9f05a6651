import Flows
import Synchronization

/// Stands in for the hub's intake in these tests: keeps every emitted event, answers
/// `.duplicate` for a (trigger, dedup key) it has seen, and can fail like a database that is down.
final class RecordingEventSink: EventSink {
    struct Unavailable: Error {}

    private struct State {
        var events: [IncomingEvent] = []
        var seen: Set<String> = []
        var duplicates = 0
        var failing = false
    }

    private let state = Mutex(State())

    /// Stored events, first emit first; duplicates are not stored again.
    var events: [IncomingEvent] { state.withLock { $0.events } }
    var duplicates: Int { state.withLock { $0.duplicates } }

    func events(_ trigger: String) -> [IncomingEvent] { events.filter { $0.trigger == trigger } }

    /// While true, `emit` throws and stores nothing.
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
        try state.withLock { state in
            if state.failing { throw Unavailable() }
            guard state.seen.insert("\(event.instance).\(event.trigger)|\(event.dedupKey)").inserted else {
                state.duplicates += 1
                return .duplicate
            }
            state.events.append(event)
            return .accepted(runs: 1)
        }
    }
}
