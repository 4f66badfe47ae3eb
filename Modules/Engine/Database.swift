import Compaction
import Encoding
import Logging
import Manifest
import Memtable
import SSTable
import Synchronization
import VFS
import WAL

/// An open Strata database: a persistent, sorted key-value store.
///
/// ```swift
/// let db = try Database.open(at: "/var/lib/app/db")
/// try db.put(Array("key".utf8), Array("value".utf8))
/// let value = try db.get(Array("key".utf8))
/// try db.close()
/// ```
///
/// Keys and values are byte arrays; keys sort bytewise. Writes are atomic per call (a
/// `WriteBatch` is all-or-nothing, also across a crash) and durable against a process crash once
/// they return; with `WriteOptions(sync: true)` (or `Options.syncWrites`) also against power loss.
///
/// Thread safety: `Sendable`; share one instance between all threads. Reads never block on
/// writes or on background work: they take a consistent view (the sequence number, the memtables
/// and the table version) and read it without locks.
public final class Database: Sendable {
    /// The database directory.
    public let path: String
    /// The options it was opened with.
    public let options: Options

    let fileSystem: any FileSystem
    let logger: Logger
    let versionSet: VersionSet
    let blockCache: BlockCache?
    let tableCache: TableCache
    let readStatistics = TableReadStatistics()
    let picker: LeveledCompactionPicker
    let compactor: Compactor
    let snapshots = SnapshotList()
    let counters = EngineCounters()
    /// The last sequence number whose write is complete and visible to readers.
    let lastSequence: Atomic<UInt64>
    /// Memtables, background state, errors: everything the write leader and background threads
    /// coordinate on.
    let state: Monitor<EngineState>
    /// The write-ahead log, used only by the commit leader (and by `close`).
    let wal: Locked<WALWriter?>
    let commitQueue: Locked<CommitQueue<WriteRequest>?>
    /// The memtables readers use, published under `state`'s lock whenever they change (readers
    /// take this small lock instead of contending on the engine state).
    let memtables: Locked<MemtableSet>
    let background = Locked<[Threads.Handle]>([])
    let closed = Atomic<Bool>(false)
    /// What every batch is checked against before it is queued.
    let batchLimits: WriteBatchLimits
    let recoveryReport = Locked(RecoveryReport())

    /// The active memtable and the frozen ones (newest first), as readers see them.
    struct MemtableSet: Sendable {
        var active: Memtable
        var frozen: [FrozenMemtable]
    }

    struct EngineState {
        var active: Memtable
        /// Frozen memtables waiting for flush, newest first.
        var frozen: [FrozenMemtable] = []
        var backgroundError: StrataError? = nil
        var shutdown = false
        var flushing = false
        var compactionRequested = false
        var compacting = false
    }

    /// What a queued write carries. Writes group (`WriteGroupPolicy`); switches, syncs and
    /// closes travel alone.
    enum WriteRequest: GroupCommitRequest {
        case write(WriteBatch, sync: Bool)
        /// Freeze the active memtable between groups (`flush()`).
        case switchMemtable
        /// Sync the log after every earlier write (`sync()`).
        case sync
        /// Sync the log after every earlier write, then refuse more (`close()`).
        case close

        var groupedBytes: Int? {
            if case .write(let batch, _) = self { return batch.byteSize }
            return nil
        }

        var wantsSync: Bool {
            if case .write(_, true) = self { return true }
            return false
        }
    }

    // MARK: - Opening and closing

