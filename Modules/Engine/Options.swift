import Compaction
import CoreMetrics
import Encoding
import Logging
import ObjectStore
import SSTable
import VFS
import WAL

/// How a database is opened and tuned. Defaults follow RocksDB's where one exists.
public struct Options: Sendable {
    /// Create the database when the directory holds none. Default `true`.
    public var createIfMissing = true
    /// Fail when a database already exists. Default `false`.
    public var errorIfExists = false

    /// Size at which the active memtable is frozen and flushed to a level-0 table. Default 64 MiB.
    public var writeBufferSize = 64 << 20
    /// Memtables (active + waiting for flush) before writers stall. Default 2.
    public var maxWriteBufferNumber = 2
    /// Flush the active memtable once it has held data this long, in seconds, however little
    /// it holds: bounds how much log a recovery replays (and how long the log segments stay) on a
    /// quiet database. `nil` (the default) flushes only when full. At least 0.01.
    public var maxMemtableAge: Double? = nil
    /// Make every write durable against power loss by default (`WriteOptions.sync`). Default `false`.
    public var syncWrites = false
    /// Open for reading only: no lock, nothing written, the log replayed into memory
    /// (`Database.openReadOnly(at:options:)` sets it). Default `false`.
    public var readOnly = false

    /// The largest key accepted. Default 64 KiB.
    public var maxKeySize = 64 << 10
    /// The largest value accepted. Default 60 MiB (a batch must fit in one WAL record).
    public var maxValueSize = 60 << 20
    /// The largest encoded write batch (one WAL record). Default 64 MiB.
    public var maxBatchSize = WALFormat.defaultMaxRecordSize

    /// Data block size before compression. Default 4 KiB.
    public var blockSize = 4096
    /// Block compression of tables. Default LZ4.
    public var compression: Compression = .lz4
    /// Bloom filter bits per key; 0 disables filters. Default 10 (about 1% false positives).
    public var bloomBitsPerKey = 10
    /// Capacity of the shared block cache in bytes (0 disables it). Default 8 MiB.
    public var blockCacheSize = 8 << 20
    /// Read tables through read-only memory mappings where the file system supports it
    /// (`TableReaderOptions.useMappedReads`): uncompressed blocks are used in place, without a
    /// system call or a block-cache entry. The mapped pages count towards the process's
    /// resident size while the page cache holds them. Default `true`.
    public var useMappedReads = true
    /// Keep tables' index and filter blocks in the block cache — charged to it, evictable —
    /// instead of pinned in each open table (RocksDB's `cache_index_and_filter_blocks`). With
    /// many open tables this bounds their memory by the cache size; a lookup whose index or
    /// filter was evicted reads it again. Default `false`.
    public var cacheIndexAndFilterBlocks = false
    /// The largest automatic read-ahead of a scan (RocksDB's `max_auto_readahead_size`): a
    /// cursor that reads data blocks in file order asks the system to prefetch the bytes ahead —
    /// `posix_fadvise(WILLNEED)` with `pread`, `madvise(WILLNEED)` with mappings — in a window
    /// that starts at 8 KiB and doubles up to this. 0 disables it. Default 256 KiB.
    public var maxReadaheadBytes = 256 << 10
    /// Table files kept open. Default 1000.
    public var maxOpenFiles = 1000
    /// On open, a background thread opens the tables of the current version — level 0 first,
    /// then each deeper level, up to `maxOpenFiles` — loading their index and filter blocks
    /// (into the block cache with `cacheIndexAndFilterBlocks`), so the first reads after a
    /// restart do not each pay for opening a table. Tables only an object store holds (with
    /// `localCacheBytes`) are not fetched for it. Reads and writes proceed meanwhile. Default
    /// `false`.
    public var warmUpTablesOnOpen = false

    /// Compaction output file size. `nil` (the default): a tenth of level 1's target, between
    /// 2 MiB and 64 MiB, so that compactions below level 0 move small slices of a level rather
    /// than rewriting all of it.
    public var targetFileSize: UInt64? = nil
    /// Target size of level 1. `nil` (the default): what level 0 holds when it triggers a
    /// compaction (`writeBufferSize × level0CompactionTrigger`, at least 8 MiB) — RocksDB's
    /// tuning rule, which gives its 256 MiB default for 64 MiB write buffers.
    public var maxBytesForLevelBase: UInt64? = nil
    /// Each level's target is this many times the previous one's. Default 10.
    public var levelMultiplier: UInt64 = 10
    /// Removes values no reader can see any more (e.g. expired ones, `ExpiryCompactionFilter`)
    /// when compactions rewrite them, so their space comes back. Default `nil`.
    public var compactionFilter: (any CompactionFilter)? = nil
    /// Level-0 files that trigger a compaction. Default 4.
    public var level0CompactionTrigger = 4
    /// Level-0 files at which writes are slowed down. Default 20.
    public var level0SlowdownTrigger = 20
    /// Level-0 files at which writes stop until compaction catches up. Default 36.
    public var level0StopTrigger = 36

