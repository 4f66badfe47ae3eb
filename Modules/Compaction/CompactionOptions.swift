/// Options of leveled compaction. Defaults follow RocksDB's.
public struct CompactionOptions: Sendable {
    /// Level-0 files that trigger an L0 → L1 compaction. Default 4.
    public var level0CompactionTrigger = 4
    /// Level-0 files at which writers are slowed down. Default 20.
    public var level0SlowdownTrigger = 20
    /// Level-0 files at which writers are stopped until compaction catches up. Default 36.
    public var level0StopTrigger = 36
    /// Target size of level 1. Default 256 MiB.
    public var maxBytesForLevelBase: UInt64 = 256 << 20
    /// Each level's target is this many times the previous one's. Default 10.
    public var levelMultiplier: UInt64 = 10
    /// Output files are cut at this size. Default 64 MiB.
    public var targetFileSize: UInt64 = 64 << 20
    /// An output file is also cut when it overlaps this many times `targetFileSize` of the level
    /// below its output level, so one future compaction never has to read too much. Default 10.
    public var maxGrandparentOverlapFactor: UInt64 = 10
    /// Removes values no reader can see any more (expired ones) as compactions rewrite them;
    /// see `CompactionFilter`. Default `nil`: compactions keep every visible value.
    public var filter: (any CompactionFilter)? = nil

    /// Default options.
    public init() {}

    /// The size target of `level` (≥ 1).
    public func targetSize(ofLevel level: Int) -> UInt64 {
        var target = maxBytesForLevelBase
        if level > 1 {
            for _ in 2...level { target = target.multipliedReportingOverflow(by: levelMultiplier).overflow ? .max : target * levelMultiplier }
        }
        return target
    }
}
