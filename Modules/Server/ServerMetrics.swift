import Prometheus
import Synchronization

/// The server's own metrics, beside the engine's (which the database pushes into the same
/// registry): calls by method and status code with their latency, refused credentials,
/// connections and snapshot leases. Every name is listed in Docs/SERVER.md ("Metrics").
///
/// Thread safety: every method may be called from any task or thread.
final class ServerMetrics: Sendable {
    /// Where every metric lives; `/metrics` prints it.
    let registry: PrometheusCollectorRegistry

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "rpc", metricName: "requests", unitName: "total",
            helpText: "Calls finished, by method and gRPC status code.")
    }
    static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "rpc", metricName: "duration", unitName: "seconds",
            helpText: "Call latency from arrival to the last response message, by method and gRPC status code.")
    }
    static var unauthenticated: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "rpc", metricName: "unauthenticated", unitName: "total",
            helpText: "Calls refused for a missing or wrong bearer token.")
    }
    static var connections: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "server", metricName: "connections", unitName: "",
            helpText: "Open client connections.")
    }
    static var connectionsRefused: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "server", metricName: "connections_refused", unitName: "total",
            helpText: "Connections closed at once because the server had maxConnections open.")
    }
    static var snapshotLeases: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "server", metricName: "snapshot_leases", unitName: "",
            helpText: "Snapshots leased to clients and not yet released or expired.")
    }

    static var respCommands: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "resp", metricName: "commands", unitName: "total",
            helpText: "RESP commands run (replies sent or being sent).")
    }
    static var respConnectionsAccepted: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "resp", metricName: "connections_accepted", unitName: "total",
            helpText: "RESP connections accepted (including those refused at the client limit).")
    }
    static var respConnectionsRefused: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "resp", metricName: "connections_refused", unitName: "total",
            helpText: "RESP connections refused because respMaxClients were connected.")
    }
    static var respConnections: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "resp", metricName: "connections", unitName: "",
            helpText: "Open RESP connections.")
    }

    /// Latency buckets: 50 µs to 10 s, roughly ×2.5 apart.
    static let buckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    private let unauthenticatedCounter: Counter
    private let connectionGauge: Gauge
    private let refusedCounter: Counter
    private let leaseGauge: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        unauthenticatedCounter = registry.makeCounter(descriptor: ServerMetrics.unauthenticated)
        connectionGauge = registry.makeGauge(descriptor: ServerMetrics.connections)
        refusedCounter = registry.makeCounter(descriptor: ServerMetrics.connectionsRefused)
        leaseGauge = registry.makeGauge(descriptor: ServerMetrics.snapshotLeases)
    }

    /// Counts a finished call of `method` (`Service/Method`) that ended with `code` after
    /// `nanoseconds`.
    func finished(method: String, code: String, nanoseconds: UInt64) {
        let labels = [("method", method), ("code", code)]
        registry.makeCounter(descriptor: ServerMetrics.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: ServerMetrics.duration, labels: labels, buckets: ServerMetrics.buckets)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Counts a call refused for its credentials.
    func unauthenticated() { unauthenticatedCounter.increment() }

    /// Records the number of open connections.
    func connections(_ open: Int) { connectionGauge.set(Double(open)) }

    /// Counts a connection refused at the limit.
    func connectionRefused() { refusedCounter.increment() }

    /// Records the number of live snapshot leases.
    func leases(_ count: Int) { leaseGauge.set(Double(count)) }

    private let respReported = Mutex<(commands: Int, accepted: Int, refused: Int)>((0, 0, 0))

    /// Brings the RESP metrics up to the front door's running totals (called at each scrape).
    func resp(commands: Int, accepted: Int, refused: Int, connected: Int) {
        let delta = respReported.withLock { last -> (Int, Int, Int) in
            defer { last = (commands, accepted, refused) }
            return (commands - last.commands, accepted - last.accepted, refused - last.refused)
        }
        registry.makeCounter(descriptor: ServerMetrics.respCommands).increment(by: Int64(max(0, delta.0)))
        registry.makeCounter(descriptor: ServerMetrics.respConnectionsAccepted).increment(by: Int64(max(0, delta.1)))
        registry.makeCounter(descriptor: ServerMetrics.respConnectionsRefused).increment(by: Int64(max(0, delta.2)))
        registry.makeGauge(descriptor: ServerMetrics.respConnections).set(Double(connected))
    }

    /// The registry in the Prometheus text format.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
