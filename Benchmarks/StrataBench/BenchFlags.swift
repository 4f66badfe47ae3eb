import ArgumentParser
import Engine
import ObjectStoreS3

/// A db_bench boolean flag value: `1`/`0`/`true`/`false`.
struct BenchBool: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var value: Bool

    init(_ value: Bool) { self.value = value }

    init?(argument: String) {
        switch argument.lowercased() {
        case "1", "true", "yes": value = true
        case "0", "false", "no": value = false
        default: return nil
        }
    }

    var description: String { value ? "1" : "0" }
    var defaultValueDescription: String { description }
}

/// The flags of `strata-bench`, named and meaning what RocksDB's `db_bench` flags do.
struct BenchFlags: ParsableArguments, Sendable {
    @Option(name: .customLong("benchmarks"), help: "Comma-separated benchmarks to run, in order.")
    var benchmarks = "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom"
    @Option(name: .customLong("num"), help: "Number of keys in the database (and of writes per thread).")
    var num = 1_000_000
    @Option(name: .customLong("reads"), help: "Reads per thread (negative: --num).")
    var reads = -1

    @Option(name: .customLong("writes"), help: "Writes per thread for fillrandom, overwrite and deleterandom (negative: --num).")
    var writes = -1
    @Option(name: .customLong("value_size"), help: "Bytes per value.")
    var valueSize = 100
    @Option(name: .customLong("key_size"), help: "Bytes per key.")
    var keySize = 16
    @Option(name: .customLong("db"), help: "Database directory (default: a directory under $TMPDIR or /tmp).")
    var db: String?
    @Option(name: .customLong("use_existing_db"), help: "1: keep the database; fill benchmarks are skipped.")
    var useExistingDB = BenchBool(false)
    @Option(name: .customLong("cache_size"), help: "Block cache bytes.")
    var cacheSize = 8 << 20
    @Option(name: .customLong("bloom_bits"), help: "Bloom filter bits per key (0 or negative: no filter).")
    var bloomBits = 10
    @Option(name: .customLong("compression_type"), help: "Block compression: none, lz4 or zstd.")
    var compressionType = "lz4"
    @Option(name: .customLong("compression_ratio"), help: "Generated values compress to about this fraction.")
    var compressionRatio = 0.5
    @Option(name: .customLong("write_buffer_size"), help: "Memtable bytes before a flush.")
    var writeBufferSize = 64 << 20
    @Option(name: .customLong("max_write_buffer_number"), help: "Memtables (active + frozen) before writes stall.")
    var maxWriteBufferNumber = 2
    @Option(name: .customLong("block_size"), help: "Table data block bytes.")
    var blockSize = 4096
    @Option(name: .customLong("target_file_size_base"), help: "Compaction output file bytes (default: the engine's, derived from the write buffer).")
    var targetFileSizeBase: UInt64?
    @Option(name: .customLong("max_bytes_for_level_base"), help: "Level-1 target bytes (default: the engine's, derived from the write buffer).")
    var maxBytesForLevelBase: UInt64?
    @Option(name: .customLong("level0_file_num_compaction_trigger"), help: "Level-0 files that start a compaction.")
    var level0FileNumCompactionTrigger = 4
    @Option(name: .customLong("level0_slowdown_writes_trigger"), help: "Level-0 files that slow writes.")
    var level0SlowdownWritesTrigger = 20
    @Option(name: .customLong("level0_stop_writes_trigger"), help: "Level-0 files that stop writes.")
    var level0StopWritesTrigger = 36
    @Option(name: .customLong("mmap_read"), help: "1: read tables through read-only mappings (the engine's default); 0: pread into the block cache.")
    var mmapRead = BenchBool(true)
    @Option(name: .customLong("max_auto_readahead_size"), help: "Largest automatic read-ahead window of a scan, bytes (0 disables; RocksDB's flag).")
    var maxAutoReadaheadSize = 256 << 10
    @Option(name: .customLong("warm_up_tables"), help: "1: open the tables in the background after each open (Options.warmUpTablesOnOpen).")
    var warmUpTables = BenchBool(false)
    @Option(name: .customLong("reopen_wait_ms"), help: "reopen: milliseconds to wait after the open before the next benchmark.")
    var reopenWaitMilliseconds = 0
    @Option(name: .customLong("batch_size"), help: "Entries per write batch.")
    var batchSize = 1
    @Option(name: .customLong("seek_nexts"), help: "next() calls after each seek in seekrandom.")
    var seekNexts = 0
    @Option(name: .customLong("sync"), help: "1: sync every write.")
    var sync = BenchBool(false)
    @Option(name: .customLong("threads"), help: "Threads running each benchmark.")
    var threads = 1
    @Option(name: .customLong("seed"), help: "Seed for the random generators (same seed, same keys).")
    var seed: UInt64 = 0
    @Option(name: .customLong("transaction_db"), help: "1: randomtransaction uses pessimistic transactions (RocksDB's TransactionDB).")
    var transactionDB = BenchBool(false)
    @Option(name: .customLong("optimistic_transaction_db"), help: "1: randomtransaction uses optimistic transactions (snapshot isolation, as RocksDB's OptimisticTransactionDB).")
    var optimisticTransactionDB = BenchBool(false)
    @Option(name: .customLong("transaction_sets"), help: "Keys (one per set) each randomtransaction reads and increments.")
    var transactionSets = 2
    @Option(name: .customLong("transaction_set_snapshot"), help: "Accepted for db_bench parity: Strata's transactions always read at a snapshot taken when they begin (RocksDB's --transaction_set_snapshot=1).")
    var transactionSetSnapshot = BenchBool(true)
    @Option(name: .customLong("transaction_lock_timeout"), help: "Pessimistic lock timeout in milliseconds.")
    var transactionLockTimeout = 1000
    @Option(name: .customLong("server"), help: "Run through strata-server at HOST:PORT, --threads clients at once (fillseq, fillrandom, overwrite, fillbatch, readrandom, readmissing, seekrandom, flush, compact).")
    var server: String?

