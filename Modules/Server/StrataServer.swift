import Encoding
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Strata
import Synchronization

/// One database served over gRPC (`strata.v1.KV` and `grpc.health.v1.Health`), with `/metrics`,
/// bearer-token authentication, limits, and a graceful shutdown.
///
/// Run it as a swift-service-lifecycle `Service` (``runUntilSignalled()`` does that, stopping
/// on SIGTERM or SIGINT) or call ``run()`` and ``beginShutdown()`` yourself. Shutting down:
/// health turns NOT_SERVING, the listener stops accepting, calls in flight get
/// `ServerConfiguration.gracePeriod` to finish (then they are cancelled), and a database the
/// server opened is closed — every write it acknowledged is in the log by then.
///
/// Thread safety: every member may be used from any task.
public final class StrataServer: Service, Sendable {
    /// The settings it was started with.
    public let configuration: ServerConfiguration
    /// The database it serves.
    public let database: Database

    let logger: Logger
    let token: BearerToken?
    let metrics: ServerMetrics
    let snapshots = SnapshotLeases()
    let shuttingDown = ShutdownFlag()
    let ownsDatabase: Bool
    let grpc: GRPCServer<HTTP2ServerTransport.Posix>
    let metricsEndpoint: MetricsEndpoint?
    let limiter: ConnectionLimiter
    let resp: RESPListener?
    private let respPortValue = OnceValue<Int?>()
    private let shutdownRequested: AsyncStream<Void>
    private let requestShutdown: AsyncStream<Void>.Continuation
    private let metricsPortValue = OnceValue<Int?>()

    /// Opens the database `configuration.db` (creating it if missing) and prepares to serve it.
    /// Nothing listens until ``run()``.
    ///
    /// This initializer blocks while the database recovers; call it before entering async code,
    /// or from a thread that may block.
    ///
    /// - Throws: `StrataError.invalidArgument` for bad settings (a listener beyond loopback
    ///   without a token among them), or whatever opening the database throws.
    public convenience init(configuration: ServerConfiguration, logger: Logger = Logger(label: "strata.server")) throws {
        try configuration.validate()
        let token = try configuration.authTokenFile.map { try BearerToken.load(file: $0) }
        let registry = PrometheusCollectorRegistry()
        var options = try configuration.databaseOptions()
        options.metricsFactory = PrometheusMetricsFactory(registry: registry)
        options.logger = logger
        // RESP values expire: compactions drop them (whether or not RESP is served this time).
        let manualClock = configuration.respManualClock.map(RESPManualClock.init(start:))
        options.compactionFilter = ExpiryCompactionFilter(keyPrefix: RESPKeyspace.prefix, now: Self.respClock(manualClock))
        let database: Database
        if configuration.replica == true {
            guard let store = options.objectStore else { throw StrataError.invalidArgument("replica needs objectStore") }
            options.objectStore = nil
            database = try Database.openReplica(objectStore: store, at: configuration.db, options: options)
        } else {
            database = try Database.open(at: configuration.db, options: options)
        }
        try self.init(configuration: configuration, database: database, ownsDatabase: true, token: token, registry: registry, manualClock: manualClock, logger: logger)
    }

    /// Serves `database`, which the caller opened and closes after ``run()`` returns.
    ///
    /// The engine's statistics appear under `/metrics` when the database was opened with
    /// `Options.metricsFactory` set to a `PrometheusMetricsFactory` over `registry`. With a RESP
    /// listener, open the database with `Options.compactionFilter` set to
    /// ``respCompactionFilter`` so expired RESP values give their space back.
    public convenience init(
        configuration: ServerConfiguration, database: Database, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger = Logger(label: "strata.server")
    ) throws {
        try configuration.validate()
        let token = try configuration.authTokenFile.map { try BearerToken.load(file: $0) }
        let manualClock = configuration.respManualClock.map(RESPManualClock.init(start:))
        try self.init(configuration: configuration, database: database, ownsDatabase: false, token: token, registry: registry, manualClock: manualClock, logger: logger)
    }

    /// The compaction filter that drops expired RESP values (on the wall clock), for a database
    /// the caller opens.
    public static let respCompactionFilter: any CompactionFilter = ExpiryCompactionFilter(keyPrefix: RESPKeyspace.prefix)

