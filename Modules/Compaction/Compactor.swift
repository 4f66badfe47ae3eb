import Encoding
import Manifest
import SSTable
import Synchronization

/// Runs compactions against a version set: pick, run, log the edit, release reservations,
/// collect garbage. One compaction runs at a time (a second caller waits), so manual and
/// background compactions never pick the same files.
///
/// Thread safety: every method may be called from any thread.
public final class Compactor: Sendable {
    /// The version set compactions are installed into.
    public let versionSet: VersionSet
    /// Where input tables are opened.
    public let tableCache: TableCache
    /// What to compact.
    public let strategy: any CompactionStrategy
    /// How output tables are built.
    public let builderOptions: TableBuilderOptions

    private let running = Locked<[CompactionStatistics]>(Array(repeating: CompactionStatistics(), count: Version.levelCount))

    /// Creates a compactor.
    public init(versionSet: VersionSet, tableCache: TableCache, strategy: any CompactionStrategy, builderOptions: TableBuilderOptions) {
        self.versionSet = versionSet
        self.tableCache = tableCache
        self.strategy = strategy
        self.builderOptions = builderOptions
    }

    /// Runs the most urgent compaction, if any is needed.
    ///
    /// - Parameter snapshots: returns the live snapshot sequences (versions they see are kept).
    ///   It is called after the inputs are picked, under the compactor's lock: a snapshot taken
    ///   later reads at a sequence at or above every input, so it cannot need a dropped version.
    ///   (A list computed before waiting for the lock could miss a snapshot and let a compaction
    ///   that starts later drop a version it needs.)
    /// - Returns: what the compaction did, or `nil` when none was needed.
    /// - Throws: what the job or the manifest write throws; nothing is installed then.
    @discardableResult
    public func compactOnce(snapshots: () -> [SequenceNumber]) throws -> CompactionResult? {
        try running.withLock { totals in
            let version = versionSet.currentVersion
            guard let compaction = strategy.pickCompaction(version: version) else { return nil }
            return try run(compaction, version: version, snapshots: snapshots(), totals: &totals)
        }
    }

    /// Runs the most urgent compaction keeping versions visible to `snapshots` (a fixed list: use
    /// only when no snapshot can be taken concurrently).
    @discardableResult
    public func compactOnce(snapshots: [SequenceNumber]) throws -> CompactionResult? {
        try compactOnce { snapshots }
    }

    /// Compacts `[start, end]` (`nil`: unbounded) level by level until it is all in the deepest
    /// level holding data in that range.
    ///
    /// - Parameters:
    ///   - start: the smallest user key to compact (`nil`: unbounded).
    ///   - end: the largest user key to compact, inclusive (`nil`: unbounded).
    ///   - snapshots: as for `compactOnce`, called for each step after its inputs are picked.
    /// - Returns: the compactions run, in order.
    @discardableResult
    public func compactRange(start: [UInt8]?, end: [UInt8]?, snapshots: () -> [SequenceNumber]) throws -> [CompactionResult] {
        try running.withLock { totals in
            var done: [CompactionResult] = []
            let deepest = versionSet.currentVersion.levels.lastIndex { !$0.isEmpty } ?? 0
            for level in 0...deepest {
                let version = versionSet.currentVersion
                // Move each level's data down (level 0 always into level 1); the deepest level
                // holding data is rewritten in place to drop what no snapshot needs.
                guard var compaction = strategy.compaction(level: level, start: start, end: end, version: version) else { continue }
                if level == deepest && level > 0 && level < Version.levelCount - 1 {
                    compaction.outputLevel = level
                    compaction.outputLevelInputs = []
                    compaction.grandparents = []
                }
                done.append(try run(compaction, version: version, snapshots: snapshots(), totals: &totals))
            }
            // Each step collected garbage while its input version was still referenced (by this
            // loop); now that none is, delete the inputs the steps made obsolete.
            try collectGarbage()
            return done
        }
    }

    /// Compacts a range keeping versions visible to a fixed list of `snapshots`.
    @discardableResult
    public func compactRange(start: [UInt8]?, end: [UInt8]?, snapshots: [SequenceNumber]) throws -> [CompactionResult] {
        try compactRange(start: start, end: end) { snapshots }
    }

    /// Totals so far, indexed by output level.
    public var levelStatistics: [CompactionStatistics] { running.withLock { $0 } }

    private func run(_ compaction: Compaction, version: Version, snapshots: [SequenceNumber], totals: inout [CompactionStatistics]) throws -> CompactionResult {
        let job = CompactionJob(
            compaction: compaction, version: version, snapshots: snapshots, versionSet: versionSet,
            tableCache: tableCache, builderOptions: builderOptions, options: strategy.options)
        let result = try job.run()
        let outputNumbers = result.isTrivialMove ? [] : result.outputs.map(\.fileNumber)
        // If logging fails, the edit may still have reached the disk (a failed sync proves nothing
        // either way), so the outputs stay reserved — never deleted — until the next open, which
        // collects them once the manifest says for sure whether they are live.
        try versionSet.logAndApply(result.edit)
        for number in outputNumbers { versionSet.references.unreserve(number) }
        if !result.isTrivialMove {
            // The inputs left the current version: new readers go to the outputs, so drop the
            // inputs' resident mapped pages now rather than when the last old reader lets go
            // (peak memory would otherwise count both the inputs and the outputs).
            for file in compaction.inputs + compaction.outputLevelInputs { tableCache.releaseResidentPages(of: file.fileNumber) }
        }
        totals[compaction.outputLevel].add(result.statistics)
        try collectGarbage()
        return result
    }

    /// Deletes the files no live version needs and drops them from the table cache.
    private func collectGarbage() throws {
        let garbage = try versionSet.collectGarbage()
        for table in garbage.tables { tableCache.evict(table) }
    }
}