    @Option(name: .customLong("object_store"), help: "Attach the database to an object store: file:///path or s3://bucket/prefix (AWS_* credentials).")
    var objectStore: String?

    @Option(name: .customLong("s3_endpoint"), help: "With an s3:// store: the endpoint, http[s]://host[:port].")
    var s3Endpoint: String?

    @Option(name: .customLong("durability"), help: "local (default) or store: writes return once in the object store.")
    var durability = "local"

    @Option(name: .customLong("wal_upload_interval_ms"), help: "With --object_store: the longest gathered writes wait before upload (milliseconds).")
    var walUploadIntervalMilliseconds = 100.0

    @Option(name: .customLong("replica_poll_ms"), help: "replicalag, replicareadrandom: the replica's poll interval (milliseconds).")
    var replicaPollMilliseconds = 100.0

    @Option(name: .customLong("writes_per_second"), help: "replicalag: the primary's write rate (--writes writes in all).")
    var writesPerSecond = 1000.0

    @Option(name: .customLong("token_file"), help: "With --server: a file holding the server's bearer token.")
    var tokenFile: String?

    @Option(name: .customLong("histogram"), help: "1: print latency percentiles per benchmark.")
    var histogram = BenchBool(false)
    @Option(name: .customLong("stats"), help: "1: print the level summary and engine statistics at the end.")
    var stats = BenchBool(false)

    init() {}

    /// Reads per thread.
    var readCount: Int { reads < 0 ? num : reads }
    /// Writes per thread of the random-key write benchmarks.
    var writeCount: Int { writes < 0 ? num : writes }

    /// The figures the benchmark threads use, as plain stored values (reading a property
    /// wrapper in the measured loop would cost more than some operations).
    var workload: WorkloadConfig {
        WorkloadConfig(
            num: num, readCount: readCount, keySize: keySize, valueSize: valueSize, batchSize: batchSize,
            seekNexts: seekNexts, sync: sync.value, durability: durability == "store" ? .objectStore : .local,
            transactionSets: transactionSets, isolation: isolation,
            lockTimeout: Double(transactionLockTimeout) / 1000)
    }

    /// The isolation randomtransaction uses.
    var isolation: IsolationLevel? {
        transactionDB.value ? .pessimistic : optimisticTransactionDB.value ? .snapshot : nil
    }

    func validate() throws {
        guard !(transactionDB.value && optimisticTransactionDB.value) else {
            throw ValidationError("--transaction_db and --optimistic_transaction_db exclude each other")
        }
        guard transactionSets >= 1 && transactionSets <= 9999 else { throw ValidationError("--transaction_sets must be 1...9999") }
        guard num > 0 else { throw ValidationError("--num must be positive") }
        guard keySize >= 1 && keySize <= 1024 else { throw ValidationError("--key_size must be 1...1024") }
        guard valueSize >= 0 && valueSize <= 64 << 20 else { throw ValidationError("--value_size must be 0...67108864") }
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be 1...256") }
        guard batchSize >= 1 else { throw ValidationError("--batch_size must be positive") }
        guard compressionRatio > 0 && compressionRatio <= 1 else { throw ValidationError("--compression_ratio must be in (0, 1]") }
        _ = try compression()
    }

    /// The table codec.
    func compression() throws -> Compression {
        switch compressionType.lowercased() {
        case "none": return .none
        case "lz4": return .lz4
        case "zstd": return .zstd(level: 1)
        default: throw ValidationError("--compression_type must be none, lz4 or zstd")
        }
    }

    /// Engine options for these flags.
    func options() throws -> Options {
        var options = Options()
        options.writeBufferSize = writeBufferSize
        options.maxWriteBufferNumber = maxWriteBufferNumber
        options.blockCacheSize = cacheSize
        options.bloomBitsPerKey = max(0, bloomBits)
        options.compression = try compression()
        options.blockSize = blockSize
        options.useMappedReads = mmapRead.value
        options.warmUpTablesOnOpen = warmUpTables.value
        options.maxReadaheadBytes = maxAutoReadaheadSize
        if let objectStore {
            options.objectStore = try ObjectStoreURL.open(objectStore, endpoint: s3Endpoint)
            options.walUploadInterval = walUploadIntervalMilliseconds / 1000
        }
        if let targetFileSizeBase { options.targetFileSize = targetFileSizeBase }
        if let maxBytesForLevelBase { options.maxBytesForLevelBase = maxBytesForLevelBase }
        options.level0CompactionTrigger = level0FileNumCompactionTrigger
        options.level0SlowdownTrigger = max(level0SlowdownWritesTrigger, level0FileNumCompactionTrigger)
        options.level0StopTrigger = max(level0StopWritesTrigger, options.level0SlowdownTrigger)
        options.logger.logLevel = .warning
        return options
    }
}

/// The workload parameters the measured loops read.
struct WorkloadConfig: Sendable {
    let num: Int
    let readCount: Int
    let keySize: Int
    let valueSize: Int
    let batchSize: Int
    let seekNexts: Int
    let sync: Bool
    /// Where writes must be durable before they return.
    let durability: Durability
    /// randomtransaction: keys per transaction, and how transactions are isolated (`nil`: plain
    /// batches, as db_bench without a transaction DB).
    let transactionSets: Int
    let isolation: IsolationLevel?
    let lockTimeout: Double
}
