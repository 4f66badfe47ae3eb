import Encoding
import VFS
import Synchronization

/// A write-ahead log shared by many threads, with group commit.
///
/// Each `append(_:sync:)` joins a `CommitQueue`: one leader writes every queued payload into the
/// current segment, and if any member asked for durability it issues **one** `fdatasync` for the
/// whole group, then wakes the others with the same result. Under concurrent synced writers the
/// number of syncs is far below the number of records (measured in `LogWriterTests`).
///
/// After a failed write or sync the log refuses every later append with the original error.
///
/// Thread safety: every method may be called from any thread.
public final class LogWriter: Sendable {
    /// What a group-commit request carries.
    enum Request: GroupCommitRequest {
        case append(payload: [UInt8], sync: Bool)
        case rotate(result: RotationResult)
        case sync

        /// Rotations and explicit syncs travel alone; appends group by payload size.
        var groupedBytes: Int? {
            if case .append(let payload, _) = self { return payload.count }
            return nil
        }

        var wantsSync: Bool {
            if case .append(_, true) = self { return true }
            return false
        }
    }

    /// Where the leader leaves the number of a segment started by a `.rotate` request.
    final class RotationResult: Sendable {
        let number = Atomic<UInt64>(0)
    }

    /// The writer behind its mutex, in a class so the queue's closure and this object share it.
    final class SharedWriter: Sendable {
        let writer: Locked<WALWriter>
        init(_ writer: sending WALWriter) { self.writer = Locked(writer) }
    }

    private let locked: SharedWriter
    private let queue: CommitQueue<Request>

    /// Wraps `writer`, taking ownership of it; groups follow `policy`.
    public init(_ writer: sending WALWriter, policy: WriteGroupPolicy = .standard) {
        let locked = SharedWriter(writer)
        self.locked = locked
        self.queue = CommitQueue(policy: policy) { group in
            try locked.writer.withLock { writer in try LogWriter.run(group, on: writer) }
        }
    }

    /// Appends `payload` as one record; when `sync` is `true`, returns only after the record
    /// (and everything before it) is durable.
    ///
    /// - Throws: `invalidArgument` for a record over the maximum (checked before queueing, so it
    ///   does not fail the group); otherwise the group's I/O error, which is sticky.
    public func append(_ payload: [UInt8], sync: Bool) throws {
        let limit = locked.writer.withLock { $0.options.maxRecordSize }
        guard payload.count <= limit else {
            throw StrataError.invalidArgument("WAL record of \(payload.count) bytes exceeds the maximum of \(limit)")
        }
        try queue.submit(.append(payload: payload, sync: sync))
    }

    /// Makes everything appended so far durable.
    public func sync() throws {
        try queue.submit(.sync)
    }

    /// Seals the current segment and starts the next one, between commit groups.
    ///
    /// - Returns: the new segment's number.
    @discardableResult
    public func rotateNext() throws -> UInt64 {
        let result = RotationResult()
        try queue.submit(.rotate(result: result))
        return result.number.load(ordering: .acquiring)
    }

    /// The number of the segment currently appended to.
    public var segmentNumber: UInt64 { locked.writer.withLock { $0.segmentNumber } }

    /// Counters since creation.
    public var statistics: WALStatistics { locked.writer.withLock { $0.statistics } }

    /// Syncs and closes the current segment.
    public func close() throws {
        try locked.writer.withLock { try $0.close() }
    }

    /// The leader's work for one group.
    private static func run(_ group: [Request], on writer: WALWriter) throws {
        var needsSync = false
        var appended = false
        for request in group {
            switch request {
            case .append(let payload, let sync):
                try writer.append(payload)
                needsSync = needsSync || sync
                appended = true
            case .sync:
                needsSync = true
            case .rotate(let result):
                result.number.store(try writer.rotateNext(), ordering: .releasing)
            }
        }
        if needsSync {
            try writer.sync()
        } else if appended {
            // Unsynced writes still reach the OS before they are acknowledged, so they survive a
            // process crash (LevelDB/RocksDB `sync = false` semantics).
            try writer.flush()
        }
        if appended { writer.countGroup() }
    }
}
