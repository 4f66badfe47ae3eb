import Encoding

/// A consistent, read-only view of the database as of one moment: reads at a snapshot see every
/// write acknowledged before it was taken and none after.
///
/// Compactions keep every version a live snapshot can see. The snapshot is released when the last
/// reference to it goes (there is no separate release call: drop the reference, or let it go out
/// of scope); hold it only as long as you read from it, because it pins old versions.
///
/// Thread safety: immutable; share freely.
public final class Snapshot: Sendable {
    /// The sequence number the snapshot reads at.
    public let sequence: SequenceNumber
    let list: SnapshotList
    /// A replica's snapshot holds its whole view — memtables and table version — because the
    /// versions it reads are the primary's, compacted without regard to the replica's
    /// snapshots: the next installed manifest may no longer hold what this sequence sees.
    /// `nil` on a writer, whose compactions keep every version a registered snapshot sees.
    let pinnedView: WholeReadView?

    /// A snapshot at the sequence `latest` returns, read and registered under the list's lock.
    ///
    /// Reading the sequence first and registering it afterwards would race with compaction: a
    /// compaction that read the list between the two would not know the snapshot and could drop
    /// the versions it reads (a snapshot transaction once summed the bank's accounts to 0).
    /// Under the lock, a compaction either sees the snapshot or read the list before its
    /// sequence was read — and then every input it picked is at or below that sequence.
    init(latest: () -> UInt64, list: SnapshotList) {
        self.sequence = SequenceNumber(rawValue: list.acquireLatest(latest))
        self.list = list
        self.pinnedView = nil
    }

    /// A snapshot that reads `view` (a replica's, every keyspace), registered at its sequence.
    init(pinning view: WholeReadView, list: SnapshotList) {
        self.sequence = SequenceNumber(rawValue: list.acquireLatest { view.sequence.rawValue })
        self.list = list
        self.pinnedView = view
    }

    deinit {
        list.release(sequence.rawValue)
    }
}

/// The live snapshots' sequence numbers (a multiset: two snapshots may share one).
final class SnapshotList: Sendable {
    private let counts = Locked<[UInt64: Int]>([:])

    /// Registers the sequence `latest` returns, reading it under the lock; returns it.
    func acquireLatest(_ latest: () -> UInt64) -> UInt64 {
        counts.withLock { counts in
            let sequence = latest()
            counts[sequence, default: 0] += 1
            return sequence
        }
    }

    func release(_ sequence: UInt64) {
        counts.withLock { counts in
            let remaining = (counts[sequence] ?? 1) - 1
            counts[sequence] = remaining > 0 ? remaining : nil
        }
    }

    /// The distinct live sequences, ascending.
    var sequences: [SequenceNumber] {
        counts.withLock { $0.keys.sorted().map { SequenceNumber(rawValue: $0) } }
    }

    var count: Int { counts.withLock { $0.values.reduce(0, +) } }
}
