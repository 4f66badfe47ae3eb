#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine
import ObjectStoreS3

// See Docs/SERVER.md ("Operations").

/// Everything `strata-server` is told: where the database is, where to listen, who may call, and
/// the limits that keep a misbehaving client from taking the server's memory.
///
/// The keys of a JSON configuration file (`--config F`) mirror the command-line flags in
/// camelCase: `{"db": "/var/lib/strata", "listen": "127.0.0.1:7379", "authTokenFile": "…"}`.
public struct ServerConfiguration: Sendable, Codable, Equatable {
    /// The database directory.
    public var db: String
    /// Where the gRPC service listens, `HOST:PORT` (port 0: any free port). Default
    /// `127.0.0.1:7379`.
    public var listen = "127.0.0.1:7379"
    /// Where `/metrics` (Prometheus text format) is served, `HOST:PORT`; `nil`: not served.
    public var metricsListen: String? = nil
    /// A file holding the bearer token clients must send (`authorization: Bearer <token>`).
    /// Required when `listen` or `metricsListen` is not a loopback address.
    public var authTokenFile: String? = nil
    /// PEM certificate chain and private key files: both set turns TLS on.
    public var tlsCert: String? = nil
    /// PEM private key file (see `tlsCert`).
    public var tlsKey: String? = nil
    /// The largest request message accepted, in bytes; larger ones get RESOURCE_EXHAUSTED.
    /// Default 64 MiB + 1 MiB (a maximal batch and its framing).
    public var maxMessageBytes = (64 << 20) + (1 << 20)
    /// Concurrent streams (calls) per connection. Default 100.
    public var maxConcurrentStreams = 100
    /// Open connections; more are closed at once. Default 1024.
    public var maxConnections = 1024
    /// How long in-flight calls may run after SIGTERM/SIGINT before the database closes, in
    /// seconds. Default 10.
    public var gracePeriod = 10.0
    /// A snapshot lease's default and largest length, in seconds. Defaults 60 and 3600.
    public var snapshotTTL = 60.0
    /// See `snapshotTTL`.
    public var maxSnapshotTTL = 3600.0

    // The engine's options, as the `strata` CLI names them (`nil`: the engine's default).