    /// How damaged WAL data is treated at open. Default `.tolerateTornTail`.
    public var walRecoveryMode: WALRecoveryMode = .tolerateTornTail
    /// Size at which a new manifest is started. Default 64 MiB.
    public var maxManifestSize: UInt64 = 64 << 20

    /// Run flushes and compactions on background threads. When `false` they run inline in the
    /// writing thread (deterministic; for tests and tools). Default `true`.
    public var backgroundWork = true
    /// How often the engine's statistics are pushed to swift-metrics, in seconds (`nil`: never;
    /// flush and compaction timers are still recorded). Reports go to `metricsFactory`, or to the
    /// factory the application bootstrapped; with none bootstrapped they cost nothing. Default 5.
    public var metricsInterval: Double? = 5
    /// The swift-metrics factory to report to (default `nil`: `MetricsSystem.factory`, whatever
    /// the application bootstrapped).
    public var metricsFactory: (any MetricsFactory)? = nil
    /// The most threads the `async` API runs blocking work on (file reads, syncs, write
    /// stalls), so that no thread of Swift's cooperative pool ever blocks. They start on first
    /// use. Default 16.
    public var asyncThreads = 16
    /// The file system (swap in `MemoryFileSystem` or `FaultInjectionFileSystem` for tests).
    public var fileSystem: any FileSystem = PosixFileSystem()

    /// The object store holding the database's durable copy (Docs/OBJECT-STORAGE.md): committed
    /// writes are shipped to it as WAL objects, tables as checkpoints; opening an empty directory
    /// restores from it; opening as writer fences any earlier writer. `nil` (default): local
    /// only. The Engine takes any `ObjectStore`; `strata`, `strata-server` and applications build
    /// one from a URL (`file:///path` → `LocalObjectStore`, `s3://bucket/prefix` →
    /// `S3ObjectStore`). Ignored by a read-only open.
    public var objectStore: (any ObjectStore)? = nil
    /// Gathered writes are uploaded at most this often, in seconds (default 0.1). Stores with a
    /// low request latency (S3 Express One Zone) can take less.
    public var walUploadInterval = 0.1
    /// A WAL object is uploaded as soon as this many bytes have gathered (default 4 MiB).
    public var walUploadBytes = 4 << 20
    /// The most bytes of committed writes waiting for upload; past it writers stall (counted as
    /// a write stall) until the store catches up. Default 256 MiB.
    public var maxUnshippedBytes = 256 << 20
    /// After this many bytes of WAL objects, the tables are uploaded as a new checkpoint, so a
    /// restore replays at most about this much log. Default 64 MiB.
    public var checkpointWALBytes: UInt64 = 64 << 20
    /// With an object store: the local table files become a cache of the store's tables,
    /// bounded by about this many bytes. A table that is not on the local disk is fetched when
    /// it is first read (so opening an empty directory downloads no tables at all), and local
    /// copies of tables the store holds are deleted, least recently used first, past the
    /// budget. Tables written since the last checkpoint are not in the store yet and stay local,
    /// so the disk can hold up to `checkpointWALBytes` of them more. `nil` (the default) keeps
    /// every table local.
    public var localCacheBytes: UInt64? = nil
    /// With an object store: objects that garbage collection finds unneeded (older manifests,
    /// their tables, WAL objects before the retained checkpoints) are deleted only after they
    /// have stayed unneeded this long, so a reader that fetched an older manifest moments ago
    /// can still read the tables it names. Default 600 s; 0 deletes at once.
    public var storeGarbageGracePeriod: Double = 600
    /// A replica (`Database.openReplica`) looks for new WAL objects this often, in seconds
    /// (default 1, at least 0.05).
    public var replicaPollInterval: Double = 1
    /// A replica's lease in the store lasts this long after each renewal (renewed every third of
    /// it), in seconds; the writer's garbage collection keeps what a live lease names. Default 60.
    public var replicaLeaseDuration: Double = 60
    /// A replica keeps up to this many bytes of the log after its installed manifest in
    /// memtables (default 64 MiB); beyond that — the writer's checkpoints lag, or a new replica
    /// replays a long log — it writes the oldest memtable to a local level-0 table, kept until a
    /// manifest covers it. Bounds a replica's memory whatever the writer does.
    public var replicaMemtableBytes = 64 << 20
    /// Checkpoints kept in the store (at least 1; default 2). Older ones, the tables only they
    /// use and the WAL objects they alone needed are deleted.
    public var checkpointsRetained = 2
    /// Where the engine logs open, recovery, flushes, compactions, stalls and errors. The default
    /// logger (label `strata`) passes warnings and errors only, so an application that sets up
    /// no logging sees nothing in normal operation; set this (or raise `logLevel`) for more.
    public var logger: Logger = {
        var logger = Logger(label: "strata")
        logger.logLevel = .warning
        return logger
    }()

