#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Engine
import ObjectStore
import ObjectStoreS3

/// Options every command shares: where the database is, and how keys and values are written.
public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Database directory (default: $STRATA_DB or ./strata-data).")
    public var db: String?

    @Flag(name: .long, help: "Keys and values are given and printed as hex (a 0x prefix is accepted).")
    public var hex = false

    @Flag(name: .long, help: "Log engine activity (opens, flushes, compactions) to stderr.")
    public var verbose = false

    @Option(name: .long, help: "Read and write this keyspace (it must exist: see create-keyspace); default: the default keyspace.")
    public var keyspace: String?

    @Option(name: .long, help: "Talk to strata-server at HOST:PORT instead of opening a database (get, put, delete, delete-range, scan, stats).")
    public var server: String?

    @Option(name: .customLong("token-file"), help: "With --server: a file whose first line is the server's bearer token.")
    public var tokenFile: String?

    @Flag(name: .long, help: "With --server: connect with TLS.")
    public var tls = false

    @Option(name: .customLong("tls-ca"), help: "With --server --tls: PEM certificates to trust (a self-signed server).")
    public var tlsCA: String?

    @Option(name: .customLong("object-store"), help: "The object store holding the database's durable copy: file:///path or s3://bucket/prefix (credentials and region from AWS_* variables). Write commands ship to it; opening an empty --db restores from it and takes over as writer.")
    public var objectStore: String?

    @Option(name: .customLong("s3-endpoint"), help: "With an s3:// store: the endpoint, http[s]://host[:port] (default: AWS_ENDPOINT_URL or AWS's).")
    public var s3Endpoint: String?

    @Option(name: .customLong("s3-region"), help: "With an s3:// store: the region (default: AWS_REGION or us-east-1).")
    public var s3Region: String?

    @Flag(name: .customLong("s3-path-style"), help: "With an s3:// store: path-style addressing (the default when --s3-endpoint is given).")
    public var s3PathStyle = false

    @Option(name: .long, help: "With --object-store: local (acknowledge once in the local log; the default) or store (once in the object store).")
    public var durability: String?

    @Flag(name: .customLong("replica"), help: "With --object-store: open --db as a read replica that follows the store (bootstrapped from it when empty); writes are refused.")
    public var replica = false

    @Option(name: .customLong("replica-poll-ms"), help: "With --replica: look for new WAL objects this often (milliseconds; default 1000, at least 50).")
    public var replicaPollMilliseconds: Double?

    @Option(name: .customLong("local-cache-bytes"), help: "With --object-store: keep about this many bytes of the store's tables on the local disk and fetch the others on first read (default: keep every table local).")
    public var localCacheBytes: UInt64?

    /// The engine's tuning knobs, listed by `--help-hidden`.
    @OptionGroup(title: "Tuning (shown with --help-hidden)", visibility: .hidden)
    public var tuning: TuningOptions

    public init() {}

    /// The database directory.
    public var path: String {
        if let db { return db }
        if let environment = getenv("STRATA_DB") { return String(cString: environment) }
        return "./strata-data"
    }

    /// The object store `--object-store` names, or `nil`.
    public func store() throws -> (any ObjectStore)? {
        guard let objectStore else {
            if s3Endpoint != nil || s3Region != nil || s3PathStyle || durability != nil {
                throw ToolFailure(.usage, "--s3-endpoint, --s3-region, --s3-path-style and --durability need --object-store")
            }
            return nil
        }
        let store = try ObjectStoreURL.open(objectStore, endpoint: s3Endpoint, region: s3Region, pathStyle: s3PathStyle ? true : nil)
        guard let faults = tuning.objectStoreFaults else { return store }
        return try Self.injectingFaults(faults, into: store)
    }

    /// `store` behind the faults `--object-store-faults RATE[:SEED]` asks for: each request
    /// fails before or after taking effect, is throttled, duplicated or delayed (up to 20 ms),
    /// each with probability `RATE`.
    static func injectingFaults<Store: ObjectStore>(_ text: String, into store: Store) throws -> any ObjectStore {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let rate = Double(parts[0]), rate >= 0, rate <= 0.2,
              let seed = parts.count == 2 ? UInt64(parts[1]) : 1
        else { throw ToolFailure(.usage, "--object-store-faults takes RATE[:SEED], a rate from 0 to 0.2: \(text)") }
        var plan = FaultInjectingObjectStore<Store>.Plan()
        plan.failBeforeApplying = rate
        plan.failAfterApplying = rate
        plan.throttle = rate
        plan.duplicate = rate
        plan.delay = rate
        plan.maximumDelayMilliseconds = 20
        plan.seed = seed
        return FaultInjectingObjectStore(store, plan: plan)
    }

    /// The durability `--durability` asks for.
    public func durabilityLevel() throws -> Durability {
        switch durability {
        case nil, "local": return .local
        case "store":
            guard objectStore != nil else { throw ToolFailure(.usage, "--durability store needs --object-store") }
            return .objectStore
        case let other?: throw ToolFailure(.usage, "--durability must be local or store, not \(other)")
        }
    }

    /// Write options from the flags.
    public func writeOptions() throws -> WriteOptions {
        WriteOptions(durability: try durabilityLevel())
    }

    /// Engine options from the flags.
    public func options(forWriting writing: Bool) throws -> Options {
        var options = try tuning.options()
        if writing {
            options.objectStore = try store()
            if let localCacheBytes {
                guard objectStore != nil else { throw ToolFailure(.usage, "--local-cache-bytes needs --object-store") }
                options.localCacheBytes = localCacheBytes
            }
        } else if objectStore != nil {
            throw ToolFailure(.usage, "--object-store applies to commands that write; restore a copy with `strata restore`")
        }
        options.createIfMissing = writing ? !tuning.noCreateIfMissing : tuning.createIfMissing
        options.logger.logLevel = verbose ? .info : .warning
        return options
    }

    /// Opens the database: for writing (creating it unless `--no-create-if-missing`), or
    /// read-only — no lock taken and nothing written, so reads work beside a running writer.
    public func open(forWriting writing: Bool) throws -> Database {
        if server != nil {
            throw ToolFailure(.usage, "this command works on a local database only; with --server use get, put, delete, delete-range, scan or stats")
        }
        if replica { return try openReplica() }
        let options = try options(forWriting: writing)
        return writing ? try Database.open(at: path, options: options) : try Database.openReadOnly(at: path, options: options)
    }

    /// Opens `--db` as a replica of `--object-store` (see `Database.openReplica`).
    public func openReplica() throws -> Database {
        guard let store = try store() else { throw ToolFailure(.usage, "--replica needs --object-store") }
        guard durability == nil else { throw ToolFailure(.usage, "a replica takes no writes: --durability does not apply") }
        var options = try tuning.options()
        options.localCacheBytes = localCacheBytes
        if let replicaPollMilliseconds { options.replicaPollInterval = replicaPollMilliseconds / 1000 }
        options.logger.logLevel = verbose ? .info : .warning
        return try Database.openReplica(objectStore: store, at: path, options: options)
    }

    /// The `--keyspace` keyspace of `db` (the default keyspace without the option).
    ///
    /// - Throws: `ToolFailure(.notFound)` when no such keyspace exists.
    public func keyspace(of db: Database) throws -> Keyspace {
        guard let found = db.existingKeyspace(named: keyspace ?? Database.defaultKeyspaceName) else {
            throw ToolFailure(.notFound, "no keyspace named \"\(keyspace ?? "")\" (create it with `strata create-keyspace`)")
        }
        return found
    }

    /// The key/value codec.
    public var text: ByteText { ByteText(hex: hex) }
}