    /// Wires the components together; `init(path:options:)` then recovers.
    init(path: String, options: Options, versionSet: VersionSet, firstMemtable: Memtable) throws {
        self.path = path
        self.options = options
        self.fileSystem = options.fileSystem
        self.logger = options.logger
        self.batchLimits = Database.batchLimits(options)
        self.versionSet = versionSet
        let blockCache = options.blockCacheSize > 0 ? BlockCache(capacity: options.blockCacheSize) : nil
        self.blockCache = blockCache
        var readerOptions = TableReaderOptions(blockCache: blockCache)
        readerOptions.statistics = readStatistics
        readerOptions.useMappedReads = options.useMappedReads
        readerOptions.cacheIndexAndFilterBlocks = options.cacheIndexAndFilterBlocks
        self.tableCache = TableCache(fileSystem: options.fileSystem, directory: path, maxOpenFiles: options.maxOpenFiles, options: readerOptions)
        self.picker = LeveledCompactionPicker(options: options.compactionOptions)
        self.compactor = Compactor(versionSet: versionSet, tableCache: tableCache, strategy: picker, builderOptions: options.tableBuilderOptions)
        self.lastSequence = Atomic(versionSet.lastSequence.rawValue)
        self.state = Monitor(EngineState(active: firstMemtable))
        self.memtables = Locked(MemtableSet(active: firstMemtable, frozen: []))
        self.wal = Locked(nil)
        self.commitQueue = Locked(nil)
        let queue = CommitQueue<WriteRequest>(policy: .standard) { [weak self] group in
            guard let self else { throw StrataError.closed }
            try self.commit(group)
        }
        commitQueue.withLock { $0 = queue }
    }

    /// Opens (or creates) the database in directory `path`.
    ///
    /// Opening locks the directory, replays the manifest and every WAL segment still needed,
    /// flushes what the log held to a table, and starts the background threads.
    ///
    /// - Throws: `.invalidArgument` for bad options, a missing database without
    ///   `createIfMissing`, an existing one with `errorIfExists`, a path that is a file, or a
    ///   non-empty directory that holds no database; `.locked` when another open holds it;
    ///   `.corruption` / `.incompatible` naming the damaged file; `.io` for system errors.
    public static func open(at path: String, options: Options = Options()) throws -> Database {
        try options.validate()
        return try Database(path: path, options: options)
    }