    /// Default options.
    public init() {}

    var compactionOptions: CompactionOptions {
        var options = CompactionOptions()
        options.level0CompactionTrigger = level0CompactionTrigger
        options.level0SlowdownTrigger = level0SlowdownTrigger
        options.level0StopTrigger = level0StopTrigger
        options.maxBytesForLevelBase = effectiveLevelBase
        options.levelMultiplier = levelMultiplier
        options.targetFileSize = effectiveTargetFileSize
        options.filter = compactionFilter
        return options
    }

    /// `maxBytesForLevelBase`, or the size derived from the write buffer.
    var effectiveLevelBase: UInt64 {
        maxBytesForLevelBase ?? Swift.max(UInt64(Swift.max(writeBufferSize, 0)) * UInt64(Swift.max(level0CompactionTrigger, 1)), 8 << 20)
    }

    /// `targetFileSize`, or a tenth of level 1's target within [2 MiB, 64 MiB].
    var effectiveTargetFileSize: UInt64 {
        targetFileSize ?? Swift.min(Swift.max(effectiveLevelBase / 10, 2 << 20), 64 << 20)
    }

    var tableBuilderOptions: TableBuilderOptions {
        var options = TableBuilderOptions()
        options.blockSize = blockSize
        options.compression = compression
        options.bloomBitsPerKey = bloomBitsPerKey
        return options
    }

    /// The block sizes a database or keyspace may use.
    static let blockSizeRange = 64...(1 << 26)
    /// The Bloom filter bits per key a database or keyspace may use.
    static let bloomBitsPerKeyRange = 0...64

    /// Checks the options before anything is opened.
    package func validate() throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw StrataError.invalidArgument(message) }
        }
        try require(writeBufferSize >= 4096, "writeBufferSize must be at least 4 KiB")
        try require(writeBufferSize <= 1 << 30, "writeBufferSize must be at most 1 GiB")
        try require(maxWriteBufferNumber >= 2, "maxWriteBufferNumber must be at least 2")
        try require(maxMemtableAge.map { $0 >= 0.01 && $0 <= 86_400 * 365 } ?? true, "maxMemtableAge must be between 0.01 seconds and a year")
        try require(maxKeySize >= 1, "maxKeySize must be at least 1 byte")
        try require(maxValueSize >= 0, "maxValueSize must not be negative")
        try require(maxBatchSize >= 1024 && maxBatchSize <= 1 << 30, "maxBatchSize must be between 1 KiB and 1 GiB")
        try require(Options.blockSizeRange.contains(blockSize), "blockSize must be between 64 bytes and 64 MiB")
        try require(Options.bloomBitsPerKeyRange.contains(bloomBitsPerKey), "bloomBitsPerKey must be between 0 and 64")
        try require(blockCacheSize >= 0, "blockCacheSize must not be negative")
        try require(walUploadInterval >= 0.001 && walUploadInterval <= 60, "walUploadInterval must be between 1 ms and 60 s")
        try require(walUploadBytes >= 1024, "walUploadBytes must be at least 1 KiB")
        try require(maxUnshippedBytes >= walUploadBytes && maxUnshippedBytes >= 2 * maxBatchSize, "maxUnshippedBytes must hold at least walUploadBytes and two maximal batches")
        try require(checkpointWALBytes >= 1024, "checkpointWALBytes must be at least 1 KiB")
        try require(checkpointsRetained >= 1, "checkpointsRetained must be at least 1")
        try require(localCacheBytes == nil || objectStore != nil, "localCacheBytes needs an objectStore")
        try require(replicaPollInterval >= 0.05 && replicaPollInterval <= 3600, "replicaPollInterval must be between 0.05 and 3600 seconds")
        try require(replicaMemtableBytes >= 64 << 10, "replicaMemtableBytes must be at least 64 KiB")
        try require(replicaLeaseDuration >= 1 && replicaLeaseDuration <= 86_400, "replicaLeaseDuration must be between 1 second and 1 day")
        // The lease is renewed by the polls, every third of it: a poll must come at least that often.
        try require(replicaPollInterval * 3 <= replicaLeaseDuration, "replicaLeaseDuration must be at least three replicaPollIntervals")
        try require(storeGarbageGracePeriod >= 0 && storeGarbageGracePeriod <= 30 * 86_400, "storeGarbageGracePeriod must be between 0 and 30 days")
        try require(localCacheBytes.map { $0 >= 1 << 20 } ?? true, "localCacheBytes must be at least 1 MiB")
        try require(maxOpenFiles >= 10, "maxOpenFiles must be at least 10")
        try require(maxReadaheadBytes >= 0 && maxReadaheadBytes <= 64 << 20, "maxReadaheadBytes must be between 0 and 64 MiB")
        try require(asyncThreads >= 1 && asyncThreads <= 1024, "asyncThreads must be between 1 and 1024")
        try require(metricsInterval.map { $0 > 0 && $0.isFinite } ?? true, "metricsInterval must be a positive number of seconds")
        try require(effectiveTargetFileSize >= 1024, "targetFileSize must be at least 1 KiB")
        try require(effectiveLevelBase >= 1024 && levelMultiplier >= 2, "level targets must be at least 1 KiB and grow")
        try require(
            level0CompactionTrigger >= 1 && level0SlowdownTrigger >= level0CompactionTrigger && level0StopTrigger >= level0SlowdownTrigger,
            "level-0 triggers must satisfy 1 ≤ compaction ≤ slowdown ≤ stop")
    }
}

