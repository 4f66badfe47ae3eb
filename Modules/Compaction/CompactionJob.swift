import Encoding
import Manifest
import SSTable
import VFS

/// What a finished compaction produced. The caller logs `edit` (which removes the inputs and adds
/// the outputs) with `VersionSet.logAndApply`, then releases the output numbers' reservations.
public struct CompactionResult: Sendable {
    /// The input level.
    public var level: Int
    /// The output level.
    public var outputLevel: Int
    /// The new files, already synced (for a trivial move: the moved file).
    public var outputs: [FileMetadata]
    /// The edit to log.
    public var edit: VersionEdit
    /// What happened (`compactions == 1`).
    public var statistics: CompactionStatistics

    /// Whether the input was moved by a manifest edit alone.
    public var isTrivialMove: Bool { statistics.trivialMoves > 0 }
}

/// Runs one compaction: merges the input files in a single streaming pass, collapses versions no
/// reader can see, drops tombstones that have nothing left to hide, and writes the result as
/// tables of about `targetFileSize`.
///
/// Memory use is independent of the data size: one block per input table (plus each reader's
/// pinned index and filter), the range tombstones, and the output builder's buffers.
///
/// Output file numbers are reserved from the version set so garbage collection cannot remove them
/// before the caller installs the edit; on failure the job deletes its outputs and releases them.
public final class CompactionJob {
    let compaction: Compaction
    let version: Version
    let snapshots: [SequenceNumber]
    let versionSet: VersionSet
    let tableCache: TableCache
    let builderOptions: TableBuilderOptions
    let targetFileSize: UInt64
    let maxGrandparentOverlapBytes: UInt64
    let filter: (any CompactionFilter)?

    /// Prepares a compaction of `compaction` (picked from `version`) keeping every version visible
    /// to one of `snapshots`.
    public init(
        compaction: Compaction, version: Version, snapshots: [SequenceNumber], versionSet: VersionSet,
        tableCache: TableCache, builderOptions: TableBuilderOptions, options: CompactionOptions
    ) {
        self.compaction = compaction
        self.version = version
        self.snapshots = snapshots
        self.versionSet = versionSet
        self.tableCache = tableCache
        self.builderOptions = builderOptions
        self.targetFileSize = max(1, options.targetFileSize)
        self.maxGrandparentOverlapBytes = options.targetFileSize.multipliedReportingOverflow(by: options.maxGrandparentOverlapFactor).partialValue
        self.filter = options.filter
    }

    /// Runs the compaction.
    ///
    /// - Throws: read errors of the inputs (corruption is reported with the file and offset),
    ///   write errors of the outputs. On failure no live file is changed and partial outputs are
    ///   deleted.
    public func run() throws -> CompactionResult {
        let start = WallClock.monotonicNanoseconds()
        var statistics = CompactionStatistics()
        statistics.compactions = 1
        statistics.inputFiles = UInt64(compaction.allInputs.count)
        statistics.bytesRead = compaction.inputBytes

        // Every input is of one keyspace's tree (the one `version` is); so are the outputs.
        let keyspace = compaction.inputs.first?.keyspace ?? KeyspaceDescriptor.defaultID
        var edit = VersionEdit()
        for file in compaction.inputs { edit.delete(level: compaction.level, fileNumber: file.fileNumber, keyspace: file.keyspace) }
        for file in compaction.outputLevelInputs { edit.delete(level: compaction.outputLevel, fileNumber: file.fileNumber, keyspace: file.keyspace) }
        if compaction.level > 0, let largest = compaction.inputs.map(\.largest).max(by: { InternalKeyComparator.compareArrays($0, $1) < 0 }) {
            edit.setCompactionPointer(level: compaction.level, largest, keyspace: keyspace)
        }

        let grandparentBytes = compaction.grandparents.reduce(0) { $0 + $1.fileSize }
        if compaction.isTrivialMove && grandparentBytes <= maxGrandparentOverlapBytes {
            var moved = compaction.inputs[0]
            moved.level = compaction.outputLevel
            edit.add(moved)
            statistics.trivialMoves = 1
            statistics.bytesRead = 0
            statistics.durationNanoseconds = WallClock.monotonicNanoseconds() - start
            return CompactionResult(level: compaction.level, outputLevel: compaction.outputLevel, outputs: [moved], edit: edit, statistics: statistics)
        }

        let outputs = CompactionOutputs(job: self)
        do {
            try merge(into: outputs, statistics: &statistics)
        } catch {
            outputs.abandon()
            throw error
        }
        let files = outputs.finished.map { FileMetadata($0, level: compaction.outputLevel, keyspace: keyspace) }
        for file in files { edit.add(file) }
        statistics.outputFiles = UInt64(files.count)
        statistics.bytesWritten = files.reduce(0) { $0 + $1.fileSize }
        statistics.rangeTombstonesOut = outputs.tombstonesWritten
        statistics.durationNanoseconds = WallClock.monotonicNanoseconds() - start
        return CompactionResult(level: compaction.level, outputLevel: compaction.outputLevel, outputs: files, edit: edit, statistics: statistics)
    }

