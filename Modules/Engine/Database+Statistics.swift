import Compaction
import Encoding
import Manifest

/// Counters and sizes of an open database. Totals are since it was opened.
public struct Statistics: Sendable, Equatable {
    /// Per-level figures.
    public struct Level: Sendable, Equatable {
        /// Table files in the level.
        public var files: Int
        /// Bytes of those files.
        public var bytes: UInt64
        /// Size target (0 for level 0 and the last level).
        public var targetBytes: UInt64
        /// How urgently it needs compaction (≥ 1: it does).
        public var score: Double
        /// Compactions whose output went to this level.
        public var compactions: UInt64
        /// Bytes those compactions read.
        public var compactionBytesRead: UInt64
        /// Bytes those compactions wrote into this level.
        public var compactionBytesWritten: UInt64
    }

    /// Puts written.
    public var puts: UInt64
    /// Point deletes written.
    public var deletes: UInt64
    /// Range deletes written.
    public var rangeDeletes: UInt64
    /// Batches committed.
    public var batches: UInt64
    /// Commit groups the batches were written in (group commit).
    public var writeGroups: UInt64
    /// Point lookups.
    public var gets: UInt64
    /// Point lookups that found a value.
    public var getHits: UInt64
    /// Key and value bytes the user wrote.
    public var userBytesWritten: UInt64
    /// Bytes appended to the WAL, and `fdatasync`s for writes.
    public var walBytesWritten: UInt64
    /// `fdatasync`s of the WAL for writes.
    public var walSyncs: UInt64
    /// Memtable flushes (recovery's included).
    public var flushes: UInt64
    /// Bytes of the tables memtable flushes wrote.
    public var flushBytesWritten: UInt64
    /// Bytes compactions read.
    public var compactionBytesRead: UInt64
    /// Bytes compactions wrote.
    public var compactionBytesWritten: UInt64
    /// (Flush + compaction bytes written) / user bytes written.
    public var writeAmplification: Double
    /// Block cache lookups that hit.
    public var blockCacheHits: UInt64
    /// Block cache lookups that missed.
    public var blockCacheMisses: UInt64
    /// Point lookups a Bloom filter answered "absent" (a block read saved).
    public var bloomUseful: UInt64
    /// Filter positives for keys that turned out absent.
    public var bloomFalsePositives: UInt64
    /// Time writers spent stalled waiting for flushes or compactions.
    public var stallMicroseconds: UInt64
    /// Memory of the active and frozen memtables.
    public var memtableBytes: Int
    /// Frozen memtables waiting for flush.
    public var frozenMemtables: Int
    /// Live snapshots.
    public var snapshots: Int
    /// The last sequence number.
    public var lastSequence: UInt64
    /// Levels 0…6.
    public var levels: [Level]
    /// Memtables frozen for flush because they were older than `Options.maxMemtableAge`.
    public var ageFlushes: UInt64 = 0
    /// Table files opened since the database was (misses of the open-table cache).
    public var tableOpens: UInt64 = 0
    /// Tables opened by `Options.warmUpTablesOnOpen` so far.
    public var tablesWarmedUp: UInt64 = 0
    /// Read-ahead hints scans gave (`Options.maxReadaheadBytes`).
    public var readaheads: UInt64 = 0
    /// Transactions committed.
    public var transactionCommits: UInt64 = 0
    /// Transaction commits refused because of a conflict (nothing written).
    public var transactionConflicts: UInt64 = 0
    /// Transactions rolled back.
    public var transactionRollbacks: UInt64 = 0
    /// Times `Database.transaction(_:_:)` ran its body again.
    public var transactionRetries: UInt64 = 0
    /// Pessimistic lock requests that had to wait.
    public var lockWaits: UInt64 = 0
    /// Pessimistic lock requests refused as deadlock victims.
    public var deadlocks: UInt64 = 0
    /// Pessimistic lock requests that timed out.
    public var lockTimeouts: UInt64 = 0
    /// With `Options.localCacheBytes`: tables fetched from the object store on first use.
    public var storeTableFetches: UInt64 = 0
    /// With `Options.localCacheBytes`: bytes of tables fetched from the object store.
    public var storeTableFetchedBytes: UInt64 = 0
    /// With `Options.localCacheBytes`: local table copies deleted to stay within the budget.
    public var storeTableEvictions: UInt64 = 0
    /// With `Options.localCacheBytes`: bytes of table files on the local disk.
    public var localTableBytes: UInt64 = 0
    /// A replica's position and lag (`nil` unless opened with `openReplica`).
    public var replica: ReplicaStatus? = nil
    /// Whether writes are refused (a read-only open, or after a background failure).
    public var isReadOnly: Bool
    /// The background failure that turned the database read-only, if any.
    public var backgroundError: String?
}

/// The background jobs running at one moment.
public struct BackgroundActivity: Sendable, Equatable {
    /// A memtable is being written to a level-0 table.
    public var flushing: Bool
    /// A compaction is running.
    public var compacting: Bool
}

