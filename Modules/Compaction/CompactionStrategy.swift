import Manifest

/// Decides what to compact. The job code (`CompactionJob`) runs whatever a strategy picks, so a
/// size-tiered or universal strategy can be added without touching it.
public protocol CompactionStrategy: Sendable {
    /// The options the strategy works with.
    var options: CompactionOptions { get }

    /// The most urgent compaction for `version`, or `nil` when none is needed.
    func pickCompaction(version: Version) -> Compaction?

    /// A manual compaction of the files of `level` overlapping `[start, end]` (`nil`: unbounded)
    /// into the next level (or within the last level), or `nil` when the level has none there.
    func compaction(level: Int, start: [UInt8]?, end: [UInt8]?, version: Version) -> Compaction?

    /// How urgently each level needs compaction (≥ 1 means it does).
    func scores(version: Version) -> [Double]
}

/// The write pressure compaction puts on writers.
public struct WritePressure: Sendable, Equatable {
    /// Level-0 files.
    public var level0Files: Int
    /// Writers should be slowed down.
    public var slowdown: Bool
    /// Writers must stop until compaction catches up.
    public var stop: Bool
    /// Bytes by which levels exceed their targets: the compaction debt.
    public var pendingCompactionBytes: UInt64
}
