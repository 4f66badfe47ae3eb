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
    /// How output tables are built (in the default keyspace).
    public let builderOptions: TableBuilderOptions
    /// How output tables of a named keyspace are built (`nil`: as `builderOptions`).
    public let keyspaceBuilderOptions: (@Sendable (KeyspaceDescriptor) throws -> TableBuilderOptions)?

    private let running = Locked<[CompactionStatistics]>(Array(repeating: CompactionStatistics(), count: Version.levelCount))

    /// Creates a compactor.
    public init(
        versionSet: VersionSet, tableCache: TableCache, strategy: any CompactionStrategy, builderOptions: TableBuilderOptions,
        keyspaceBuilderOptions: (@Sendable (KeyspaceDescriptor) throws -> TableBuilderOptions)? = nil
    ) {
        self.versionSet = versionSet
        self.tableCache = tableCache
        self.strategy = strategy
        self.builderOptions = builderOptions
        self.keyspaceBuilderOptions = keyspaceBuilderOptions
    }

    /// Runs the most urgent compaction of any keyspace's tree, if any is needed.
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
            let root = versionSet.currentVersion
            var best: (compaction: Compaction, tree: Version, keyspace: UInt32)? = nil
            for (id, tree) in [(KeyspaceDescriptor.defaultID, root)] + root.keyspaceTrees.sorted(by: { $0.key < $1.key }) {
                guard let compaction = strategy.pickCompaction(version: tree) else { continue }
                if best == nil || compaction.score > best!.compaction.score { best = (compaction, tree, id) }
            }
            guard let best else { return nil }
            return try run(best.compaction, version: best.tree, options: try outputOptions(keyspace: best.keyspace, root: root), snapshots: snapshots(), totals: &totals)
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
    ///   - keyspace: the keyspace whose tree to compact (the default keyspace unless given).
    /// - Throws: `.invalidArgument` when the keyspace does not exist.
    @discardableResult
    public func compactRange(
        start: [UInt8]?, end: [UInt8]?, keyspace: UInt32 = KeyspaceDescriptor.defaultID, snapshots: () -> [SequenceNumber]
    ) throws -> [CompactionResult] {
        try running.withLock { totals in
            var done: [CompactionResult] = []
            func tree() throws -> (Version, TableBuilderOptions) {
                let root = versionSet.currentVersion
                guard let tree = root.tree(keyspace) else { throw StrataError.invalidArgument("keyspace \(keyspace) does not exist") }
                return (tree, try outputOptions(keyspace: keyspace, root: root))
            }
            let deepest = try tree().0.levels.lastIndex { !$0.isEmpty } ?? 0
            for level in 0...deepest {
                let (version, options) = try tree()
                // Move each level's data down (level 0 always into level 1); the deepest level
                // holding data is rewritten in place to drop what no snapshot needs.
                guard var compaction = strategy.compaction(level: level, start: start, end: end, version: version) else { continue }
                if level == deepest && level > 0 && level < Version.levelCount - 1 {
                    compaction.outputLevel = level
                    compaction.outputLevelInputs = []
                    compaction.grandparents = []
                }
                done.append(try run(compaction, version: version, options: options, snapshots: snapshots(), totals: &totals))
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

    /// How outputs of `keyspace`'s tree are built, by its descriptor in `root`.
    private func outputOptions(keyspace: UInt32, root: Version) throws -> TableBuilderOptions {
        guard keyspace != KeyspaceDescriptor.defaultID, let descriptor = root.keyspaceDescriptors[keyspace], let keyspaceBuilderOptions else {
            return builderOptions
        }
        return try keyspaceBuilderOptions(descriptor)
    }

    /// Runs `compaction`, picked from `version` (one keyspace's tree), writing tables with `options`.
    private func run(
        _ compaction: Compaction, version: Version, options: TableBuilderOptions, snapshots: [SequenceNumber], totals: inout [CompactionStatistics]
    ) throws -> CompactionResult {
        let job = CompactionJob(
            compaction: compaction, version: version, snapshots: snapshots, versionSet: versionSet,
            tableCache: tableCache, builderOptions: options, options: strategy.options)
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