    static func respClock(_ manual: RESPManualClock?) -> @Sendable () -> UInt64 {
        if let manual { return { manual.now } }
        return { WallClock.microsecondsSinceEpoch() / 1000 }
    }

    private init(
        configuration: ServerConfiguration, database: Database, ownsDatabase: Bool, token: BearerToken?,
        registry: PrometheusCollectorRegistry, manualClock: RESPManualClock?, logger: Logger
    ) throws {
        self.configuration = configuration
        self.database = database
        self.ownsDatabase = ownsDatabase
        self.token = token
        self.logger = logger
        let metrics = ServerMetrics(registry: registry)
        self.metrics = metrics
        (shutdownRequested, requestShutdown) = AsyncStream.makeStream(of: Void.self)
        limiter = ConnectionLimiter(limit: configuration.maxConnections, metrics: metrics)

        let listen = try ListenAddress(configuration.listen)
        var transportConfig = HTTP2ServerTransport.Posix.Config.defaults
        transportConfig.rpc.maxRequestPayloadSize = configuration.transportMessageLimit
        transportConfig.http2.maxConcurrentStreams = configuration.maxConcurrentStreams
        let limiter = self.limiter
        transportConfig.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in limiter.admit(channel) }
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let cert = configuration.tlsCert, let key = configuration.tlsKey {
            security = .tls(certificateChain: [.file(path: cert, format: .pem)], privateKey: .file(path: key, format: .pem))
        } else {
            security = .plaintext
        }
        let transport = HTTP2ServerTransport.Posix(address: listen.socketAddress, transportSecurity: security, config: transportConfig)
        var interceptors: [any ServerInterceptor] = [MetricsInterceptor(metrics: metrics)]
        if let token { interceptors.append(AuthInterceptor(token: token, metrics: metrics)) }
        let snapshots = self.snapshots
        let kv = KVService(database: database, snapshots: snapshots, configuration: configuration)
        let health = HealthService(database: database, shuttingDown: shuttingDown, maxReplicaLag: configuration.maxReplicaLag)
        grpc = GRPCServer(transport: transport, services: [kv, health], interceptors: interceptors)

        let resp = try configuration.respListen.map { text in
            let keyspace = RESPKeyspace(database: database, fsync: try configuration.respFsyncMode(), now: Self.respClock(manualClock))
            let settings = RESPListener.Settings(
                address: try ListenAddress(text),
                limits: RESPRequestLimits(maxBulkLength: database.options.maxValueSize + database.options.maxKeySize),
                maxClients: configuration.respMaxClients, maxPendingReplyBytes: configuration.respMaxPendingReplyBytes,
                threads: try configuration.respWriteThreads(cores: System.coreCount))
            return RESPListener(settings: settings, keyspace: keyspace, token: token, manualClock: manualClock, logger: logger)
        }
        self.resp = resp