    private func merge(into outputs: CompactionOutputs, statistics: inout CompactionStatistics) throws {
        // One source per level-0 file (they overlap), one per deeper input level (it does not).
        var sources: [LevelIterator] = []
        // Inputs are streamed once through private uncached readers (see `streamingReader`).
        if compaction.level == 0 {
            sources = compaction.inputs.map { LevelIterator(files: [$0], tableCache: tableCache, streaming: true) }
        } else if !compaction.inputs.isEmpty {
            sources.append(LevelIterator(files: compaction.inputs, tableCache: tableCache, streaming: true))
        }
        if !compaction.outputLevelInputs.isEmpty {
            sources.append(LevelIterator(files: compaction.outputLevelInputs, tableCache: tableCache, streaming: true))
        }

        var tombstones: [RangeTombstone] = []
        for file in compaction.allInputs {
            tombstones += try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize).rangeTombstones
        }
        let fragments = RangeTombstoneFragments(tombstones)
        let deeper = DeeperLevels(version: version, below: compaction.outputLevel)
        var collapse = VersionCollapse(snapshots: snapshots, tombstones: fragments) { deeper.mayContain($0) }
        let kept = keptTombstones(fragments, collapse: collapse, deeper: deeper, statistics: &statistics)
        outputs.tombstones = kept

        var merged = MergingIterator(sources)
        try merged.seekToFirst()
        var previousUserKey: [UInt8] = []
        var hasPrevious = false
        var grandparents = GrandparentOverlap(files: compaction.grandparents, limit: maxGrandparentOverlapBytes)
        var filtered: [UInt8] = []
        while merged.isValid {
            let key = merged.key
            let userKey = InternalKey.userKey(of: key)
            statistics.entriesIn += 1
            let stopForGrandparents = grandparents.shouldStop(before: key, outputStarted: outputs.hasOpenOutput)
            let newUserKey = !hasPrevious || previousUserKey.withUnsafeBytes({ BytewiseComparator.compare($0, userKey) }) != 0
            if newUserKey {
                // Cut only between user keys: one key's versions never span two files of a level.
                if outputs.hasOpenOutput && (outputs.currentSize >= targetFileSize || stopForGrandparents) {
                    try outputs.cut(before: Array(userKey))
                    grandparents.reset()
                }
                previousUserKey.removeAll(keepingCapacity: true)
                previousUserKey.append(contentsOf: userKey)
                hasPrevious = true
            }
            switch collapse.decide(key) {
            case nil:
                if let filter, InternalKey.kindByte(of: key) == ValueKind.put.rawValue, filter.removes(userKey: userKey, value: merged.value) {
                    // The value becomes a delete at the same sequence: it still hides the older
                    // versions from every reader that saw the value. With nothing older below
                    // the output level and no snapshot older than it, the delete goes too.
                    statistics.filteredValues += 1
                    let sequence = InternalKey.trailer(of: key) >> 8
                    if collapse.stripe(sequence) != 0 || deeper.mayContain(userKey) {
                        filtered.removeAll(keepingCapacity: true)
                        InternalKey.append(userKey: userKey, trailer: sequence << 8 | UInt64(ValueKind.delete.rawValue), to: &filtered)
                        try filtered.withUnsafeBytes { try outputs.add(key: $0, value: UnsafeRawBufferPointer(start: nil, count: 0)) }
                        statistics.entriesOut += 1
                    }
                    break
                }
                try outputs.add(key: key, value: merged.value)
                statistics.entriesOut += 1
            case .shadowed?, .coveredByRangeTombstone?:
                statistics.droppedVersions += 1
            case .obsoleteDelete?:
                statistics.droppedDeletes += 1
            }
            try merged.next()
        }
        try outputs.finish()
    }

    /// The range tombstone pieces the outputs must carry: per fragment, the newest tombstone of
    /// each snapshot stripe (older ones in a stripe hide nothing more), minus those in stripe 0
    /// with nothing below the output level left to hide.
    private func keptTombstones(_ fragments: RangeTombstoneFragments, collapse: VersionCollapse, deeper: DeeperLevels, statistics: inout CompactionStatistics) -> [RangeTombstone] {
        var result: [RangeTombstone] = []
        for fragment in fragments.fragments {
            var lastStripe = -1
            for sequence in fragment.sequences {  // newest first
                let stripe = collapse.stripe(sequence)
                if stripe == lastStripe {
                    statistics.droppedRangeTombstones += 1
                    continue
                }
                lastStripe = stripe
                if stripe == 0 && !deeper.mayOverlap(start: fragment.start, end: fragment.end) {
                    statistics.droppedRangeTombstones += 1
                    continue
                }
                result.append(RangeTombstone(start: fragment.start, end: fragment.end, sequence: SequenceNumber(rawValue: sequence)))
            }
        }
        return result
    }
}