    /// Memtable bytes before a flush.
    public var writeBufferSize: Int? = nil
    /// Seconds after its first write that a memtable is flushed however little it holds
    /// (`Options.maxMemtableAge`).
    public var maxMemtableAge: Double? = nil
    /// Open the tables in the background at start (`Options.warmUpTablesOnOpen`).
    public var warmUpTables: Bool? = nil
    /// Table data block bytes.
    public var blockSize: Int? = nil
    /// Table compression: `none`, `lz4` or `zstd`.
    public var compression: String? = nil
    /// Bloom filter bits per key.
    public var bloomBits: Int? = nil
    /// Block cache bytes.
    public var blockCacheSize: Int? = nil
    /// Sync every write.
    public var syncWrites: Bool? = nil
    /// The longest key accepted, in bytes (longer: INVALID_ARGUMENT).
    public var maxKeySize: Int? = nil
    /// The longest value accepted, in bytes (longer: INVALID_ARGUMENT).
    public var maxValueSize: Int? = nil
    /// The object store holding the database's durable copy (`file:///path` or
    /// `s3://bucket/prefix`, credentials from `AWS_*`); `nil`: local only. An empty `db`
    /// directory is restored from it, and the server becomes its writer (fencing the previous).
    public var objectStore: String? = nil
    /// With an `s3://` store: the endpoint (`http[s]://host[:port]`).
    public var s3Endpoint: String? = nil
    /// With an `s3://` store: the region.
    public var s3Region: String? = nil
    /// With an `s3://` store: path-style addressing (`nil`: path-style when an endpoint is given).
    public var s3PathStyle: Bool? = nil
    /// `local` (default) or `store`: with `store`, every write and commit is acknowledged only
    /// once it is in the object store.
    public var durability: String? = nil
    /// With an object store: keep about this many bytes of the store's tables on the local disk,
    /// fetching others on first read (`Options.localCacheBytes`); `nil`: every table stays local.
    public var localCacheBytes: UInt64? = nil
    /// With an object store: seconds an unneeded object stays before garbage collection deletes
    /// it (`Options.storeGarbageGracePeriod`; `nil`: the default, 600).
    public var storeGarbageGracePeriod: Double? = nil
    /// Serve a read replica of `objectStore` (`Database.openReplica`): reads only, writes answer
    /// FAILED_PRECONDITION. `nil`/`false`: serve the writer.
    public var replica: Bool? = nil
    /// With `replica`: seconds between polls of the store (`Options.replicaPollInterval`).
    public var replicaPollInterval: Double? = nil
    /// With `replica`: health answers NOT_SERVING while the replica lags more than this many
    /// seconds (`nil`: only when it is stale).
    public var maxReplicaLag: Double? = nil
    /// Where the RESP front door listens (`redis-cli -p`), `HOST:PORT`; `nil`: not served.
    /// Needs `authTokenFile` beyond loopback (clients then `AUTH <token>`).
    public var respListen: String? = nil
    /// RESP durability, as Redis' `appendfsync`: `always`, `everysec` (default) or `no`.
    public var respFsync: String? = nil
    /// RESP connections at once; more are refused with an error. Default 10,000.
    public var respMaxClients = 10_000
    /// Worker threads running RESP batches that write (each blocks on the engine for one
    /// connection's batch). `nil` (default): 32 with `respFsync` `always` (writers wait for the
    /// sync, and more of them share each one), else twice the cores, at least 4 (more threads
    /// than that only convoy on the engine's locks — measured on 2 cores: 4 threads served 3×
    /// the INCRs of 32).
    public var respThreads: Int? = nil
    /// A RESP client whose unsent replies exceed this many bytes (it does not read) is
    /// disconnected. Default 128 MiB.
    public var respMaxPendingReplyBytes = 128 << 20
    /// Tests only: the RESP expiry clock starts at this Unix millisecond and moves only by the
    /// `STRATA.CLOCK SET|ADVANCE ms` command. `nil`: the wall clock.
    public var respManualClock: UInt64? = nil

    /// A configuration for the database in `db` with every other setting at its default.
    public init(db: String) {
        self.db = db
    }

    /// Reads a JSON configuration file; keys it omits keep their defaults.
    ///
    /// - Throws: `StrataError.invalidArgument` naming the file and what is wrong.
    public static func load(jsonFile path: String) throws -> ServerConfiguration {
        let bytes = try PosixFileSystem().readFile(path)
        do {
            return try JSONDecoder().decode(ServerConfiguration.self, from: Data(bytes))
        } catch {
            throw StrataError.invalidArgument("configuration file \(path): \(error)")
        }
    }

