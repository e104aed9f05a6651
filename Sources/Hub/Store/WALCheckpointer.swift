import CSQLite3
import Dispatch
import Synchronization

/// Checkpoints a SQLite database's write-ahead log off the commit path.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000 pages,
/// fsyncs included, while every other writer waits; with the group commit running inline that
/// stalled a cooperative thread and showed as a p99 spike. Instead the writer connection reports
/// the log's size after each commit, and past the threshold a PASSIVE checkpoint (which never
/// blocks the writer) runs on a thread and connection of its own.
final class WALCheckpointer: Sendable {
    /// SQLite's own default threshold, in pages.
    static let threshold = 1000

    private let queue = DispatchQueue(label: "hub.sqlite.checkpoint")
    private let running = Atomic<Bool>(false)
    /// The checkpointing connection, touched only on `queue`.
    private let holder: ConnectionBox

    init(connection: SQLiteConnection) {
        holder = ConnectionBox(connection)
    }

    /// Called by the writer after each commit with the log's size in frames (pages).
    func logGrew(to frames: Int) {
        guard frames >= Self.threshold, !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async {
            self.holder.connection?.checkpointPassive()
            self.running.store(false, ordering: .releasing)
        }
    }

    /// Waits for a checkpoint under way, then closes the connection.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.holder.connection?.close()
                self.holder.connection = nil
                continuation.resume()
            }
        }
    }
}

extension SQLiteConnection {
    /// Hands checkpointing to `checkpointer`: after each commit of this connection SQLite calls
    /// the hook (which also turns off its automatic checkpoint here). The checkpointer must
    /// outlive the connection.
    func checkpoint(with checkpointer: WALCheckpointer) {
        guard let db = handle else { return }
        sqlite3_wal_hook(db, { context, _, _, frames in
            if let context { Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().logGrew(to: Int(frames)) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Copies what it can of the log into the database without waiting for anyone.
    func checkpointPassive() {
        guard let db = handle else { return }
        sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
}