/// Where a write must be durable before the call returns.
public enum Durability: Sendable, Equatable {
    /// In the local log (synced or not per `WriteOptions.sync`). With an object store, the
    /// write is shipped to it in the background.
    case local
    /// In the object store (`Options.objectStore`): the call returns once the WAL object holding
    /// the write is stored. Concurrent writers share one upload.
    case objectStore
}

/// Per-write options.
public struct WriteOptions: Sendable {
    /// Return only after the write is durable against power loss (`fdatasync`). When `false`
    /// the write survives a process crash but may be lost with the machine's power. `nil` uses
    /// `Options.syncWrites`.
    public var sync: Bool?
    /// Where the write must be durable before the call returns (default `.local`).
    /// `.objectStore` needs `Options.objectStore`.
    public var durability: Durability

    /// Creates write options.
    public init(sync: Bool? = nil, durability: Durability = .local) {
        self.sync = sync
        self.durability = durability
    }
}

/// Options of a cursor or scan.
///
/// Bounds are half-open, `[from, to)`, as everywhere in Strata; they are stored as
/// `lowerBound` (inclusive) and `upperBound` (exclusive), the names Swift's `Range` uses.
public struct ReadOptions: Sendable {
    /// Read as of this snapshot (default: the latest data when the read starts).
    public var snapshot: Snapshot?
    /// Inclusive lower bound on keys (`from`).
    public var lowerBound: [UInt8]?
    /// Exclusive upper bound on keys (`to`).
    public var upperBound: [UInt8]?
    /// Wait until the database has applied this sequence before reading (at most
    /// `minSequenceTimeout` seconds, then `.timedOut`): on a replica, read-your-writes across
    /// machines, with the sequence the primary reported after the write (`latestSequence`).
    public var minSequence: UInt64? = nil
    /// How long a read waits for `minSequence`, in seconds (default 10).
    public var minSequenceTimeout: Double = 10
    /// The keyspace read (0: the default keyspace); a `Keyspace` handle's reads set it.
    var keyspaceID: UInt32 = 0

    /// Creates read options for all keys, at `snapshot` (the latest data when `nil`).
    public init(snapshot: Snapshot? = nil) {
        self.snapshot = snapshot
        self.lowerBound = nil
        self.upperBound = nil
    }

    /// Creates read options for the keys in `[from, to)` (unbounded when `nil`).
    @inlinable
    public init<From: BytesConvertible, To: BytesConvertible>(snapshot: Snapshot? = nil, from: From? = [UInt8]?.none, to: To? = [UInt8]?.none) {
        self.init(snapshot: snapshot)
        if let from { self.lowerBound = from.withUnsafeBytes { Array($0) } }
        if let to { self.upperBound = to.withUnsafeBytes { Array($0) } }
    }

    /// Creates read options for the keys that start with `prefix`.
    public init(snapshot: Snapshot? = nil, prefix: some BytesConvertible) {
        let start = prefix.withUnsafeBytes { Array($0) }
        self.init(snapshot: snapshot, from: start.isEmpty ? nil : start, to: KeyRange.prefixEnd(start))
    }
}