    /// Closes the database: waits for in-flight writes and background work, syncs the log, and
    /// releases the directory lock. Idempotent; every other call afterwards throws `.closed`.
    public func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Serialise with writers: the close request is processed after every queued write.
        var firstError: (any Error)? = nil
        if let queue = commitQueue.withLock({ $0 }) {
            do { try queue.submit(.close) } catch { firstError = error }
        }
        stopBackgroundWork()
        do { try wal.withLock { try $0?.close(); $0 = nil } } catch { firstError = firstError ?? error }
        do { try versionSet.close() } catch { firstError = firstError ?? error }
        commitQueue.withLock { $0 = nil }
        logger.info("closed database", metadata: ["path": "\(path)"])
        if let firstError, !(firstError is StrataError && (firstError as! StrataError) == .closed) { throw firstError }
    }

    deinit {
        if !closed.load(ordering: .acquiring) { try? close() }
    }

    // MARK: - Writing

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// - Throws: `.invalidArgument` for an empty or oversized key or value; `.readOnly` after a
    ///   background failure; `.closed`; `.io` when the log cannot be written.
    public func put(_ key: [UInt8], _ value: [UInt8], options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.put(key, value)
        try write(batch, options: options)
    }

    /// Deletes `key` (deleting a missing key is not an error).
    public func delete(_ key: [UInt8], options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.delete(key)
        try write(batch, options: options)
    }

    /// Deletes every key in `[start, end)`.
    ///
    /// - Throws: `.invalidArgument` when `start >= end` or a bound is empty or oversized.
    public func deleteRange(from start: [UInt8], to end: [UInt8], options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.deleteRange(start, end)
        try write(batch, options: options)
    }

    /// Applies `batch` atomically: all of its entries or none, also across a crash.
    ///
    /// - Throws: `.invalidArgument` (nothing is written) when any entry is invalid or the batch is
    ///   larger than `maxBatchSize`; otherwise as `put`.
    public func write(_ batch: WriteBatch, options: WriteOptions = WriteOptions()) throws {
        try checkOpen()
        try batch.validate(batchLimits)
        guard !batch.isEmpty else { return }
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.write(batch, sync: options.sync ?? self.options.syncWrites))
    }

    /// Makes every write acknowledged so far durable against power loss (one `fdatasync` of the
    /// log, ordered after every queued write).
    public func sync() throws {
        try checkOpen()
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.sync)
    }

    // MARK: - Reading

    /// The value of `key` in the latest data, or `nil` when it has none.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        try get(key, sequence: nil)
    }

    /// The value of `key` as of `snapshot`.
    public func get(_ key: [UInt8], at snapshot: Snapshot) throws -> [UInt8]? {
        try get(key, sequence: snapshot.sequence)
    }

    /// A snapshot of the latest data. Reads at it see exactly what was acknowledged before this
    /// call. Released when dropped.
    public func snapshot() throws -> Snapshot {
        try checkOpen()
        return Snapshot(sequence: SequenceNumber(rawValue: lastSequence.load(ordering: .acquiring)), list: snapshots)
    }

    /// A cursor over the keys, honouring the options' snapshot and bounds. Call a seek first.
    public func cursor(_ options: ReadOptions = ReadOptions()) throws -> Cursor {
        try checkOpen()
        return try Cursor(database: self, options: options)
    }

    /// The entries with keys in `[from, to)` (unbounded when `nil`), in key order or reversed.
    ///
    /// ```swift
    /// for try await (key, value) in db.scan(from: a, to: b) { … }
    /// var entries = db.scan(reverse: true).makeAsyncIterator()
    /// while let (key, value) = try entries.next() { … }   // synchronous use
    /// ```
    public func scan(from lowerBound: [UInt8]? = nil, to upperBound: [UInt8]? = nil, at snapshot: Snapshot? = nil, reverse: Bool = false) -> ScanSequence {
        ScanSequence(database: self, options: ReadOptions(snapshot: snapshot, lowerBound: lowerBound, upperBound: upperBound), reverse: reverse)
    }

    // MARK: - Maintenance

    /// Writes every memtable to a level-0 table and waits until it is done (the log segments they
    /// needed become garbage).
    public func flush() throws {
        try checkOpen()
        try switchMemtableForFlush()
        try waitForFlushes()
    }

    /// Compacts the keys in `[start, end]` (everything when `nil`) down to the deepest level,
    /// dropping every version and tombstone no snapshot needs.
    public func compactRange(start: [UInt8]? = nil, end: [UInt8]? = nil) throws {
        try checkOpen()
        try flush()
        do {
            let runs = try compactor.compactRange(start: start, end: end) { snapshots.sequences }
            for run in runs { logCompaction(run) }
        } catch {
            setBackgroundError(error, during: "manual compaction")
            throw error
        }
    }

    // MARK: - Internal

    /// Publishes the state's memtables to readers. Call while holding the state lock.
    func publishMemtables(_ state: EngineState) {
        memtables.withLock { $0 = MemtableSet(active: state.active, frozen: state.frozen) }
    }

    func checkOpen() throws {
        if closed.load(ordering: .acquiring) { throw StrataError.closed }
    }

    /// The engine's limits on a batch under `options` (`WriteBatch.validate(_:)` applies them).
    static func batchLimits(_ options: Options) -> WriteBatchLimits {
        var limits = WriteBatchLimits()
        limits.requiresNonEmptyKeys = true
        limits.maxKeySize = options.maxKeySize
        limits.maxValueSize = options.maxValueSize
        limits.maxBatchSize = options.maxBatchSize
        // Every batch must fit in an empty memtable, or the log could hold a record that can
        // never be applied.
        limits.maxMemtableFootprint = memtableCapacity(options) - options.writeBufferSize
        limits.entryOverhead = Memtable.maxEntryOverhead
        return limits
    }

    /// The capacity of a memtable: the flush threshold plus room for one maximal batch.
    var memtableCapacity: Int { Database.memtableCapacity(options) }

    /// The flush threshold plus room for a batch of up to twice `maxBatchSize` of memtable bytes.
    static func memtableCapacity(_ options: Options) -> Int {
        min(maxMemtableCapacity, options.writeBufferSize + 2 * options.maxBatchSize + (1 << 20))
    }

    /// The largest memtable arena (32-bit offsets reach 4 GiB).
    static let maxMemtableCapacity = Int(UInt32.max) - 4096

    /// Records a background failure: from now on writes are refused with `.readOnly`.
    func setBackgroundError(_ error: any Error, during work: String) {
        let reason = "\(work) failed: \(error)"
        let first = state.withLock { state -> Bool in
            guard state.backgroundError == nil else { return false }
            state.backgroundError = .readOnly(reason: reason)
            return true
        }
        state.broadcast()
        if first { logger.error("database is now read-only", metadata: ["reason": "\(reason)"]) }
    }
}