        metricsEndpoint = try configuration.metricsListen.map { text in
            MetricsEndpoint(address: try ListenAddress(text), token: token) { [database, snapshots, resp] in
                database.reportMetrics()
                metrics.leases(snapshots.count)
                if let state = resp?.state {
                    metrics.resp(
                        commands: state.commandsProcessed.load(ordering: .relaxed), accepted: state.connectionsReceived.load(ordering: .relaxed),
                        refused: state.rejectedConnections.load(ordering: .relaxed), connected: state.connectedClients.load(ordering: .relaxed))
                }
                return metrics.exposition()
            }
        }
    }

    /// The port the gRPC listener is bound to (useful with port 0), once it is.
    ///
    /// - Throws: when the listener failed to bind or has stopped.
    public var grpcPort: Int {
        get async throws {
            let address = try await grpc.transport.listeningAddress
            if let ipv4 = address.ipv4 { return ipv4.port }
            if let ipv6 = address.ipv6 { return ipv6.port }
            throw StrataError.invalidArgument("the gRPC listener has no TCP address: \(address)")
        }
    }

    /// The port the RESP front door listens on once it is bound (`nil` when not configured).
    public var respPort: Int? {
        get async { await respPortValue.value }
    }

    /// The port `/metrics` is served on once it is bound (`nil` when not configured).
    public var metricsPort: Int? {
        get async { await metricsPortValue.value }
    }

    /// Serves until ``beginShutdown()`` (or the service group's graceful shutdown) and the grace
    /// period that follows; closes the database if the server opened it.
    ///
    /// - Throws: when a listener cannot bind; the database is closed all the same.
    public func run() async throws {
        var failure: (any Error)? = nil
        do {
            try await withGracefulShutdownHandler {
                try await serve()
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } catch {
            failure = error
        }
        beginShutdown()
        await resp?.stop()
        await metricsEndpoint?.stop()
        snapshots.removeAll()
        if ownsDatabase {
            let database = self.database
            do {
                try await Threads.run { try database.close() }
                logger.info("database closed", metadata: ["db": "\(configuration.db)"])
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    /// Begins the graceful shutdown: health turns NOT_SERVING, no new calls are accepted, and
    /// calls in flight have the grace period to finish. Returns at once; ``run()`` returns when
    /// the shutdown is complete. Calling it again does nothing.
    public func beginShutdown() {
        guard !shuttingDown.isSet else { return }
        shuttingDown.set()
        logger.info("shutting down", metadata: ["grace_seconds": "\(configuration.gracePeriod)"])
        grpc.beginGracefulShutdown()
        requestShutdown.yield()
        requestShutdown.finish()
    }

    private enum Finished { case grpc, metrics, housekeeping, graceOver }

    private func serve() async throws {
        try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask {
                try await self.grpc.serve()
                return .grpc
            }
            do {
                try await bindListener("/metrics", address: metricsEndpoint?.address, port: metricsPortValue) {
                    try await metricsEndpoint?.start(group: .singletonMultiThreadedEventLoopGroup)
                }
                try await bindListener("RESP", address: resp?.settings.address, port: respPortValue) {
                    try await resp?.start(group: .singletonMultiThreadedEventLoopGroup)
                }
            } catch {
                group.cancelAll()
                throw error
            }
            group.addTask {
                // Expired snapshot leases release their snapshots.
                while !Task.isCancelled {
                    self.snapshots.expire()
                    self.metrics.leases(self.snapshots.count)
                    try? await Task.sleep(for: .seconds(1))
                }
                return .housekeeping
            }
            group.addTask {
                for await _ in self.shutdownRequested { break }
                if Task.isCancelled { return .graceOver }
                try? await Task.sleep(for: .seconds(self.configuration.gracePeriod))
                return .graceOver
            }
            var served = false
            while let finished = try await group.next() {
                switch finished {
                case .grpc:
                    // Every call has finished: stop the helpers.
                    served = true
                    group.cancelAll()
                case .graceOver where !served:
                    logger.warning("grace period over: cancelling the calls still running")
                    group.cancelAll()
                case .graceOver, .metrics, .housekeeping:
                    break
                }
            }
        }
    }

    /// Binds one of the extra listeners (`start` returns its port, `nil` when it is not
    /// configured) and publishes the port; a failure to bind says which listener and where.
    private func bindListener(_ name: String, address: ListenAddress?, port: OnceValue<Int?>, _ start: () async throws -> Int?) async throws {
        do {
            let bound = try await start()
            port.set(bound)
            if let bound, let address { logger.info("serving \(name)", metadata: ["address": "\(address.host):\(bound)"]) }
        } catch {
            port.set(nil)
            throw StrataError.invalidArgument("cannot listen for \(name) on \(address.map { "\($0)" } ?? "?"): \(error)")
        }
    }

    /// Runs the server until SIGTERM or SIGINT, then shuts it down gracefully (see the type's
    /// documentation).
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [self], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger))
        try await group.run()
    }
}

extension ListenAddress {
    /// The address as the gRPC transport takes it (`localhost` is 127.0.0.1).
    var socketAddress: GRPCNIOTransportCore.SocketAddress {
        if host == "localhost" { return .ipv4(host: "127.0.0.1", port: port) }
        return host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
    }
}

/// A value set once and awaited by any number of tasks.
final class OnceValue<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var isSet = false
        var waiters: [CheckedContinuation<Value, Never>] = []
    }

    private let state = Mutex(State())

    /// Sets the value (only the first call counts) and wakes every waiter.
    func set(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
            guard !state.isSet else { return [] }
            state.isSet = true
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, waiting until it is set.
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Value? in
                    if state.isSet { return state.value }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
