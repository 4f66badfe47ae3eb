import CoreMetrics
import Encoding

// The swift-metrics bridge: the engine's statistics as counters and gauges under `strata_…`,
// pushed every `Options.metricsInterval` by one thread, plus timers for flushes and compactions
// recorded as they finish. Nothing is added to the read or write path: the counters behind
// `Database.statistics` are read and their growth reported.

/// Pushes a database's statistics to swift-metrics.
///
/// Every metric carries the dimension `database` (the database path), so several databases in
/// one process stay apart. While the factory is swift-metrics' no-op handler (no backend
/// bootstrapped), a report does nothing.
///
/// Thread safety: `report()` may be called from any thread; reports are serialised.
final class MetricsReporter: Sendable {
    /// Counters reported as their growth since the previous report: (metric, statistic).
    static let counters: [(String, @Sendable (Statistics) -> UInt64)] = [
        ("strata_puts_total", { $0.puts }),
        ("strata_deletes_total", { $0.deletes }),
        ("strata_range_deletes_total", { $0.rangeDeletes }),
        ("strata_batches_total", { $0.batches }),
        ("strata_write_groups_total", { $0.writeGroups }),
        ("strata_gets_total", { $0.gets }),
        ("strata_get_hits_total", { $0.getHits }),
        ("strata_user_bytes_written_total", { $0.userBytesWritten }),
        ("strata_wal_bytes_written_total", { $0.walBytesWritten }),
        ("strata_wal_syncs_total", { $0.walSyncs }),
        ("strata_flushes_total", { $0.flushes }),
        ("strata_flush_bytes_written_total", { $0.flushBytesWritten }),
        ("strata_compaction_bytes_read_total", { $0.compactionBytesRead }),
        ("strata_compaction_bytes_written_total", { $0.compactionBytesWritten }),
        ("strata_compactions_total", { $0.levels.reduce(0) { $0 + $1.compactions } }),
        ("strata_block_cache_hits_total", { $0.blockCacheHits }),
        ("strata_block_cache_misses_total", { $0.blockCacheMisses }),
        ("strata_bloom_useful_total", { $0.bloomUseful }),
        ("strata_bloom_false_positives_total", { $0.bloomFalsePositives }),
        ("strata_stall_microseconds_total", { $0.stallMicroseconds }),
        ("strata_transaction_commits_total", { $0.transactionCommits }),
        ("strata_transaction_conflicts_total", { $0.transactionConflicts }),
        ("strata_transaction_rollbacks_total", { $0.transactionRollbacks }),
        ("strata_transaction_retries_total", { $0.transactionRetries }),
        ("strata_lock_waits_total", { $0.lockWaits }),
        ("strata_deadlocks_total", { $0.deadlocks }),
        ("strata_lock_timeouts_total", { $0.lockTimeouts }),
    ]

    /// Gauges reported as their current value: (metric, statistic).
    static let gauges: [(String, @Sendable (Statistics) -> Double)] = [
        ("strata_memtable_bytes", { Double($0.memtableBytes) }),
        ("strata_frozen_memtables", { Double($0.frozenMemtables) }),
        ("strata_snapshots", { Double($0.snapshots) }),
        ("strata_last_sequence", { Double($0.lastSequence) }),
        ("strata_write_amplification", { $0.writeAmplification }),
        ("strata_block_cache_hit_ratio", { $0.blockCacheHits + $0.blockCacheMisses == 0 ? 0 : Double($0.blockCacheHits) / Double($0.blockCacheHits + $0.blockCacheMisses) }),
    ]

    private struct State {
        var previous: [UInt64]
        var stopped = false
    }

    let database: String
    let explicitFactory: (any MetricsFactory)?
    private let state: Monitor<State>
    private let thread = Locked<Threads.Handle?>(nil)

    init(database: String, factory: (any MetricsFactory)?) {
        self.database = database
        self.explicitFactory = factory
        self.state = Monitor(State(previous: Array(repeating: 0, count: MetricsReporter.counters.count)))
    }

    /// The factory to report to now: the configured one, or whatever is bootstrapped.
    var factory: any MetricsFactory { explicitFactory ?? MetricsSystem.factory }

    /// `false` while reports would go nowhere.
    var isActive: Bool { !(factory is NOOPMetricsHandler) }

    var dimensions: [(String, String)] { [("database", database)] }

    /// Starts a thread that calls `report(statistics())` every `interval` seconds until `stop()`.
    func start(every interval: Double, statistics: @escaping @Sendable () -> Statistics?) {
        let nanoseconds = UInt64(max(interval, 0.01) * 1e9)
        let handle = Threads.start { [self] in
            while true {
                let stopped = state.wait(until: { $0.stopped }, timeoutNanoseconds: nanoseconds) { $0.stopped }
                if stopped { return }
                if let snapshot = statistics() { report(snapshot) }
            }
        }
        thread.withLock { $0 = handle }
    }

    /// Stops the reporting thread (after a final report by the caller, if wanted).
    func stop() {
        state.withLock { $0.stopped = true }
        state.broadcast()
        thread.withLock { $0 }?.join()
    }

    /// Reports `statistics`: counter growth since the last report, gauges, per-level gauges.
    func report(_ statistics: Statistics) {
        let factory = self.factory
        guard !(factory is NOOPMetricsHandler) else { return }
        let dimensions = self.dimensions
        state.withLock { state in
            for (index, (label, value)) in MetricsReporter.counters.enumerated() {
                let now = value(statistics)
                let growth = now >= state.previous[index] ? now - state.previous[index] : now
                state.previous[index] = now
                if growth > 0 { Counter(label: label, dimensions: dimensions, factory: factory).increment(by: Int64(clamping: growth)) }
            }
        }
        for (label, value) in MetricsReporter.gauges {
            Gauge(label: label, dimensions: dimensions, factory: factory).record(value(statistics))
        }
        if let replica = statistics.replica {
            Gauge(label: "strata_replica_applied_sequence", dimensions: dimensions, factory: factory).record(Double(replica.appliedSequence))
            Gauge(label: "strata_replica_primary_sequence", dimensions: dimensions, factory: factory).record(Double(replica.primarySequence))
            Gauge(label: "strata_replica_seconds_behind", dimensions: dimensions, factory: factory).record(replica.secondsBehind)
            Gauge(label: "strata_replica_stale", dimensions: dimensions, factory: factory).record(replica.stale == nil ? 0 : 1)
            Gauge(label: "strata_replica_installed_manifest", dimensions: dimensions, factory: factory).record(Double(replica.installedManifest))
        }
        for (level, figures) in statistics.levels.enumerated() {
            let perLevel = dimensions + [("level", String(level))]
            Gauge(label: "strata_level_files", dimensions: perLevel, factory: factory).record(Double(figures.files))
            Gauge(label: "strata_level_bytes", dimensions: perLevel, factory: factory).record(Double(figures.bytes))
        }
        Gauge(label: "strata_read_only", dimensions: dimensions, factory: factory).record(statistics.isReadOnly ? 1.0 : 0.0)
    }

    /// Records how long a flush or compaction (`kind`) took.
    func recordDuration(_ kind: String, nanoseconds: UInt64) {
        let factory = self.factory
        guard !(factory is NOOPMetricsHandler) else { return }
        Timer(label: "strata_\(kind)_duration", dimensions: dimensions, factory: factory).recordNanoseconds(Int64(clamping: nanoseconds))
    }
}