/// Named properties for `Database.property(_:)`.
public enum Property: String, Sendable, CaseIterable {
    /// A table of levels (files, size, score, compaction traffic), like RocksDB's `rocksdb.stats`.
    case levelSummary
    /// Every statistic, one per line.
    case statistics
    /// What recovery found at open.
    case recovery
}

extension Database {
    /// Counters and sizes now.
    public var statistics: Statistics {
        let version = versionSet.currentVersion
        let scores = picker.scores(version: version)
        let compactions = compactor.levelStatistics
        let memtableSet = memtables.withLock { $0 }
        let backgroundError = state.withLock { $0.backgroundError }
        let cache = blockCache?.statistics
        let userBytes = counters.userBytesWritten.load(ordering: .relaxed)
        let flushBytes = counters.flushBytesWritten.load(ordering: .relaxed)
        let compactionWritten = compactions.reduce(0) { $0 + $1.bytesWritten }
        let levels = (0..<Version.levelCount).map { level in
            Statistics.Level(
                files: version.levels[level].count, bytes: version.size(ofLevel: level),
                targetBytes: level == 0 || level == Version.levelCount - 1 ? 0 : picker.options.targetSize(ofLevel: level),
                score: scores[level], compactions: compactions[level].compactions,
                compactionBytesRead: compactions[level].bytesRead, compactionBytesWritten: compactions[level].bytesWritten)
        }
        var statistics = Statistics(
            puts: counters.puts.load(ordering: .relaxed), deletes: counters.deletes.load(ordering: .relaxed),
            rangeDeletes: counters.rangeDeletes.load(ordering: .relaxed), batches: counters.batches.load(ordering: .relaxed),
            writeGroups: counters.writeGroups.load(ordering: .relaxed), gets: counters.gets.load(ordering: .relaxed),
            getHits: counters.getHits.load(ordering: .relaxed), userBytesWritten: userBytes,
            walBytesWritten: counters.walBytesWritten.load(ordering: .relaxed), walSyncs: counters.walSyncs.load(ordering: .relaxed),
            flushes: counters.flushes.load(ordering: .relaxed), flushBytesWritten: flushBytes,
            compactionBytesRead: compactions.reduce(0) { $0 + $1.bytesRead }, compactionBytesWritten: compactionWritten,
            writeAmplification: userBytes == 0 ? 0 : Double(flushBytes + compactionWritten) / Double(userBytes),
            blockCacheHits: cache?.hits ?? 0, blockCacheMisses: cache?.misses ?? 0,
            bloomUseful: readStatistics.filterNegatives.load(ordering: .relaxed),
            bloomFalsePositives: readStatistics.filterFalsePositives.load(ordering: .relaxed),
            stallMicroseconds: counters.stallMicros.load(ordering: .relaxed),
            memtableBytes: memtableSet.active.approximateMemoryUsage + memtableSet.frozen.reduce(0) { $0 + $1.approximateMemoryUsage },
            frozenMemtables: memtableSet.frozen.count, snapshots: snapshots.count,
            lastSequence: lastSequence.load(ordering: .relaxed), levels: levels,
            isReadOnly: options.readOnly || refusesUserWrites.load(ordering: .relaxed) || backgroundError != nil, backgroundError: backgroundError.map { "\($0)" })
        statistics.ageFlushes = counters.ageFlushes.load(ordering: .relaxed)
        statistics.tableOpens = tableCache.opens
        statistics.tablesWarmedUp = counters.tablesWarmedUp.load(ordering: .relaxed)
        statistics.readaheads = readStatistics.readaheads.load(ordering: .relaxed)
        statistics.transactionCommits = counters.transactionCommits.load(ordering: .relaxed)
        statistics.transactionConflicts = counters.transactionConflicts.load(ordering: .relaxed)
        statistics.transactionRollbacks = counters.transactionRollbacks.load(ordering: .relaxed)
        statistics.transactionRetries = counters.transactionRetries.load(ordering: .relaxed)
        statistics.lockWaits = counters.lockWaits.load(ordering: .relaxed)
        statistics.deadlocks = counters.deadlocks.load(ordering: .relaxed)
        statistics.lockTimeouts = counters.lockTimeouts.load(ordering: .relaxed)
        if let storeTables, storeTables.budget != nil {
            let figures = storeTables.figures
            statistics.storeTableFetches = figures.fetches
            statistics.storeTableFetchedBytes = figures.fetchedBytes
            statistics.storeTableEvictions = figures.evictions
            statistics.localTableBytes = figures.localBytes
        }
        statistics.replica = replicaStatus
        return statistics
    }

