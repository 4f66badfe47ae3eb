import Encoding
import Manifest

/// Leveled compaction (LevelDB/RocksDB style), the default strategy.
///
/// - L0 → L1 when level 0 holds `level0CompactionTrigger` files: all level-0 files (they may
///   overlap and must move together to keep newer data above older) plus the overlapping L1 files.
/// - Ln → Ln+1 (n ≥ 1) when a level exceeds its size target (`maxBytesForLevelBase ×
///   levelMultiplier^(n−1)`): the level with the highest size/target score gives one file, chosen
///   round-robin by key from the level's compaction pointer, plus the overlapping files below.
/// - A picked file that overlaps nothing below (and not too much two levels below) is moved by a
///   manifest edit alone.
public struct LeveledCompactionPicker: CompactionStrategy {
    /// The triggers and size targets it picks by.
    public let options: CompactionOptions

    /// Creates a picker.
    public init(options: CompactionOptions = CompactionOptions()) {
        self.options = options
    }

    /// Each level's compaction score: level 0's file count over its trigger, deeper levels' size
    /// over their target; ≥ 1 means the level needs compaction (the last level scores 0).
    public func scores(version: Version) -> [Double] {
        var scores = [Double](repeating: 0, count: Version.levelCount)
        scores[0] = Double(version.levels[0].count) / Double(max(1, options.level0CompactionTrigger))
        for level in 1..<(Version.levelCount - 1) {
            scores[level] = Double(version.size(ofLevel: level)) / Double(options.targetSize(ofLevel: level))
        }
        return scores
    }

    /// The most urgent compaction (the highest score, if ≥ 1), or `nil` when none is needed.
    public func pickCompaction(version: Version) -> Compaction? {
        let scores = scores(version: version)
        guard let best = scores.indices.max(by: { scores[$0] < scores[$1] }), scores[best] >= 1 else { return nil }
        if best == 0 {
            return make(level: 0, inputs: version.levels[0], version: version, reason: .level0FileCount, score: scores[0])
        }
        let files = version.levels[best]
        // Round-robin: the first file after the level's compaction pointer, wrapping around.
        var chosen = files[0]
        if let pointer = version.compactionPointers[best],
            let next = files.first(where: { InternalKeyComparator.compareArrays($0.smallest, pointer) > 0 })
        {
            chosen = next
        }
        return make(level: best, inputs: [chosen], version: version, reason: .levelSize, score: scores[best])
    }

    /// A compaction of `level`'s files overlapping `[start, end]` (user keys, inclusive; `nil`:
    /// unbounded) into the next level, or `nil` when no file overlaps. Used by manual compaction.
    public func compaction(level: Int, start: [UInt8]?, end: [UInt8]?, version: Version) -> Compaction? {
        let inputs = version.overlappingFiles(level: level, smallestUserKey: start, largestUserKey: end)
        guard !inputs.isEmpty else { return nil }
        // Level 0 files move together: their ranges may overlap anything in the level.
        return make(level: level, inputs: level == 0 ? version.levels[0] : inputs, version: version, reason: .manual, score: 0)
    }

    /// The write pressure on `version`.
    public func writePressure(version: Version) -> WritePressure {
        var pending: UInt64 = 0
        for level in 1..<(Version.levelCount - 1) {
            let size = version.size(ofLevel: level)
            let target = options.targetSize(ofLevel: level)
            if size > target { pending += size - target }
        }
        let files = version.levels[0].count
        return WritePressure(
            level0Files: files, slowdown: files >= options.level0SlowdownTrigger,
            stop: files >= options.level0StopTrigger, pendingCompactionBytes: pending)
    }

    /// The write pressure on the whole of `version`: the default keyspace's tree and every
    /// named keyspace's (the fullest level 0 decides; pending bytes add up).
    public func writePressure(allTreesOf version: Version) -> WritePressure {
        var pressure = writePressure(version: version)
        for tree in version.keyspaceTrees.values {
            let other = writePressure(version: tree)
            pressure.level0Files = max(pressure.level0Files, other.level0Files)
            pressure.slowdown = pressure.slowdown || other.slowdown
            pressure.stop = pressure.stop || other.stop
            pressure.pendingCompactionBytes += other.pendingCompactionBytes
        }
        return pressure
    }

    /// The byte limit on an output file's overlap with the level below its output level.
    package var maxGrandparentOverlapBytes: UInt64 {
        options.targetFileSize.multipliedReportingOverflow(by: options.maxGrandparentOverlapFactor).partialValue
    }

    private func make(level: Int, inputs: [FileMetadata], version: Version, reason: Compaction.Reason, score: Double) -> Compaction {
        let outputLevel = min(level + 1, Version.levelCount - 1)
        let low = inputs.map(\.smallestUserKey).min { BytewiseComparator.compare($0, $1) < 0 }
        let high = inputs.map(\.largestUserKey).max { BytewiseComparator.compare($0, $1) < 0 }
        let below = outputLevel == level ? [] : version.overlappingFiles(level: outputLevel, smallestUserKey: low, largestUserKey: high)
        let all = inputs + below
        let allLow = all.map(\.smallestUserKey).min { BytewiseComparator.compare($0, $1) < 0 }
        let allHigh = all.map(\.largestUserKey).max { BytewiseComparator.compare($0, $1) < 0 }
        let grandparents = outputLevel + 1 < Version.levelCount
            ? version.overlappingFiles(level: outputLevel + 1, smallestUserKey: allLow, largestUserKey: allHigh) : []
        return Compaction(
            level: level, outputLevel: outputLevel, inputs: inputs, outputLevelInputs: below,
            grandparents: grandparents, reason: reason, score: score)
    }
}