    /// Decodes, tolerating missing keys (each keeps its default).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(db: try container.decode(String.self, forKey: .db))
        func read<Value: Decodable>(_ key: CodingKeys, into value: inout Value) throws {
            if let decoded = try container.decodeIfPresent(Value.self, forKey: key) { value = decoded }
        }
        func readOptional<Value: Decodable>(_ key: CodingKeys, into value: inout Value?) throws {
            if let decoded = try container.decodeIfPresent(Value.self, forKey: key) { value = decoded }
        }
        try read(.listen, into: &listen)
        try readOptional(.metricsListen, into: &metricsListen)
        try readOptional(.authTokenFile, into: &authTokenFile)
        try readOptional(.tlsCert, into: &tlsCert)
        try readOptional(.tlsKey, into: &tlsKey)
        try read(.maxMessageBytes, into: &maxMessageBytes)
        try read(.maxConcurrentStreams, into: &maxConcurrentStreams)
        try read(.maxConnections, into: &maxConnections)
        try read(.gracePeriod, into: &gracePeriod)
        try read(.snapshotTTL, into: &snapshotTTL)
        try read(.maxSnapshotTTL, into: &maxSnapshotTTL)
        try readOptional(.writeBufferSize, into: &writeBufferSize)
        try readOptional(.maxMemtableAge, into: &maxMemtableAge)
        try readOptional(.warmUpTables, into: &warmUpTables)
        try readOptional(.blockSize, into: &blockSize)
        try readOptional(.compression, into: &compression)
        try readOptional(.bloomBits, into: &bloomBits)
        try readOptional(.blockCacheSize, into: &blockCacheSize)
        try readOptional(.syncWrites, into: &syncWrites)
        try readOptional(.maxKeySize, into: &maxKeySize)
        try readOptional(.maxValueSize, into: &maxValueSize)
        try readOptional(.objectStore, into: &objectStore)
        try readOptional(.s3Endpoint, into: &s3Endpoint)
        try readOptional(.s3Region, into: &s3Region)
        try readOptional(.s3PathStyle, into: &s3PathStyle)
        try readOptional(.durability, into: &durability)
        try readOptional(.localCacheBytes, into: &localCacheBytes)
        try readOptional(.storeGarbageGracePeriod, into: &storeGarbageGracePeriod)
        try readOptional(.replica, into: &replica)
        try readOptional(.replicaPollInterval, into: &replicaPollInterval)
        try readOptional(.maxReplicaLag, into: &maxReplicaLag)
        try readOptional(.respListen, into: &respListen)
        try readOptional(.respFsync, into: &respFsync)
        try read(.respMaxClients, into: &respMaxClients)
        try readOptional(.respThreads, into: &respThreads)
        try read(.respMaxPendingReplyBytes, into: &respMaxPendingReplyBytes)
        try readOptional(.respManualClock, into: &respManualClock)
    }

    /// The RESP write threads: `respThreads`, or the default for the fsync mode and `cores`.
    public func respWriteThreads(cores: Int) throws -> Int {
        if let respThreads { return respThreads }
        return try respFsyncMode() == .always ? 32 : max(4, 2 * cores)
    }

    /// The RESP durability mode.
    public func respFsyncMode() throws -> RESPFsync {
        guard let respFsync else { return .everysec }
        guard let mode = RESPFsync(rawValue: respFsync) else {
            throw StrataError.invalidArgument("respFsync must be always, everysec or no, not \"\(respFsync)\"")
        }
        return mode
    }

    /// The durability every write is acknowledged with.
    public func writeDurability() throws -> Durability {
        switch durability {
        case nil, "local": return .local
        case "store":
            guard objectStore != nil else { throw StrataError.invalidArgument("durability \"store\" needs objectStore") }
            return .objectStore
        case let other?: throw StrataError.invalidArgument("durability must be local or store, not \"\(other)\"")
        }
    }

    /// The engine's options from these settings.
    public func databaseOptions() throws -> Options {
        var options = Options()
        if let writeBufferSize { options.writeBufferSize = writeBufferSize }
        if let maxMemtableAge { options.maxMemtableAge = maxMemtableAge }
        if let warmUpTables { options.warmUpTablesOnOpen = warmUpTables }
        if let blockSize { options.blockSize = blockSize }
        if let bloomBits { options.bloomBitsPerKey = bloomBits }
        if let blockCacheSize { options.blockCacheSize = blockCacheSize }
        if let syncWrites { options.syncWrites = syncWrites }
        if let maxKeySize { options.maxKeySize = maxKeySize }
        if let maxValueSize { options.maxValueSize = maxValueSize }
        if let objectStore {
            options.objectStore = try ObjectStoreURL.open(objectStore, endpoint: s3Endpoint, region: s3Region, pathStyle: s3PathStyle)
        }
        options.localCacheBytes = localCacheBytes
        if let storeGarbageGracePeriod { options.storeGarbageGracePeriod = storeGarbageGracePeriod }
        if let replicaPollInterval { options.replicaPollInterval = replicaPollInterval }
        switch compression?.lowercased() {
        case nil: break
        case "none": options.compression = .none
        case "lz4": options.compression = .lz4
        case "zstd": options.compression = .zstd(level: 1)
        case let other?: throw StrataError.invalidArgument("unknown compression \"\(other)\" (none, lz4, zstd)")
        }
        return options
    }

    /// Checks the settings before anything starts.
    ///
    /// - Throws: `StrataError.invalidArgument` explaining what is wrong — in particular a
    ///   listener beyond loopback without `authTokenFile`.
    public func validate() throws {
        _ = try writeDurability()
        let grpc = try ListenAddress(listen)
        let metrics = try metricsListen.map(ListenAddress.init)
        let resp = try respListen.map(ListenAddress.init)
        if authTokenFile == nil {
            for address in [grpc] + (metrics.map { [$0] } ?? []) + (resp.map { [$0] } ?? []) where !address.isLoopback {
                throw StrataError.invalidArgument(
                    "refusing to listen on \(address) without authentication: clients beyond this machine could read and write the database; pass --auth-token-file (or listen on 127.0.0.1)")
            }
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw StrataError.invalidArgument("TLS needs both --tls-cert and --tls-key")
        }
        guard maxMessageBytes >= 1024 else { throw StrataError.invalidArgument("maxMessageBytes must be at least 1 KiB") }
        guard maxConcurrentStreams >= 1 else { throw StrataError.invalidArgument("maxConcurrentStreams must be at least 1") }
        guard maxConnections >= 1 else { throw StrataError.invalidArgument("maxConnections must be at least 1") }
        guard gracePeriod >= 0 && gracePeriod.isFinite else { throw StrataError.invalidArgument("gracePeriod must be a non-negative number of seconds") }
        guard snapshotTTL > 0 && maxSnapshotTTL >= snapshotTTL else {
            throw StrataError.invalidArgument("snapshot TTLs must be positive and maxSnapshotTTL at least snapshotTTL")
        }
        if replica == true {
            guard objectStore != nil else { throw StrataError.invalidArgument("a replica needs objectStore (the store it follows)") }
            guard durability == nil || durability == "local" else { throw StrataError.invalidArgument("a replica takes no writes: durability does not apply") }
        } else if replicaPollInterval != nil || maxReplicaLag != nil {
            throw StrataError.invalidArgument("replicaPollInterval and maxReplicaLag apply to a replica")
        }
        _ = try respFsyncMode()
        guard respMaxClients >= 1 else { throw StrataError.invalidArgument("respMaxClients must be at least 1") }
        if let respThreads, !(1...1024).contains(respThreads) { throw StrataError.invalidArgument("respThreads must be between 1 and 1024") }
        guard respMaxPendingReplyBytes >= 1 << 20 else { throw StrataError.invalidArgument("respMaxPendingReplyBytes must be at least 1 MiB") }
        if let maxReplicaLag, !(maxReplicaLag > 0 && maxReplicaLag.isFinite) {
            throw StrataError.invalidArgument("maxReplicaLag must be a positive number of seconds")
        }
        try databaseOptions().validate()
    }
}

/// A `HOST:PORT` to listen on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host (an IP address or `localhost`).
    public var host: String
    /// The port (0: any free port).
    public var port: Int

    /// Parses `HOST:PORT` (IPv6 hosts in brackets: `[::1]:7379`).
    ///
    /// - Throws: `StrataError.invalidArgument` for anything else.
    public init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw StrataError.invalidArgument("listen address \"\(text)\" is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw StrataError.invalidArgument("listen address \"\(text)\" has no host") }
        self.host = host
        self.port = port
    }

    /// Whether only this machine can reach it.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `HOST:PORT`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