/// The output side of a compaction: the table being written, the finished ones, and which range
/// tombstone pieces go into which file.
///
/// Output file *k* carries the tombstone pieces within `[first key of k, first key of k+1)` (the
/// first file from −∞, the last to +∞), so together the outputs cover every tombstone's whole
/// range — including the gaps between files, which still hide older data in deeper levels.
final class CompactionOutputs {
    unowned let job: CompactionJob
    var tombstones: [RangeTombstone] = []
    private(set) var finished: [TableMetadata] = []
    private(set) var tombstonesWritten: UInt64 = 0
    private var builder: TableBuilder?
    private var reserved: [UInt64] = []
    /// The inclusive lower user-key bound of the current output's tombstone range (`nil`: −∞).
    private var lowerBound: [UInt8]? = nil

    init(job: CompactionJob) {
        self.job = job
    }

    var hasOpenOutput: Bool { builder != nil }

    var currentSize: UInt64 { builder?.estimatedFileSize ?? 0 }

    func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        try openIfNeeded().add(key: key, value: value)
    }

    /// Finishes the current output; the next one starts at `nextUserKey`.
    func cut(before nextUserKey: [UInt8]) throws {
        try finishCurrent(upperBound: nextUserKey)
        lowerBound = nextUserKey
    }

    /// Finishes the last output.
    func finish() throws {
        try finishCurrent(upperBound: nil)
    }

    /// Deletes every output written so far and releases the reserved numbers.
    func abandon() {
        builder?.abandon()
        builder = nil
        for table in finished {
            try? job.versionSet.fileSystem.removeFile(Path.join(job.versionSet.directory, TableFormat.fileName(for: table.fileNumber)))
        }
        for number in reserved { job.versionSet.references.unreserve(number) }
        finished = []
        reserved = []
    }

    private func openIfNeeded() throws -> TableBuilder {
        if let builder { return builder }
        let number = job.versionSet.newFileNumber(reserve: true)
        reserved.append(number)
        let builder = try TableBuilder(fileSystem: job.versionSet.fileSystem, directory: job.versionSet.directory, fileNumber: number, options: job.builderOptions)
        self.builder = builder
        return builder
    }

    private func finishCurrent(upperBound: [UInt8]?) throws {
        let pieces = tombstonePieces(lower: lowerBound, upper: upperBound)
        if builder == nil && pieces.isEmpty { return }
        let output = try openIfNeeded()
        for piece in pieces { try output.addRangeTombstone(piece) }
        tombstonesWritten += UInt64(pieces.count)
        builder = nil
        finished.append(try output.finish())
    }

    /// The tombstones intersected with `[lower, upper)`.
    private func tombstonePieces(lower: [UInt8]?, upper: [UInt8]?) -> [RangeTombstone] {
        tombstones.compactMap { tombstone in
            var piece = tombstone
            if let lower, BytewiseComparator.compare(piece.start, lower) < 0 { piece.start = lower }
            if let upper, BytewiseComparator.compare(piece.end, upper) > 0 { piece.end = upper }
            return BytewiseComparator.compare(piece.start, piece.end) < 0 ? piece : nil
        }
    }
}

/// Answers "may an older version of this key exist below the output level?" for keys that arrive
/// in increasing order, with one cursor per deeper level (LevelDB's `IsBaseLevelForKey`).
final class DeeperLevels {
    private let levels: [[FileMetadata]]
    private var cursors: [Int]

    init(version: Version, below outputLevel: Int) {
        levels = outputLevel + 1 < Version.levelCount ? Array(version.levels[(outputLevel + 1)...]) : []
        cursors = Array(repeating: 0, count: levels.count)
    }

    /// Whether a deeper file's range contains `userKey` (keys must be asked in increasing order).
    func mayContain(_ userKey: UnsafeRawBufferPointer) -> Bool {
        for level in levels.indices {
            let files = levels[level]
            while cursors[level] < files.count,
                files[cursors[level]].largest.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: $0), userKey) }) < 0
            {
                cursors[level] += 1
            }
            if cursors[level] < files.count,
                files[cursors[level]].smallest.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: $0), userKey) }) <= 0
            {
                return true
            }
        }
        return false
    }

    /// Whether any deeper file overlaps the user-key range `[start, end)` (any order of calls).
    func mayOverlap(start: [UInt8], end: [UInt8]) -> Bool {
        levels.contains { files in
            files.contains { file in
                BytewiseComparator.compare(file.largestUserKey, start) >= 0 && BytewiseComparator.compare(file.smallestUserKey, end) < 0
            }
        }
    }
}

/// Tracks how many bytes of the grandparent level the current output overlaps (LevelDB's
/// `ShouldStopBefore`), so no output makes a future compaction read too much.
struct GrandparentOverlap {
    let files: [FileMetadata]
    let limit: UInt64
    private var index = 0
    private var overlapped: UInt64 = 0

    init(files: [FileMetadata], limit: UInt64) {
        self.files = files
        self.limit = limit
    }

    mutating func shouldStop(before key: UnsafeRawBufferPointer, outputStarted: Bool) -> Bool {
        while index < files.count, files[index].largest.withUnsafeBytes({ InternalKeyComparator.compare(key, $0) }) > 0 {
            if outputStarted { overlapped += files[index].fileSize }
            index += 1
        }
        return overlapped > limit
    }

    mutating func reset() {
        overlapped = 0
    }
}
