#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
/// try db.put("user:1", "Ada")
/// let name = try db.get("user:1", as: String.self)   // "Ada"
/// try db.close()
/// ```
///
/// Keys and values are bytes (any `BytesConvertible`: `[UInt8]`, `String`, `Data`, slices,
/// buffers); keys sort bytewise. Results are `[UInt8]`, or any `BytesDecodable` type with `as:`. Writes are atomic per call (a
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
    /// The threads the `async` API runs blocking work on (started on first use).
    package let executor: BlockingExecutor
    /// The swift-metrics bridge.
    let metrics: MetricsReporter
    /// Held while a keyspace is created, re-optioned or dropped (one change at a time).
    let keyspaceChanges = Locked<Void>(())
    /// With an object store: a keyspace was created or dropped and the checkpoint that tells the
    /// store has not been uploaded yet.
    let keyspaceCheckpointPending = Atomic<Bool>(false)
    /// Pessimistic transactions' key locks.
    let lockTable = LockTable()
    /// The next transaction's number.
    let nextTransactionID = Atomic<UInt64>(1)
    let recoveryReport = Locked(RecoveryReport())
    /// The object-store session of a database opened with `Options.objectStore` (set once the
    /// store is attached; `nil` otherwise).
    let storeSession = Locked<StoreSession?>(nil)
    /// With an object store: the store's tables and, with `Options.localCacheBytes`, the local
    /// cache of them (`nil` without a store).
    let storeTables: StoreTables?
    /// A replica's follower (`openReplica`); `nil` otherwise.
    let replicaFollower = Locked<ReplicaFollower?>(nil)
    /// `true` once the database is a replica: user writes are refused.
    let refusesUserWrites = Atomic<Bool>(false)
    /// When the active memtable took its first write (monotonic nanoseconds; 0 while it is
    /// empty): `Options.maxMemtableAge` flushes it once that is long enough ago. Written by the
    /// commit leader only.
    let activeMemtableBirth = Atomic<UInt64>(0)
    /// A sequence lock over the read view: odd while a replica installs a manifest (its table
    /// version, memtables and last sequence change together, not in the order a writer's
    /// flushes and commits keep), bumped again when done. Readers of the latest data take their
    /// view again when it moved; always even on a writer.
    let viewSwitches = Atomic<UInt64>(0)
    /// Held by a replica for the duration of an install: readers that find `viewSwitches` odd
    /// wait on it instead of spinning.
    let replicaInstall = Locked<Void>(())
    /// The commit leader's batch buffer, reused so that a group allocates nothing of its own
    /// (one leader at a time, handed over under the commit queue's lock: accesses never overlap).
    let commitScratch = UncheckedCell<[WriteBatch]>([])

    /// The active memtable and the frozen ones (newest first), as readers see them.
    struct MemtableSet: Sendable {
        var active: Memtable
        var frozen: [FrozenMemtable]
        /// The named keyspaces' memtables, by keyspace id (empty without keyspaces).
        var keyspaces: [UInt32: KeyspaceMemtables] = [:]
    }

    /// A named keyspace's memtables: the active one and the frozen ones, newest first.
    struct KeyspaceMemtables: Sendable {
        var active: Memtable
        var frozen: [FrozenMemtable]
    }

    struct EngineState {
        /// The default keyspace's active memtable.
        var active: Memtable
        /// Frozen memtables waiting for flush, newest first. Each stands for its whole
        /// generation: the named keyspaces' memtables frozen with it are in `keyspaceFrozen`.
        var frozen: [FrozenMemtable] = []
        /// The named keyspaces' active memtables, by keyspace id. They are frozen together with
        /// the default one (one switch freezes every keyspace that holds anything: they share
        /// the log, whose segments go only once all of them are flushed).
        var keyspaceActive: [UInt32: Memtable] = [:]
        /// The named keyspaces' frozen memtables of each generation, keyed by the default
        /// keyspace's frozen memtable of that generation (an entry leaves with it).
        var keyspaceFrozen: [ObjectIdentifier: [UInt32: FrozenMemtable]] = [:]
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
        /// A transaction's commit: checked, in the leader, against everything committed after
        /// its snapshot — earlier groups and earlier members of its own group — then logged and
        /// applied with the group, or refused alone (its outcome is in the request).
        case transaction(TransactionCommit)

        var groupedBytes: Int? {
            switch self {
            case .write(let batch, _): return batch.byteSize
            case .transaction(let commit): return commit.batch.byteSize
            default: return nil
            }
        }

        var wantsSync: Bool {
            switch self {
            case .write(_, let sync): return sync
            case .transaction(let commit): return commit.sync
            default: return false
            }
        }
    }

    // MARK: - Opening and closing

    /// Wires the components together; `init(path:options:)` then recovers.
    init(path: String, options: Options, versionSet: VersionSet, firstMemtable: Memtable, storeTables: StoreTables?) throws {
        self.path = path
        self.options = options
        self.fileSystem = options.fileSystem
        self.logger = options.logger
        self.batchLimits = Database.batchLimits(options)
        self.executor = BlockingExecutor(maxThreads: options.asyncThreads)
        self.metrics = MetricsReporter(database: path, factory: options.metricsFactory)
        self.versionSet = versionSet
        let blockCache = options.blockCacheSize > 0 ? BlockCache(capacity: options.blockCacheSize) : nil
        self.blockCache = blockCache
        var readerOptions = TableReaderOptions(blockCache: blockCache)
        readerOptions.statistics = readStatistics
        readerOptions.useMappedReads = options.useMappedReads
        readerOptions.cacheIndexAndFilterBlocks = options.cacheIndexAndFilterBlocks
        readerOptions.maxReadaheadBytes = options.maxReadaheadBytes
        // A read-only open keeps every table of its version open (another process may delete the
        // files once it compacts them away), so its cache never evicts.
        self.tableCache = TableCache(
            fileSystem: options.fileSystem, directory: path, maxOpenFiles: options.readOnly ? Int(Int32.max) : options.maxOpenFiles,
            options: readerOptions, fileSource: storeTables?.budget == nil ? nil : storeTables)
        self.storeTables = storeTables
        storeTables?.attach(tableCache)
        self.picker = LeveledCompactionPicker(options: options.compactionOptions)
        self.compactor = Compactor(
            versionSet: versionSet, tableCache: tableCache, strategy: picker, builderOptions: options.tableBuilderOptions,
            keyspaceBuilderOptions: { [base = options.tableBuilderOptions] descriptor in
                try Database.tableBuilderOptions(for: descriptor, base: base)
            })
        self.lastSequence = Atomic(versionSet.lastSequence.rawValue)
        self.state = Monitor(EngineState(active: firstMemtable))
        self.memtables = Locked(MemtableSet(active: firstMemtable, frozen: []))
        self.wal = Locked(nil)
        self.commitQueue = Locked(nil)
        guard !options.readOnly else { return }
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
        if !options.readOnly, let store = options.objectStore {
            return try openAttached(path: path, options: options, store: retryingTransientFailures(store))
        }
        guard options.readOnly else { return try Database(path: path, options: options) }
        // Another process may replace the manifest or delete a file between a read-only open's
        // reads; that race shows as a vanished file, and a new attempt sees the newer state.
        // It may also be in the middle of appending to the manifest or a log segment: those are
        // written through a mapping, and a copy's stores need not become visible in order
        // (memcpy stores a record's head last), so a reader can see a fragment's bytes before
        // its header — corruption that is gone a moment later. Real damage persists through
        // every attempt (for two seconds: a writer that flushes continuously can win many races
        // in a row on a loaded machine) and is reported.
        let deadline = WallClock.monotonicNanoseconds() + 2_000_000_000
        var attempt: UInt32 = 0
        while true {
            do {
                return try Database(path: path, options: options)
            } catch let error as StrataError where WallClock.monotonicNanoseconds() < deadline && (Database.isVanishedFile(error) || error.isCorruption) {
                attempt += 1
                usleep(min(1_000 * attempt, 20_000))
            }
        }
    }

    /// Opens the existing database in `path` for reading only (`Options.readOnly`).
    ///
    /// A read-only open takes no lock and writes nothing — no manifest, no log segment, no
    /// flush: the log's contents are replayed into memory. It works while another process has
    /// the database open for writing, and reads a consistent state as of the open (later writes
    /// of that process are not seen; reopen to catch up). Every table of that state is held
    /// open, so files the writer deletes meanwhile stay readable. Writes, `flush` and
    /// `compactRange` throw `.readOnly`.
    ///
    /// - Throws: as `open(at:options:)`, plus `.invalidArgument` when no database exists.
    public static func openReadOnly(at path: String, options: Options = Options()) throws -> Database {
        var options = options
        options.readOnly = true
        return try open(at: path, options: options)
    }

    /// This library's version (semantic versioning; see CHANGELOG.md).
    public static let libraryVersion = "0.2.0"

    /// Whether writes are refused because the database was opened read-only.
    public var isReadOnly: Bool { options.readOnly }

    /// The sequence number of the newest write visible to reads: a write acknowledged before
    /// this call has a sequence at or below it.
    public var latestSequence: SequenceNumber { SequenceNumber(rawValue: lastSequence.load(ordering: .acquiring)) }

    /// Whether writes are refused now: a read-only open, or a background failure (see
    /// `Statistics.backgroundError`).
    public var refusesWrites: Bool {
        options.readOnly || refusesUserWrites.load(ordering: .relaxed) || state.withLock { $0.backgroundError != nil }
    }

    /// Pushes the statistics to swift-metrics now (they are also pushed every
    /// `Options.metricsInterval`). Does nothing while no metrics backend is bootstrapped.
    public func reportMetrics() {
        guard metrics.isActive else { return }
        metrics.report(statistics)
    }

    /// Closes the database: waits for in-flight writes and background work, syncs the log, and
    /// releases the directory lock. Idempotent; every other call afterwards throws `.closed`.
    public func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // A replica stops following first (after its current poll).
        replicaFollower.withLock { $0 }?.stop()
        // Serialise with writers: the close request is processed after every queued write.
        var firstError: (any Error)? = nil
        if let queue = commitQueue.withLock({ $0 }) {
            do { try queue.submit(.close) } catch { firstError = error }
        }
        // Upload what is still pending (bounded), then stop shipping and checkpointing.
        if let session = storeSession.withLock({ $0 }) { session.stop(timeoutSeconds: 10) }
        stopBackgroundWork()
        metrics.stop()
        reportMetrics()
        executor.shutdown()
        do { try wal.withLock { try $0?.close(); $0 = nil } } catch { firstError = firstError ?? error }
        do { try versionSet.close() } catch { firstError = firstError ?? error }
        commitQueue.withLock { $0 = nil }
        logger.debug("closed database", metadata: ["path": "\(path)"])
        if let firstError, !(firstError is StrataError && (firstError as! StrataError) == .closed) { throw firstError }
    }

    deinit {
        if !closed.load(ordering: .acquiring) { try? close() }
    }

    // MARK: - Internal

    /// Publishes the state's memtables to readers. Call while holding the state lock.
    func publishMemtables(_ state: EngineState) {
        var set = MemtableSet(active: state.active, frozen: state.frozen)
        for (id, active) in state.keyspaceActive {
            let frozen = state.frozen.compactMap { state.keyspaceFrozen[ObjectIdentifier($0)]?[id] }
            set.keyspaces[id] = KeyspaceMemtables(active: active, frozen: frozen)
        }
        memtables.withLock { $0 = set }
    }

    @usableFromInline
    func checkOpen() throws {
        if closed.load(ordering: .acquiring) { throw StrataError.closed }
    }

    /// Throws `.closed`, or `.readOnly` for a read-only open.
    func checkWritable() throws {
        try checkOpen()
        if options.readOnly { throw StrataError.readOnly(reason: "the database was opened read-only") }
        if refusesUserWrites.load(ordering: .relaxed) { throw StrataError.readOnly(reason: "replica") }
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

