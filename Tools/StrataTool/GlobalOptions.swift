#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Engine

/// Options every command shares: where the database is, and how keys and values are written.
public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Database directory (default: $STRATA_DB or ./strata-data).")
    public var db: String?

    @Flag(name: .long, help: "Keys and values are given and printed as hex (a 0x prefix is accepted).")
    public var hex = false

    @Flag(name: .long, help: "Log engine activity (opens, flushes, compactions) to stderr.")
    public var verbose = false

    @Option(name: .long, help: "Talk to strata-server at HOST:PORT instead of opening a database (get, put, delete, delete-range, scan, stats).")
    public var server: String?

    @Option(name: .customLong("token-file"), help: "With --server: a file whose first line is the server's bearer token.")
    public var tokenFile: String?

    @Flag(name: .long, help: "With --server: connect with TLS.")
    public var tls = false

    @Option(name: .customLong("tls-ca"), help: "With --server --tls: PEM certificates to trust (a self-signed server).")
    public var tlsCA: String?

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

    /// Engine options from the flags.
    public func options(forWriting writing: Bool) throws -> Options {
        var options = try tuning.options()
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
        let options = try options(forWriting: writing)
        return writing ? try Database.open(at: path, options: options) : try Database.openReadOnly(at: path, options: options)
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
        switch compression?.lowercased() {
        case nil: break
        case "none": options.compression = .none
        case "lz4": options.compression = .lz4
        case "zstd": options.compression = .zstd(level: 1)
        case let other?: throw ToolFailure(.usage, "unknown compression \"\(other)\" (none, lz4, zstd)")
        }
        return options
    }
}
