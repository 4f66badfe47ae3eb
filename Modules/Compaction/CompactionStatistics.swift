/// Counters of compactions: of one job (`CompactionResult.statistics`, with `compactions == 1`),
/// or summed over many (`Compactor.levelStatistics`, one value per output level).
public struct CompactionStatistics: Sendable, Equatable {
    /// Compactions counted.
    public var compactions: UInt64 = 0
    /// Of which trivial moves (a file moved down by a manifest edit alone, nothing rewritten).
    public var trivialMoves: UInt64 = 0
    /// Input files.
    public var inputFiles: UInt64 = 0
    /// Output files.
    public var outputFiles: UInt64 = 0
    /// Bytes of the input files that were read (0 for a trivial move).
    public var bytesRead: UInt64 = 0
    /// Bytes of the output files.
    public var bytesWritten: UInt64 = 0
    /// Point entries read.
    public var entriesIn: UInt64 = 0
    /// Point entries written.
    public var entriesOut: UInt64 = 0
    /// Versions dropped because a newer version or a range tombstone hides them.
    public var droppedVersions: UInt64 = 0
    /// Point deletes dropped (nothing older remains for them to hide).
    public var droppedDeletes: UInt64 = 0
    /// Values the compaction filter removed (each became a delete, or vanished when nothing
    /// older remained for it to hide).
    public var filteredValues: UInt64 = 0
    /// Range tombstone pieces dropped.
    public var droppedRangeTombstones: UInt64 = 0
    /// Range tombstone pieces written to outputs.
    public var rangeTombstonesOut: UInt64 = 0
    /// Wall time.
    public var durationNanoseconds: UInt64 = 0

    /// Zeroed counters.
    public init() {}

    /// Versions and point deletes dropped.
    public var dropped: UInt64 { droppedVersions + droppedDeletes }

    /// Adds `other`'s counters to these.
    public mutating func add(_ other: CompactionStatistics) {
        compactions += other.compactions
        trivialMoves += other.trivialMoves
        inputFiles += other.inputFiles
        outputFiles += other.outputFiles
        bytesRead += other.bytesRead
        bytesWritten += other.bytesWritten
        entriesIn += other.entriesIn
        entriesOut += other.entriesOut
        droppedVersions += other.droppedVersions
        droppedDeletes += other.droppedDeletes
        filteredValues += other.filteredValues
        droppedRangeTombstones += other.droppedRangeTombstones
        rangeTombstonesOut += other.rangeTombstonesOut
        durationNanoseconds += other.durationNanoseconds
    }
}
