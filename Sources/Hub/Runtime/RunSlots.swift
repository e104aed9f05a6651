import Flows
import Synchronization

/// This hub's room for runs in flight, shared by the runs its worker claims from the store and
/// the fresh runs intake hands it directly.
///
/// A hand-off saves a fresh run the claim statement and the reload of its event: intake reserves
/// a slot, stores the run already leased to this hub (in the event's transaction), and passes the
/// event it has in memory. If the hub dies meanwhile, the run is `running` under a dead owner and
/// is resumed like any claimed run (orphan release at start-up, or when its lease runs out).
final class RunSlots: Sendable {
    /// Runs at once, claimed and handed together.
    let capacity: Int
    private let taken = Atomic<Int>(0)
    /// Set while queued runs may be waiting for a slot: the next slot freed wakes the worker.
    private let backlog = Atomic<Bool>(false)
    /// The worker while it accepts hand-offs.
    private let worker = Mutex<Worker?>(nil)
    let wakeUp: WakeUp

    init(capacity: Int, wakeUp: WakeUp) {
        self.capacity = capacity
        self.wakeUp = wakeUp
    }

    var free: Int { capacity - taken.load(ordering: .acquiring) }
    var inFlight: Int { taken.load(ordering: .acquiring) }

    /// The worker starts (or stops, with nil) taking hand-offs.
    func accept(_ worker: Worker?) {
        self.worker.withLock { $0 = worker }
    }

    /// Takes a slot for a fresh run, or returns false when the worker is full or not running
    /// (the run is then stored queued and claimed later).
    func reserve() -> Bool {
        guard worker.withLock({ $0 != nil }) else { return false }
        var current = taken.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, seen) = taken.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = seen
        }
        return false
    }

    /// Takes `count` slots for runs the worker claimed (it asked for at most `free`).
    func take(_ count: Int) {
        taken.add(count, ordering: .acquiringAndReleasing)
    }

    /// Gives a slot back: its run finished, or a reservation went unused.
    func release() {
        taken.subtract(1, ordering: .acquiringAndReleasing)
        if backlog.exchange(false, ordering: .acquiringAndReleasing) { wakeUp.signal() }
    }

    /// Queued runs may be waiting: wake the worker as soon as a slot frees.
    func markBacklog() {
        backlog.store(true, ordering: .releasing)
    }

    /// Starts a handed-off run on the worker, holding the slot reserved for it until it finishes.
    func start(_ run: ClaimedRun, _ state: RunState) {
        guard let worker = worker.withLock({ $0 }) else {
            // The worker stopped between reserve and start: the run stays leased and is resumed later.
            release()
            return
        }
        Task {
            await worker.execute(run, state: state)
            self.release()
        }
    }
}