    /// A human-readable property.
    public func property(_ property: Property) -> String {
        let stats = statistics
        switch property {
        case .levelSummary:
            var lines = ["Level  Files     Size(MB)   Target(MB)  Score  Compactions  Read(MB)  Write(MB)"]
            for (index, level) in stats.levels.enumerated() {
                lines.append(
                    "  L\(index)".padded(7) + "\(level.files)".leftPadded(to: 5, with: " ") + fixed(Double(level.bytes) / 1e6).leftPadded(to: 13, with: " ")
                        + (level.targetBytes == 0 ? "-" : fixed(Double(level.targetBytes) / 1e6)).leftPadded(to: 13, with: " ")
                        + fixed(level.score).leftPadded(to: 7, with: " ") + "\(level.compactions)".leftPadded(to: 13, with: " ")
                        + fixed(Double(level.compactionBytesRead) / 1e6).leftPadded(to: 10, with: " ")
                        + fixed(Double(level.compactionBytesWritten) / 1e6).leftPadded(to: 11, with: " "))
            }
            let files = stats.levels.reduce(0) { $0 + $1.files }
            let bytes = stats.levels.reduce(0) { $0 + $1.bytes }
            lines.append("  Sum".padded(7) + "\(files)".leftPadded(to: 5, with: " ") + fixed(Double(bytes) / 1e6).leftPadded(to: 13, with: " "))
            // The named keyspaces' trees (the table above is the default keyspace's).
            let version = versionSet.currentVersion
            for (id, descriptor) in version.keyspaceDescriptors.sorted(by: { $0.value.name < $1.value.name }) {
                guard let tree = version.keyspaceTrees[id] else { continue }
                let perLevel = tree.levels.enumerated().filter { !$0.element.isEmpty }.map { "L\($0.offset) \($0.element.count)" }
                let treeBytes = tree.levels.joined().reduce(0) { $0 + $1.fileSize }
                lines.append("Keyspace \(descriptor.name): \(tree.allFileNumbers.count) files, \(fixed(Double(treeBytes) / 1e6)) MB" + (perLevel.isEmpty ? "" : " (\(perLevel.joined(separator: ", ")))"))
            }
            lines.append("Write amplification \(fixed(stats.writeAmplification)); memtables \(fixed(Double(stats.memtableBytes) / 1e6)) MB (\(stats.frozenMemtables) frozen); stalls \(stats.stallMicroseconds / 1000) ms")
            return lines.joined(separator: "\n")
        case .statistics:
            let pairs: [(String, String)] = [
                ("puts", "\(stats.puts)"), ("deletes", "\(stats.deletes)"), ("range deletes", "\(stats.rangeDeletes)"),
                ("batches", "\(stats.batches)"), ("write groups", "\(stats.writeGroups)"), ("gets", "\(stats.gets)"),
                ("get hits", "\(stats.getHits)"), ("user bytes written", "\(stats.userBytesWritten)"),
                ("WAL bytes written", "\(stats.walBytesWritten)"), ("WAL syncs", "\(stats.walSyncs)"),
                ("flushes", "\(stats.flushes)"), ("age flushes", "\(stats.ageFlushes)"), ("table opens", "\(stats.tableOpens)"),
                ("tables warmed up", "\(stats.tablesWarmedUp)"), ("read-ahead hints", "\(stats.readaheads)"), ("flush bytes written", "\(stats.flushBytesWritten)"),
                ("compaction bytes read", "\(stats.compactionBytesRead)"), ("compaction bytes written", "\(stats.compactionBytesWritten)"),
                ("write amplification", fixed(stats.writeAmplification)), ("block cache hits", "\(stats.blockCacheHits)"),
                ("block cache misses", "\(stats.blockCacheMisses)"), ("bloom filter useful", "\(stats.bloomUseful)"),
                ("bloom filter false positives", "\(stats.bloomFalsePositives)"), ("stall microseconds", "\(stats.stallMicroseconds)"),
                ("memtable bytes", "\(stats.memtableBytes)"), ("frozen memtables", "\(stats.frozenMemtables)"),
                ("snapshots", "\(stats.snapshots)"), ("last sequence", "\(stats.lastSequence)"),
                ("transaction commits", "\(stats.transactionCommits)"), ("transaction conflicts", "\(stats.transactionConflicts)"),
                ("transaction rollbacks", "\(stats.transactionRollbacks)"), ("transaction retries", "\(stats.transactionRetries)"),
                ("lock waits", "\(stats.lockWaits)"), ("deadlocks", "\(stats.deadlocks)"), ("lock timeouts", "\(stats.lockTimeouts)"),
            ]
            return pairs.map { "\($0.0.padded(30)) \($0.1)" }.joined(separator: "\n")
        case .recovery:
            let report = recoveryReport.withLock { $0 }
            var text = "replayed \(report.records) WAL records from \(report.segments) segments, dropped \(report.droppedBytes) bytes"
            if let torn = report.tornTail { text += "; torn tail in \(torn.file) at offset \(torn.offset): \(torn.reason)" }
            return text
        }
    }

    /// What recovery found in the WAL at open.
    public var recovery: RecoveryReport { recoveryReport.withLock { $0 } }

    /// Which background jobs are running now (cheap: one lock, no statistics gathered).
    public var backgroundActivity: BackgroundActivity {
        state.withLock { BackgroundActivity(flushing: $0.flushing, compacting: $0.compacting) }
    }
}

private func fixed(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    var text = String(scaled)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
    }
    return text
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
