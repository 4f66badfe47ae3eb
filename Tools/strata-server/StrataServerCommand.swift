// strata-server: one Strata database served over gRPC. See `strata-server --help` and
// Docs/SERVER.md.
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Engine
import Logging
import Server

@main
struct StrataServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata-server",
        abstract: "Serve a Strata database over gRPC (strata.v1.KV, grpc.health.v1.Health) with Prometheus /metrics.",
        discussion: """
            Settings come from --config (a JSON file whose keys are the flags in camelCase, e.g. \
            {"db": "data", "listen": "127.0.0.1:7379", "authTokenFile": "token"}) and then from flags, \
            which win. Listening beyond loopback requires --auth-token-file. Once listening, the server \
            prints "listening on HOST:PORT" (and "metrics on HOST:PORT") to stdout. SIGTERM or SIGINT \
            shuts it down gracefully: health turns NOT_SERVING, calls in flight get the grace period, the \
            database is closed, and the exit status is 0.

            Exit status: 0 after a clean shutdown, 2 for bad settings, 4 when the database cannot be \
            opened (I/O error, or locked by another process), 3 when it is damaged.
            """,
        version: Database.libraryVersion)

    @Option(help: "A JSON configuration file (flags override its settings).") var config: String?
    @Option(help: "The database directory.") var db: String?
    @Option(help: "Where gRPC listens, HOST:PORT (port 0: any free port; default 127.0.0.1:7379).") var listen: String?
    @Option(name: .customLong("metrics-listen"), help: "Where /metrics is served, HOST:PORT (default: not served).") var metricsListen: String?
    @Option(name: .customLong("auth-token-file"), help: "A file whose first line is the bearer token clients must send.") var authTokenFile: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (with --tls-key: serve TLS).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key.") var tlsKey: String?
    @Option(name: .customLong("max-message-bytes"), help: "Largest request message in bytes.") var maxMessageBytes: Int?
    @Option(name: .customLong("max-concurrent-streams"), help: "Concurrent calls per connection.") var maxConcurrentStreams: Int?
    @Option(name: .customLong("max-connections"), help: "Open connections (more are closed at once).") var maxConnections: Int?
    @Option(name: .customLong("grace-period"), help: "Seconds in-flight calls may run after SIGTERM.") var gracePeriod: Double?
    @Option(name: .customLong("snapshot-ttl"), help: "Default snapshot lease in seconds.") var snapshotTTL: Double?
    @Option(name: .customLong("max-snapshot-ttl"), help: "Longest snapshot lease in seconds.") var maxSnapshotTTL: Double?
    @Option(name: .customLong("write-buffer-size"), help: "Memtable size in bytes before a flush.") var writeBufferSize: Int?
    @Option(name: .customLong("max-memtable-age"), help: "Flush a memtable this many seconds after its first write, however little it holds.") var maxMemtableAge: Double?
    @Flag(name: .customLong("warm-up-tables"), help: "Open the tables (index and filter blocks) in the background at start.") var warmUpTables = false
    @Option(name: .customLong("block-size"), help: "Table data block size in bytes.") var blockSize: Int?
    @Option(help: "Table compression: none, lz4 or zstd.") var compression: String?
    @Option(name: .customLong("bloom-bits"), help: "Bloom filter bits per key.") var bloomBits: Int?
    @Option(name: .customLong("block-cache-size"), help: "Block cache capacity in bytes.") var blockCacheSize: Int?
    @Option(name: .customLong("max-key-size"), help: "Longest key accepted, in bytes.") var maxKeySize: Int?
    @Option(name: .customLong("max-value-size"), help: "Longest value accepted, in bytes.") var maxValueSize: Int?
    @Flag(name: .customLong("sync-writes"), help: "Sync every write before acknowledging it.") var syncWrites = false
    @Option(name: .customLong("object-store"), help: "The durable copy's object store: file:///path or s3://bucket/prefix (AWS_* credentials). An empty --db is restored from it.") var objectStore: String?
    @Option(name: .customLong("s3-endpoint"), help: "With an s3:// store: the endpoint, http[s]://host[:port].") var s3Endpoint: String?
    @Option(name: .customLong("s3-region"), help: "With an s3:// store: the region.") var s3Region: String?
    @Flag(name: .customLong("s3-path-style"), help: "With an s3:// store: path-style addressing.") var s3PathStyle = false
    @Option(help: "local (default) or store: acknowledge writes once in the object store.") var durability: String?
    @Flag(name: .customLong("replica"), help: "Serve a read replica of --object-store (bootstrapped from it when --db is empty); writes answer FAILED_PRECONDITION.") var replica = false
    @Option(name: .customLong("replica-poll-ms"), help: "With --replica: poll the store this often (milliseconds; default 1000).") var replicaPollMilliseconds: Double?
    @Option(name: .customLong("max-replica-lag"), help: "With --replica: health answers NOT_SERVING past this many seconds of lag.") var maxReplicaLag: Double?
    @Option(name: .customLong("local-cache-bytes"), help: "With --object-store: keep about this many bytes of tables locally and fetch the rest on first read (default: keep all).") var localCacheBytes: UInt64?
    @Option(name: .customLong("resp-listen"), help: "Where the RESP (Redis protocol) front door listens, HOST:PORT (default: not served).") var respListen: String?
    @Option(name: .customLong("resp-fsync"), help: "RESP durability, as Redis' appendfsync: always, everysec (default) or no.") var respFsync: String?
    @Option(name: .customLong("resp-max-clients"), help: "RESP connections at once (default 10000).") var respMaxClients: Int?
    @Option(name: .customLong("resp-threads"), help: "Worker threads running RESP writes (default: 32 with --resp-fsync always, else twice the cores, at least 4).") var respThreads: Int?
    @Option(name: .customLong("resp-max-pending-reply-bytes"), help: "Disconnect a RESP client whose unsent replies exceed this (default 128 MiB).") var respMaxPendingReplyBytes: Int?
    @Option(name: .customLong("resp-manual-clock"), help: .hidden) var respManualClock: UInt64?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).") var logLevel = "info"

    /// The configuration file's settings overridden by the flags.
    func serverConfiguration() throws -> ServerConfiguration {
        var settings: ServerConfiguration
        if let config {
            settings = try ServerConfiguration.load(jsonFile: config)
            if let db { settings.db = db }
        } else {
            guard let db else { throw ValidationError("--db (or a --config file naming the database) is required") }
            settings = ServerConfiguration(db: db)
        }
        if let listen { settings.listen = listen }
        if let metricsListen { settings.metricsListen = metricsListen }
        if let authTokenFile { settings.authTokenFile = authTokenFile }
        if let tlsCert { settings.tlsCert = tlsCert }
        if let tlsKey { settings.tlsKey = tlsKey }
        if let maxMessageBytes { settings.maxMessageBytes = maxMessageBytes }
        if let maxConcurrentStreams { settings.maxConcurrentStreams = maxConcurrentStreams }
        if let maxConnections { settings.maxConnections = maxConnections }
        if let gracePeriod { settings.gracePeriod = gracePeriod }
        if let snapshotTTL { settings.snapshotTTL = snapshotTTL }
        if let maxSnapshotTTL { settings.maxSnapshotTTL = maxSnapshotTTL }
        if let writeBufferSize { settings.writeBufferSize = writeBufferSize }
        if let maxMemtableAge { settings.maxMemtableAge = maxMemtableAge }
        if warmUpTables { settings.warmUpTables = true }
        if let blockSize { settings.blockSize = blockSize }
        if let compression { settings.compression = compression }
        if let bloomBits { settings.bloomBits = bloomBits }
        if let blockCacheSize { settings.blockCacheSize = blockCacheSize }
        if let maxKeySize { settings.maxKeySize = maxKeySize }
        if let maxValueSize { settings.maxValueSize = maxValueSize }
        if syncWrites { settings.syncWrites = true }
        if let objectStore { settings.objectStore = objectStore }
        if let s3Endpoint { settings.s3Endpoint = s3Endpoint }
        if let s3Region { settings.s3Region = s3Region }
        if s3PathStyle { settings.s3PathStyle = true }
        if let durability { settings.durability = durability }
        if let localCacheBytes { settings.localCacheBytes = localCacheBytes }
        if replica { settings.replica = true }
        if let replicaPollMilliseconds { settings.replicaPollInterval = replicaPollMilliseconds / 1000 }
        if let maxReplicaLag { settings.maxReplicaLag = maxReplicaLag }
        if let respListen { settings.respListen = respListen }
        if let respFsync { settings.respFsync = respFsync }
        if let respMaxClients { settings.respMaxClients = respMaxClients }
        if let respThreads { settings.respThreads = respThreads }
        if let respMaxPendingReplyBytes { settings.respMaxPendingReplyBytes = respMaxPendingReplyBytes }
        if let respManualClock { settings.respManualClock = respManualClock }
        return settings
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level \(logLevel)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "strata.server")
        let server: StrataServer
        do {
            server = try StrataServer(configuration: try serverConfiguration(), logger: logger)
        } catch let error as StrataError {
            fail(error)
        }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.runUntilSignalled() }
                group.addTask {
                    let host = try ListenAddress(server.configuration.listen).host
                    announce("listening on \(host.contains(":") ? "[\(host)]" : host):\(try await server.grpcPort)")
                    if let metricsPort = await server.metricsPort, let metricsListen = server.configuration.metricsListen {
                        announce("metrics on \(try ListenAddress(metricsListen).host):\(metricsPort)")
                    }
                    if let respPort = await server.respPort, let respListen = server.configuration.respListen {
                        announce("resp on \(try ListenAddress(respListen).host):\(respPort)")
                    }
                }
                try await group.waitForAll()
            }
        } catch let error as StrataError {
            fail(error)
        } catch {
            writeStderr("strata-server: \(error)\n")
            Glibc.exit(4)
        }
    }
}

/// Prints a line to stdout at once (tests and scripts wait for it).
func announce(_ line: String) {
    writeAll(1, "strata-server: \(line)\n")
}

func writeStderr(_ text: String) {
    writeAll(2, text)
}

/// Writes all of `text` to file descriptor `fd` (unbuffered, so it is seen at once).
func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Reports a fatal engine error and exits with the `strata` CLI's code for it.
func fail(_ error: StrataError) -> Never {
    writeStderr("strata-server: \(error)\n")
    switch error {
    case .invalidArgument: Glibc.exit(2)
    case .corruption, .incompatible: Glibc.exit(3)
    default: Glibc.exit(4)
    }
}