/// The engine's tuning flags, so scripts and tests can run the real engine with tiny buffers.
public struct TuningOptions: ParsableArguments, Sendable {
    @Flag(name: .customLong("create-if-missing"), help: "Create the database if it does not exist (the default for write commands).")
    public var createIfMissing = false

    @Flag(name: .customLong("no-create-if-missing"), help: "Never create the database, even for writes.")
    public var noCreateIfMissing = false

    @Option(name: .customLong("write-buffer-size"), help: "Memtable size in bytes before a flush.")
    public var writeBufferSize: Int?

    @Option(name: .customLong("max-memtable-age"), help: "Flush a memtable this many seconds after its first write, however little it holds.")
    public var maxMemtableAge: Double?

    @Flag(name: .customLong("warm-up-tables"), help: "Open the tables (index and filter blocks) in the background at open.")
    public var warmUpTables = false

    @Option(name: .customLong("wal-upload-interval-ms"), help: "With --object-store: upload gathered writes at most this often (milliseconds; default 100).")
    public var walUploadIntervalMilliseconds: Double?

    @Option(name: .customLong("checkpoint-wal-bytes"), help: "With --object-store: upload a checkpoint after this many bytes of WAL objects.")
    public var checkpointWALBytes: UInt64?

    @Option(name: .customLong("store-garbage-grace-seconds"), help: "With --object-store: seconds an unneeded object stays in the store before it is deleted (default 600).")
    public var storeGarbageGraceSeconds: Double?

