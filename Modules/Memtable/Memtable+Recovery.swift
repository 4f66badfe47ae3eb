import Encoding
import VFS
import WAL

extension Memtable {
    /// Rebuilds a memtable from WAL segments: every record is decoded as a `WriteBatch` and
    /// applied with its own sequence numbers, and `maxSequence` ends at the largest sequence seen
    /// (so the next write gets `max + 1`).
    ///
    /// This builds one memtable and suits tools and tests; the Engine's recovery applies records
    /// itself so it can flush whenever a memtable fills.
    ///
    /// - Returns: the memtable and the replay's report (torn tail, dropped bytes, end position).
    /// - Throws: what `WALReader.replay` throws; `invalidArgument` when the log does not fit in
    ///   `capacity`.
    public static func recover(
        from segments: [WALSegment], databaseID: DatabaseID, fileSystem: any FileSystem,
        mode: WALRecoveryMode = .tolerateTornTail, capacity: Int = Memtable.defaultCapacity
    ) throws -> (memtable: Memtable, replay: WALReplayResult) {
        let memtable = try Memtable(capacity: capacity, walSegment: segments.first?.number ?? 0)
        let replay = try WALReader.replay(segments: segments, databaseID: databaseID, fileSystem: fileSystem, mode: mode) { payload, location in
            memtable.noteWALSegment(location.segment)
            try memtable.apply(batch: payload, file: WALSegment.fileName(for: location.segment), offset: Int(location.offset))
        }
        if let last = segments.last { memtable.noteWALSegment(last.number) }
        if let maxSequence = replay.maxSequence { memtable.injectMaxSequence(maxSequence) }
        return (memtable, replay)
    }
}
