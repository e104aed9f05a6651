import CSQLite3
import Dispatch
import Synchronization

/// Checkpoints a SQLite database's write-ahead log off the commit path.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000 pages,
/// fsyncs included, while every other writer waits; with the group commit running inline that
/// stalled a cooperative thread and showed as a p99 spike. Instead the writer connection reports
/// the log's size after each commit, and past the threshold a PASSIVE checkpoint (which never
/// blocks the writer) runs on a thread and connection of its own, then again each time the log
/// has grown by another `spacing`.
///
/// Under steady writes those checkpoints never finish the log: frames keep arriving while they
/// copy, and SQLite starts the log over only once every frame is copied. So past `limit` the
/// writer checkpoints itself, right after its commit, copying what the background left; the
/// next transaction then starts the log over. (Starting a background checkpoint after every
/// commit instead ran hundreds a second, two `fdatasync`s each, and the log still grew.)
final class WALCheckpointer: Sendable {
    /// SQLite's own default threshold, in pages.
    static let threshold = 1000
    /// Growth of the log, in pages, between background checkpoints: often enough that the log
    /// mostly starts over without the writer's help (flat out, a quarter of the threshold kept up
    /// with starting one after every commit in three alternating runs), rarely enough to spare
    /// the syncs.
    static let spacing = threshold / 4
    /// The log's size, in pages, past which the writer catches up itself.
    static let limit = 4 * threshold

    private let queue = DispatchQueue(label: "hub.sqlite.checkpoint")
    private let running = Atomic<Bool>(false)
    /// Log sizes at which the next background checkpoint starts and the writer next catches up,
    /// and the log's size after the last commit.
    private let nextAt = Atomic<Int>(WALCheckpointer.threshold)
    private let nextCatchUpAt = Atomic<Int>(WALCheckpointer.limit)
    private let lastFrames = Atomic<Int>(0)
    /// The checkpointing connection, touched only on `queue`.
    private let holder: ConnectionBox

    init(connection: SQLiteConnection) {
        holder = ConnectionBox(connection)
    }

    /// Called by the writer after each commit with the log's size in frames (pages), on the
    /// writer's connection `writer`.
    func logGrew(to frames: Int, writer: OpaquePointer) {
        // Smaller than after the last commit: the log started over.
        if frames < lastFrames.exchange(frames, ordering: .relaxed) {
            nextAt.store(Self.threshold, ordering: .relaxed)
            nextCatchUpAt.store(Self.limit, ordering: .relaxed)
        }
        if frames >= nextCatchUpAt.load(ordering: .relaxed) {
            // A background checkpoint holds the checkpoint lock: try again after the next commit
            // (only this writer starts them, so none can start in between).
            guard !running.load(ordering: .acquiring) else { return }
            // If a reader still uses the log it cannot start over: try again a threshold later.
            nextCatchUpAt.store(frames + Self.threshold, ordering: .relaxed)
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        guard frames >= nextAt.load(ordering: .relaxed), !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        nextAt.store(frames + Self.spacing, ordering: .relaxed)
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
        sqlite3_wal_hook(db, { context, writer, _, frames in
            if let context, let writer {
                Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().logGrew(to: Int(frames), writer: writer)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Copies what it can of the log into the database without waiting for anyone.
    func checkpointPassive() {
        guard let db = handle else { return }
        sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
}
