import NIOCore
import Synchronization

/// Keeps at most `limit` client connections open: one more is closed as soon as it is accepted
/// (the client sees UNAVAILABLE and may retry), so a flood of connections cannot take the
/// server's memory or file descriptors.
///
/// Thread safety: called on the event loops of many connections at once.
final class ConnectionLimiter: Sendable {
    let limit: Int
    let metrics: ServerMetrics
    private let open = Atomic<Int>(0)

    init(limit: Int, metrics: ServerMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    /// Admits `channel` or refuses it; an admitted channel is uncounted when it closes.
    func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.subtract(1, ordering: .relaxed)
            metrics.connectionRefused()
            // Failing the initializer closes the connection before any HTTP/2 is spoken.
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        metrics.connections(now)
        channel.closeFuture.whenComplete { [self] _ in
            metrics.connections(open.subtract(1, ordering: .relaxed).newValue)
        }
        return channel.eventLoop.makeSucceededVoidFuture()
    }

    /// The number of open connections.
    var count: Int { open.load(ordering: .relaxed) }

    struct ConnectionRefused: Error {}
}
