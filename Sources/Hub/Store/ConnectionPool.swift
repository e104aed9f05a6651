import Dispatch
import Flows
import Synchronization

/// What `ConnectionPool` needs from a blocking connection. Every call happens on the connection's own queue.
protocol PooledConnection: AnyObject, SendableMetatype {
    /// Makes the connection usable (reconnects a broken one); throws when it cannot.
    func prepareForUse() throws
    /// Undoes whatever a caller left behind, such as an open transaction, so the next caller starts clean.
    func cleanUpAfterUse()
    /// Releases the underlying handle; the connection is not used afterwards.
    func close()
}

/// A fixed set of blocking connections, each used by one caller at a time.
///
/// Every connection owns a serial `DispatchQueue`, so its blocking C calls run on a Dispatch worker thread and
/// never on Swift's cooperative pool; async callers suspend on a continuation meanwhile. Callers that find no
/// free connection suspend in a FIFO queue and are handed the next connection that is released.
final class ConnectionPool<Connection: PooledConnection>: Sendable {
    /// One connection and the queue that serialises everything done with it.
    /// `@unchecked Sendable` is sound because `connection` and `closed` are only touched on `queue`.
    private final class Slot: @unchecked Sendable {
        let queue: DispatchQueue
        var connection: Connection?
        var closed = false

        init(label: String, connection: Connection?) {
            queue = DispatchQueue(label: label)
            self.connection = connection
        }
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Int, any Error>
    }

    private struct State {
        var free: [Int]
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    private let slots: [Slot]
    private let state: Mutex<State>
    private let makeConnection: @Sendable () throws -> Connection

    /// The error callers get once the pool is closed.
    static var closedError: SQLError {
        SQLError(kind: .unavailable, code: "closed", message: "the database has been closed")
    }

    /// - Parameters:
    ///   - label: names the queues (shows up in debuggers and crash logs).
    ///   - size: the number of connections, at least 1.
    ///   - first: an already open connection for the first slot, so setup errors can surface synchronously.
    ///   - makeConnection: opens a connection; called lazily on the slot's queue.
    init(label: String, size: Int, first: Connection? = nil,
         makeConnection: @escaping @Sendable () throws -> Connection) {
        let size = max(1, size)
        slots = (0..<size).map { Slot(label: "\(label).\($0)", connection: $0 == 0 ? first : nil) }
        state = Mutex(State(free: Array((0..<size).reversed())))
        self.makeConnection = makeConnection
    }

    /// Runs `body` with a connection of its own on that connection's queue.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let index = try await acquire()
        defer { release(index) }
        let slot = slots[index]
        let makeConnection = makeConnection
        return try await withCheckedThrowingContinuation { continuation in
            slot.queue.async {
                continuation.resume(with: Result {
                    // A caller may have acquired the slot just before close() ran on this queue.
                    if slot.closed { throw Self.closedError }
                    let connection: Connection
                    if let existing = slot.connection {
                        connection = existing
                    } else {
                        connection = try makeConnection()
                        slot.connection = connection
                    }
                    try connection.prepareForUse()
                    defer { connection.cleanUpAfterUse() }
                    return try body(connection)
                })
            }
        }
    }

    /// Fails every waiting caller, waits for running work to finish, then closes all connections.
    func close() async {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        for slot in slots {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                slot.queue.async {
                    slot.closed = true
                    slot.connection?.close()
                    slot.connection = nil
                    continuation.resume()
                }
            }
        }
    }

    private func acquire() async throws -> Int {
        let id = state.withLock { state in
            defer { state.nextWaiterID &+= 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let outcome: Result<Int, any Error>? = state.withLock { state in
                    if state.closed { return .failure(Self.closedError) }
                    if let index = state.free.popLast() { return .success(index) }
                    // Checked under the lock so a cancellation that raced ahead of us is not missed.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let position = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: position)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release(_ index: Int) {
        let next = state.withLock { state -> Waiter? in
            if state.waiters.isEmpty {
                state.free.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume(returning: index)
    }
}
