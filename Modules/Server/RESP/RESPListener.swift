import Logging
import NIOCore
import NIOPosix
import Strata
import Synchronization

/// The RESP front door's TCP listener: accepts connections (up to `maxClients`), decodes their
/// commands and runs them on worker threads, one batch per connection at a time, so replies
/// keep request order and event-loop threads never block on the engine.
///
/// Two pools: batches that only read run on a small one (about two threads per core: reads
/// never wait for a sync, and more threads than cores only convoy on the engine's locks —
/// measured: 32 reader threads on 2 cores served GET at a tenth of 4 threads' rate); batches
/// that write run on `threads` (writers wait for group commit and, with `always`, its sync, so
/// more of them make larger shared syncs).
final class RESPListener: Sendable {
    /// Settings of the listener.
    struct Settings: Sendable {
        var address: ListenAddress
        var limits: RESPRequestLimits
        var maxClients: Int
        /// A connection whose unsent replies exceed this many bytes (a client that does not
        /// read) is closed.
        var maxPendingReplyBytes: Int
        /// Commands a connection may have waiting before the server stops reading from it.
        var maxQueuedCommands = 10_000
        /// Bytes of arguments a connection may have waiting before the server stops reading.
        var maxQueuedBytes = 64 << 20
        var threads: Int
        /// Threads for read-only batches. Default: twice the cores, at least 2.
        var readThreads = max(2, 2 * System.coreCount)
    }

    let settings: Settings
    let state: RESPServerState
    let keyspace: RESPKeyspace
    let logger: Logger
    private let pool: NIOThreadPool
    private let readPool: NIOThreadPool
    private let serverChannel = Mutex<(any Channel)?>(nil)
    private let children = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let syncTask = Mutex<Task<Void, Never>?>(nil)

    init(settings: Settings, keyspace: RESPKeyspace, token: BearerToken?, manualClock: RESPManualClock?, logger: Logger) {
        self.settings = settings
        self.keyspace = keyspace
        self.logger = logger
        state = RESPServerState(keyspace: keyspace, token: token, manualClock: manualClock)
        pool = NIOThreadPool(numberOfThreads: max(1, settings.threads))
        readPool = NIOThreadPool(numberOfThreads: max(1, settings.readThreads))
    }

    /// Binds the listener; returns the port.
    func start(group: MultiThreadedEventLoopGroup) async throws -> Int {
        pool.start()
        readPool.start()
        let settings = self.settings
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: settings.maxPendingReplyBytes / 2, high: settings.maxPendingReplyBytes))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let server = self.state
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPRequestDecoder(limits: settings.limits)))
                    try channel.pipeline.syncOperations.addHandler(RESPConnectionHandler(server: server, listener: self))
                }
            }
            .bind(host: settings.address.host, port: settings.address.port).get()
        let port = bound.localAddress?.port ?? settings.address.port
        state.port.store(port, ordering: .releasing)
        serverChannel.withLock { $0 = bound }
        if keyspace.fsync == .everysec {
            let database = keyspace.database
            syncTask.withLock {
                $0 = Task {
                    // appendfsync everysec: sync the log once a second when something was written.
                    var synced = database.statistics.lastSequence
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        let latest = database.statistics.lastSequence
                        if latest != synced {
                            do {
                                try await database.sync()
                                synced = latest
                            } catch {
                                if !Task.isCancelled { self.logger.warning("RESP everysec sync failed", metadata: ["error": "\(error)"]) }
                            }
                        }
                    }
                }
            }
        }
        return port
    }

    /// Stops accepting, closes every connection, waits for the commands running on the worker
    /// threads, and syncs the log a last time (everysec).
    func stop() async {
        let channel = serverChannel.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        for child in children.withLock({ Array($0.values) }) { try? await child.close() }
        try? await pool.shutdownGracefully()
        try? await readPool.shutdownGracefully()
        let task = syncTask.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        if keyspace.fsync == .everysec { try? await keyspace.database.sync() }
    }

    /// Registers a connection; `false` when `maxClients` are already connected.
    func admit(_ channel: any Channel, server: RESPServerState) -> Bool {
        server.connectionsReceived.add(1, ordering: .relaxed)
        let count = server.connectedClients.add(1, ordering: .relaxed).newValue
        guard count <= settings.maxClients else {
            server.connectedClients.subtract(1, ordering: .relaxed)
            server.rejectedConnections.add(1, ordering: .relaxed)
            return false
        }
        children.withLock { $0[ObjectIdentifier(channel)] = channel }
        return true
    }

    /// Forgets a closed connection.
    func release(_ channel: any Channel, server: RESPServerState) {
        let removed = children.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) != nil }
        if removed { server.connectedClients.subtract(1, ordering: .relaxed) }
    }

    /// Runs `body` on a worker thread (of the read pool when `readOnly`); the future completes
    /// on `eventLoop`.
    func run<Result: Sendable>(on eventLoop: any EventLoop, readOnly: Bool, _ body: @escaping @Sendable () -> Result) -> EventLoopFuture<Result> {
        (readOnly ? readPool : pool).runIfActive(eventLoop: eventLoop, body)
    }
}

