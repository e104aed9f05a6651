import CSQLite3
import Dispatch
import Synchronization

/// Checkpoints a SQLite database's write-ahead log off the commit path, and keeps the log bounded.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000 pages,
/// fsyncs included, while every other writer waits; with the group commit running inline that
/// stalled a cooperative thread and showed as a p99 spike. Instead the writer connection reports
/// the log's size after each commit, and past the threshold a PASSIVE checkpoint (which never
/// blocks the writer) runs on a thread and connection of its own, then again each time the log
/// has grown by another `spacing`.
///
/// Under writes that never pause those checkpoints never finish the log: frames keep arriving
/// while they copy, and SQLite starts the log over only when a write transaction begins with every
/// frame copied. So past `catchUp` pages, when no background checkpoint is running, the writer
/// copies the rest itself right after its commit (as SQLite's own autocheckpoint does), and its
/// next transaction starts the log over. A slow background checkpoint (a long `fsync`) can hold
/// that off while the log grows, so past `limit` the writer waits for it and then copies the
/// rest: the log file never holds more than `limit` pages and one commit. (Starting a background
/// checkpoint after every commit instead ran hundreds a second, two `fdatasync`s each, and the
/// log grew without bound: 850 MB for 160 MB of rows.)
final class WALCheckpointer: Sendable {
    /// SQLite's own default threshold, in pages.
    static let threshold = 1000
    /// Growth of the log, in pages, between background checkpoints: often enough that the log
    /// mostly starts over without the writer waiting, rarely enough to spare the syncs.
    static let spacing = threshold / 4
    /// The log's size, in pages, past which the writer copies the rest of it when it can.
    static let catchUp = 4 * threshold
    /// The log's size, in pages, past which the writer waits until it can: 64 MB of 4 KB pages.
    static let limit = 16 * threshold

    private let queue = DispatchQueue(label: "hub.sqlite.checkpoint")
    private let running = Atomic<Bool>(false)
    /// The log's sizes at which the next background checkpoint starts and the writer next
    /// catches up, and the log's size after the last commit.
    private let nextAt = Atomic<Int>(WALCheckpointer.threshold)
    private let nextCatchUpAt = Atomic<Int>(WALCheckpointer.catchUp)
    private let lastFrames = Atomic<Int>(0)
    /// The checkpointing connection, touched only on `queue`.
    private let holder: ConnectionBox

    init(connection: SQLiteConnection) {
        holder = ConnectionBox(connection)
    }

    /// Called by the writer after each commit, on its thread, with the log's size in frames (pages).
    func logGrew(to frames: Int) {
        // Smaller than after the last commit: the log started over.
        if frames < lastFrames.exchange(frames, ordering: .relaxed) {
            nextAt.store(Self.threshold, ordering: .relaxed)
            nextCatchUpAt.store(Self.catchUp, ordering: .relaxed)
        }
        if frames >= nextCatchUpAt.load(ordering: .relaxed) {
            // The hook runs inside the commit's write gate, so nothing in this process appends
            // while this checkpoint copies: it copies every frame. The queue runs one checkpoint
            // at a time, so past the limit this waits for one under way (which copies only the
            // frames there were when it began); below it, the next commit tries again. Only this
            // writer starts background checkpoints, so none starts in between.
            guard frames >= Self.limit || !running.load(ordering: .acquiring) else { return }
            // A reader still on an older part of the log keeps it from starting over: then
            // again a threshold later, not after every commit.
            nextCatchUpAt.store(frames + Self.threshold, ordering: .relaxed)
            queue.sync { holder.connection?.checkpointPassive() }
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