    @Option(name: .customLong("object-store-faults"), help: "Testing: inject faults into object-store requests, RATE[:SEED] (each of failures before and after taking effect, throttling, duplicates and delays with probability RATE, at most 0.2).")
    public var objectStoreFaults: String?

    @Option(name: .customLong("block-size"), help: "Table data block size in bytes.")
    public var blockSize: Int?

    @Option(name: .long, help: "Table compression: none, lz4 or zstd.")
    public var compression: String?

    @Option(name: .customLong("bloom-bits"), help: "Bloom filter bits per key (0 disables filters).")
    public var bloomBits: Int?

    @Option(name: .customLong("target-file-size"), help: "Compaction output file size in bytes.")
    public var targetFileSize: UInt64?

    @Option(name: .customLong("level0-compaction-trigger"), help: "Level-0 files that trigger a compaction.")
    public var level0CompactionTrigger: Int?

    @Option(name: .customLong("block-cache-size"), help: "Block cache capacity in bytes.")
    public var blockCacheSize: Int?

    @Flag(name: .customLong("sync-writes"), help: "Sync every write to disk before acknowledging it.")
    public var syncWrites = false

    public init() {}

    /// Engine options from the flags.
    public func options() throws -> Options {
        var options = Options()
        if let writeBufferSize { options.writeBufferSize = writeBufferSize }
        if let maxMemtableAge { options.maxMemtableAge = maxMemtableAge }
        if warmUpTables { options.warmUpTablesOnOpen = true }
        if let walUploadIntervalMilliseconds { options.walUploadInterval = walUploadIntervalMilliseconds / 1000 }
        if let checkpointWALBytes { options.checkpointWALBytes = checkpointWALBytes }
        if let storeGarbageGraceSeconds { options.storeGarbageGracePeriod = storeGarbageGraceSeconds }
        if let blockSize { options.blockSize = blockSize }
        if let bloomBits { options.bloomBitsPerKey = bloomBits }
        if let targetFileSize { options.targetFileSize = targetFileSize }
        if let level0CompactionTrigger {
            options.level0CompactionTrigger = level0CompactionTrigger
            options.level0SlowdownTrigger = max(options.level0SlowdownTrigger, level0CompactionTrigger)
            options.level0StopTrigger = max(options.level0StopTrigger, options.level0SlowdownTrigger)
        }
        if let blockCacheSize { options.blockCacheSize = blockCacheSize }
        options.syncWrites = syncWrites
        if let compression = try parsedCompression() { options.compression = compression }
        return options
    }

    /// `--compression`, parsed (`nil` when not given).
    func parsedCompression() throws -> Compression? {
        switch compression?.lowercased() {
        case nil: return nil
        case "none": return Compression.none
        case "lz4": return .lz4
        case "zstd": return .zstd(level: 1)
        case let other?: throw ToolFailure(.usage, "unknown compression \"\(other)\" (none, lz4, zstd)")
        }
    }

    /// `--compression`, `--bloom-bits` and `--block-size` as a keyspace's options (what is not
    /// given follows the database's options).
    func keyspaceOptions() throws -> KeyspaceOptions {
        KeyspaceOptions(compression: try parsedCompression(), bloomBitsPerKey: bloomBits, blockSize: blockSize)
    }
}
