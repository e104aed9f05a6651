import Flows
import Synchronization

/// Group commit for SQLite: transactions asked for at the same moment run one after another on
/// the writer connection inside a single `BEGIN IMMEDIATE` … `COMMIT`, each in a savepoint of its
/// own, so a body that throws rolls back only itself. A burst of small transactions (events, step
/// records, finished runs) then costs one commit and one write of each touched page instead of
/// one each. Every caller returns only after the commit that holds its work (persist, then
/// acknowledge); if that commit fails, every body in it fails with the error.
///
/// No thread of its own: the caller that finds the writer idle leads, runs the batch inline,
/// wakes the others and hands the lead to the next one waiting. Inline because a commit in WAL
/// mode takes one write and one fsync of the log (`synchronous=FULL`), about as long as the two
/// thread hops a dedicated thread costs per transaction on a disk with a write cache; the
/// occasional checkpoint or lock wait holds one cooperative thread for milliseconds.
final class SQLiteGroupCommit: Sendable {
    /// Most transactions in one commit; more wait for the next.
    static let limit = 256

    private struct State {
        var jobs: [any GroupJob] = []
        var leading = false
        var closed = false
    }

    private let state = Mutex(State())
    /// Only the leader touches it, and there is one leader at a time (`State.leading`);
    /// `close` waits until nobody leads.
    private let writer: ConnectionBox

    init(connection: SQLiteConnection) {
        writer = ConnectionBox(connection)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let job = Job(body: body)
        let lead = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            job.wake = continuation
            let turn = state.withLock { s -> Bool? in
                if s.closed { return nil }
                s.jobs.append(job)
                if s.leading { return false }
                s.leading = true
                return true
            }
            switch turn {
            case nil:
                job.result = .failure(ConnectionPool<SQLiteConnection>.closedError)
                continuation.resume(returning: false)
            case true?:
                continuation.resume(returning: true)
            case false?:
                break  // resumed by the leader: done, or leading the next batch
            }
        }
        if lead { commitBatch() }
        return try job.result!.get()
    }

    /// Lets queued transactions finish, then closes the writer connection.
    func close() async {
        state.withLock { $0.closed = true }
        // In a task of its own, so a cancelled caller waits instead of spinning.
        await Task { [self] in
            while state.withLock({ $0.leading || !$0.jobs.isEmpty }) { try? await Task.sleep(for: .milliseconds(1)) }
        }.value
        writer.connection?.close()
        writer.connection = nil
    }

    /// Commits the jobs waiting (this leader's first), wakes their callers and passes the lead on.
    private func commitBatch() {
        let jobs = state.withLock { s -> [any GroupJob] in
            let taken = Array(s.jobs.prefix(Self.limit))
            s.jobs.removeFirst(taken.count)
            return taken
        }
        let committed: Result<Void, any Error> = Result {
            guard let connection = writer.connection else { throw ConnectionPool<SQLiteConnection>.closedError }
            try connection.inTransaction { _ in
                for job in jobs { try job.run(in: connection) }
            }
        }
        for job in jobs { job.settle(committed) }
        let next = state.withLock { s -> (any GroupJob)? in
            guard let first = s.jobs.first else {
                s.leading = false
                return nil
            }
            return first
        }
        // The leader's own job is first in its batch and needs no waking.
        for job in jobs.dropFirst() { job.wake(lead: false) }
        next?.wake(lead: true)
    }
}

/// A connection that one party at a time uses, as its owner arranges (a leader, a serial queue).
/// `@unchecked Sendable` for that reason.
final class ConnectionBox: @unchecked Sendable {
    var connection: SQLiteConnection?
    init(_ connection: SQLiteConnection) { self.connection = connection }
}

/// One transaction waiting for its group's commit.
private protocol GroupJob: AnyObject, Sendable {
    /// Runs the body in a savepoint; throws only when the whole transaction is lost.
    func run(in connection: SQLiteConnection) throws
    /// Fixes the caller's result once the commit is known.
    func settle(_ commit: Result<Void, any Error>)
    func wake(lead: Bool)
}

/// `@unchecked Sendable`: `wake` is set before the job is queued; `result` is written by the
/// leader before it resumes the caller, which reads it only after that.
private final class Job<T: Sendable>: GroupJob, @unchecked Sendable {
    let body: @Sendable (any SQLConnection) throws -> T
    var wake: CheckedContinuation<Bool, Never>?
    var result: Result<T, any Error>?
    private var outcome: Result<T, any Error>?

    init(body: @escaping @Sendable (any SQLConnection) throws -> T) {
        self.body = body
    }

    func run(in connection: SQLiteConnection) throws {
        outcome = try connection.inSavepoint(body)
    }

    func settle(_ commit: Result<Void, any Error>) {
        switch commit {
        case .success: result = outcome ?? .failure(ConnectionPool<SQLiteConnection>.closedError)
        case .failure(let error): result = .failure(error)
        }
    }

    func wake(lead: Bool) {
        wake?.resume(returning: lead)
    }
}
