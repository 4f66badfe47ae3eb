import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Serves `GET /metrics` over HTTP/1.1 in the Prometheus text format (and `GET /` with a pointer
/// to it). When the server has a bearer token, scrapes must carry it too.
final class MetricsEndpoint: Sendable {
    let address: ListenAddress
    let token: BearerToken?
    /// Renders the body of a scrape (called on an event loop; must not block).
    let render: @Sendable () -> [UInt8]
    private let channel = Mutex<(any Channel)?>(nil)

    init(address: ListenAddress, token: BearerToken?, render: @escaping @Sendable () -> [UInt8]) {
        self.address = address
        self.token = token
        self.render = render
    }

    /// Binds the listener; returns the port it listens on.
    func start(group: MultiThreadedEventLoopGroup) async throws -> Int {
        let token = self.token
        let render = self.render
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(token: token, render: render))
                }
            }
            .bind(host: address.host, port: address.port).get()
        channel.withLock { $0 = bound }
        return bound.localAddress?.port ?? address.port
    }

    /// Stops listening (open scrapes finish).
    func stop() async {
        let channel = self.channel.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }
}

/// One HTTP/1.1 connection of the metrics endpoint.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let token: BearerToken?
    let render: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(token: BearerToken?, render: @escaping @Sendable () -> [UInt8]) {
        self.token = token
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // a scrape has no body; anything sent is ignored
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        var body: [UInt8]
        var contentType = "text/plain; charset=utf-8"
        if let token, !head.headers["authorization"].contains(where: { token.accepts(header: $0) }) {
            status = .unauthorized
            body = Array("missing or wrong bearer token\n".utf8)
        } else if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            body = Array("only GET\n".utf8)
        } else if path == "/metrics" {
            status = .ok
            body = render()
            contentType = "text/plain; version=0.0.4; charset=utf-8"
        } else if path == "/" {
            status = .ok
            body = Array("strata-server: metrics at /metrics\n".utf8)
        } else {
            status = .notFound
            body = Array("not found; metrics are at /metrics\n".utf8)
        }
        if head.method == .HEAD { body = [] }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.count))
        if status == .unauthorized { headers.add(name: "www-authenticate", value: "Bearer") }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}
