import Encoding
import Manifest

/// A compaction to run: which files of which levels go in, where the output goes.
public struct Compaction: Sendable, CustomStringConvertible {
    /// Why it was picked.
    public enum Reason: String, Sendable {
        /// Level 0 reached its file-count trigger.
        case level0FileCount
        /// A level exceeded its size target.
        case levelSize
        /// Requested by `compactRange`.
        case manual
    }

    /// The input level.
    public var level: Int
    /// The output level (`level + 1`, or `level` for a bottom-level rewrite).
    public var outputLevel: Int
    /// Input files of `level`.
    public var inputs: [FileMetadata]
    /// Input files of `outputLevel` that overlap `inputs`.
    public var outputLevelInputs: [FileMetadata]
    /// Files of the level below the output level that overlap the inputs (to bound output files).
    public var grandparents: [FileMetadata]
    /// Why it was picked.
    public var reason: Reason
    /// The score that picked it (size / target, or files / trigger).
    public var score: Double

    /// Creates a compaction description.
    public init(level: Int, outputLevel: Int, inputs: [FileMetadata], outputLevelInputs: [FileMetadata], grandparents: [FileMetadata], reason: Reason, score: Double) {
        self.level = level
        self.outputLevel = outputLevel
        self.inputs = inputs
        self.outputLevelInputs = outputLevelInputs
        self.grandparents = grandparents
        self.reason = reason
        self.score = score
    }

    /// Whether the compaction only moves one file down a level (no overlap below): a manifest
    /// edit suffices, no data is rewritten.
    public var isTrivialMove: Bool {
        level != outputLevel && level > 0 && inputs.count == 1 && outputLevelInputs.isEmpty
    }

    /// Every input file.
    public var allInputs: [FileMetadata] { inputs + outputLevelInputs }

    /// Total bytes of the input files.
    public var inputBytes: UInt64 { allInputs.reduce(0) { $0 + $1.fileSize } }

    /// A one-line, human-readable description.
    public var description: String {
        "L\(level)→L\(outputLevel) (\(reason.rawValue), score \(String(format2: score))): \(inputs.map(\.fileNumber)) + \(outputLevelInputs.map(\.fileNumber))"
    }
}

extension String {
    /// `value` with two decimals.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = String(scaled)
    }
}