/// One RESP connection: queues decoded commands, runs them in batches on the listener's
/// workers, writes the replies in order, and applies the limits (reading pauses while too many
/// commands wait; a client that stops reading its replies is disconnected).
final class RESPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = [[UInt8]]
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: RESPServerState
    private let listener: RESPListener
    /// Touched by one worker at a time: `running` is true exactly while a worker has it.
    private let session: UncheckedSession
    private var queue: [[[UInt8]]] = []
    private var queuedBytes = 0
    private var running = false
    private var readWithheld = false
    private var admitted = false
    private var protocolError: String? = nil
    private var closing = false

    init(server: RESPServerState, listener: RESPListener) {
        self.server = server
        self.listener = listener
        session = UncheckedSession(RESPSession(server: server))
    }

    func channelActive(context: ChannelHandlerContext) {
        admitted = listener.admit(context.channel, server: server)
        if !admitted {
            closing = true
            var buffer = context.channel.allocator.buffer(capacity: 64)
            RESPReply.error("ERR max number of clients reached").write(to: &buffer, protocolVersion: 2)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        if admitted { listener.release(context.channel, server: server) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let command = unwrapInboundIn(data)
        queuedBytes += command.reduce(16) { $0 + $1.count }
        queue.append(command)
        if !running { runQueued(context: context) }
    }

    func read(context: ChannelHandlerContext) {
        // Backpressure: stop reading while enough commands wait.
        if isFull {
            readWithheld = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? RESPProtocolError {
            protocolError = error.message
            if !running { finishWithProtocolError(context: context) }
            return
        }
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable && !closing {
            // Replies piled up past the limit: the client is not reading them.
            closing = true
            listener.logger.warning("RESP client disconnected: unsent replies over the limit", metadata: ["limit_bytes": "\(listener.settings.maxPendingReplyBytes)"])
            context.close(promise: nil)
        }
        context.fireChannelWritabilityChanged()
    }

    private func runQueued(context: ChannelHandlerContext) {
        guard !queue.isEmpty, !closing else { return }
        running = true
        let batch = queue
        queue = []
        queuedBytes = 0
        let session = self.session
        let readOnly = session.value.isReadOnly(batch)
        listener.run(on: context.eventLoop, readOnly: readOnly) { session.value.execute(batch) }
            .assumeIsolated().whenComplete { [self] result in
                running = false
                guard !closing else { return }
                switch result {
                case .success(let replies):
                    var buffer = context.channel.allocator.buffer(capacity: 256)
                    let version = session.value.protocolVersion
                    for reply in replies { reply.write(to: &buffer, protocolVersion: version) }
                    if session.value.closeRequested {
                        closing = true
                        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                        return
                    }
                    context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
                case .failure:
                    // The worker pool stopped (shutdown).
                    closing = true
                    context.close(promise: nil)
                    return
                }
                if protocolError != nil {
                    finishWithProtocolError(context: context)
                    return
                }
                if readWithheld && !isFull {
                    readWithheld = false
                    context.read()
                }
                runQueued(context: context)
            }
    }

    private var isFull: Bool {
        queue.count >= listener.settings.maxQueuedCommands || queuedBytes >= listener.settings.maxQueuedBytes
    }

    private func finishWithProtocolError(context: ChannelHandlerContext) {
        guard let message = protocolError, !closing else { return }
        closing = true
        var buffer = context.channel.allocator.buffer(capacity: 128)
        RESPReply.error("ERR Protocol error: \(message)").write(to: &buffer, protocolVersion: 2)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// A session handed between the event loop and one worker at a time (never two at once: the
/// connection runs one batch at a time), hence unchecked.
final class UncheckedSession: @unchecked Sendable {
    let value: RESPSession
    init(_ value: RESPSession) { self.value = value }
}
