#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compaction
import Encoding
import Logging
import Manifest
import Memtable
import SSTable
import VFS
import WAL

// See Docs/ARCHITECTURE.md ("Recovery").

extension Database {
    /// Opens or creates the database and recovers it (see `Database.open`).
    convenience init(path: String, options: Options, storeTables: StoreTables? = nil) throws {
        let fileSystem = options.fileSystem
        let started = WallClock.monotonicNanoseconds()
        let versionSet = try Database.openVersionSet(path: path, options: options, tablesMayBeAbsent: storeTables?.budget != nil)
        do {
            try self.init(path: path, options: options, versionSet: versionSet, storeTables: storeTables)
        } catch {
            try? versionSet.close()
            throw error
        }
        do {
            if options.readOnly { try recoverReadOnly() } else { try recover() }
        } catch {
            stopBackgroundWork()
            try? wal.withLock { try $0?.close() }
            try? versionSet.close()
            closed.store(true, ordering: .releasing)
            throw error
        }
        if options.backgroundWork && !options.readOnly { startBackgroundWork() }
        if options.warmUpTablesOnOpen && !options.readOnly { startTableWarmUp() }
        if let interval = options.metricsInterval {
            metrics.start(every: interval) { [weak self] in self?.statistics }
        }
        let version = versionSet.currentVersion
        logger.debug("opened database", metadata: [
            "readOnly": "\(options.readOnly)",
            "path": "\(path)", "id": "\(versionSet.databaseID)", "lastSequence": "\(lastSequence.load(ordering: .relaxed))",
            "tables": "\(version.allFileNumbers.count)", "milliseconds": "\((WallClock.monotonicNanoseconds() - started) / 1_000_000)",
        ])
        _ = fileSystem
    }

    /// Checks the directory and opens (or creates) the version set, taking the lock.
    static func openVersionSet(path: String, options: Options, tablesMayBeAbsent: Bool = false) throws -> VersionSet {
        let fileSystem = options.fileSystem
        var manifestOptions = ManifestOptions()
        manifestOptions.maxManifestSize = options.maxManifestSize
        manifestOptions.tablesMayBeAbsent = tablesMayBeAbsent
        if fileSystem.exists(path) && !fileSystem.isDirectory(path) {
            throw StrataError.invalidArgument("\(path) exists and is not a directory")
        }
        if options.readOnly {
            guard VersionSet.exists(directory: path, fileSystem: fileSystem) else {
                throw StrataError.invalidArgument("\(path) holds no database (no CURRENT file); a read-only open never creates one")
            }
            return try VersionSet.openReadOnly(directory: path, fileSystem: fileSystem, options: manifestOptions)
        }
        if VersionSet.exists(directory: path, fileSystem: fileSystem) {
            guard !options.errorIfExists else { throw StrataError.invalidArgument("a database already exists in \(path)") }
            return try VersionSet.open(directory: path, fileSystem: fileSystem, options: manifestOptions)
        }
        guard options.createIfMissing else {
            throw StrataError.invalidArgument("\(path) holds no database (no CURRENT file) and createIfMissing is off")
        }
        if fileSystem.isDirectory(path) {
            // Only create a database in an empty directory (or one holding just a stale lock):
            // pointing Strata at the wrong directory must not scatter files among someone's data.
            let foreign = try fileSystem.listDirectory(path).filter { $0 != DatabaseFiles.lock }
            guard foreign.isEmpty else {
                throw StrataError.invalidArgument("\(path) is not a Strata database and not empty (holds \(foreign.sorted().prefix(3).joined(separator: ", ")))")
            }
        }
        return try VersionSet.create(directory: path, fileSystem: fileSystem, options: manifestOptions)
    }

    private convenience init(path: String, options: Options, versionSet: VersionSet, storeTables: StoreTables?) throws {
        try self.init(
            path: path, options: options, versionSet: versionSet,
            firstMemtable: try Memtable(capacity: Database.memtableCapacity(options)), storeTables: storeTables)
    }

    /// Replays the WAL into memtables (flushing as they fill), flushes the remainder, starts a
    /// fresh segment and records it as the log number, so the replayed segments become garbage.
    func recover() throws {
        let garbage = try versionSet.collectGarbage()
        for table in garbage.tables { tableCache.evict(table) }
        let logNumber = versionSet.logNumber
        let segments = try WALSegment.list(in: path, fileSystem: fileSystem, from: logNumber)
        var maxSequence = versionSet.lastSequence
        let keyspaces = versionSet.currentVersion.keyspaceTrees.keys.sorted()
        var memtables = try RecoveryMemtables(keyspaces: keyspaces, capacity: memtableCapacity, walSegment: segments.first?.number ?? logNumber, maxSequence: maxSequence)
        var replayedRecords = 0
        let replay = try WALReader.replay(
            segments: segments, databaseID: versionSet.databaseID, fileSystem: fileSystem,
            mode: options.walRecoveryMode, maxRecordSize: options.maxBatchSize
        ) { payload, location in
            // Records already in tables (sequence ≤ the manifest's last sequence) are skipped.
            if let range = WriteBatch.sequenceRange(of: payload), range.upperBound <= versionSet.lastSequence { return }
            let entries = WriteBatch.sequenceRange(of: payload).map { Int($0.upperBound.rawValue - $0.lowerBound.rawValue + 1) } ?? 0
            if !memtables.canHold(bytes: payload.count, entries: entries) || memtables.approximateMemoryUsage >= options.writeBufferSize {
                // Bounded memory: flush what was replayed so far; this segment is still needed.
                try flushRecovered(memtables, logNumber: location.segment)
                memtables = try memtables.next(capacity: memtableCapacity, walSegment: location.segment)
            }
            memtables.noteWALSegment(location.segment)
            try memtables.apply(payload, file: WALSegment.fileName(for: location.segment), offset: Int(location.offset))
            replayedRecords += 1
        }
        maxSequence = max(maxSequence, memtables.maxSequence, replay.maxSequence ?? .zero)
        if let torn = replay.tornTail {
            logger.warning("WAL torn tail dropped", metadata: [
                "file": "\(torn.file)", "offset": "\(torn.offset)", "droppedBytes": "\(torn.droppedBytes)", "reason": "\(torn.reason)",
            ])
        }
        for skipped in replay.skipped {
            logger.warning("WAL damage skipped", metadata: ["file": "\(skipped.file)", "offset": "\(skipped.offset)", "droppedBytes": "\(skipped.droppedBytes)"])
        }
        recoveryReport.withLock { $0 = RecoveryReport(records: replayedRecords, segments: segments.count, droppedBytes: replay.droppedBytes, tornTail: replay.tornTail) }

        // A fresh segment for new writes. Its number is above every segment present, so no
        // number is ever reused.
        let present = try fileSystem.listDirectory(path).compactMap(WALSegment.number(fromFileName:))
        let segment = max(logNumber, (present.max() ?? 0) + 1, 1)
        var walOptions = WALOptions()
        walOptions.maxRecordSize = options.maxBatchSize
        try wal.withLock { [path, versionSet, fileSystem, walOptions] wal in
            wal = try WALWriter.create(directory: path, segmentNumber: segment, databaseID: versionSet.databaseID, fileSystem: fileSystem, options: walOptions)
        }
        // Flush the replayed data and move the log number past every replayed segment in one
        // edit: either both happen or, after a crash, the replay simply runs again.
        try flushRecovered(memtables, logNumber: segment, lastSequence: maxSequence)
        let active = try RecoveryMemtables(keyspaces: keyspaces, capacity: memtableCapacity, walSegment: segment, maxSequence: maxSequence)
        state.withLock { state in
            state.active = active.defaultKeyspace
            state.keyspaceActive = active.keyspaces
            publishMemtables(state)
        }
        lastSequence.store(maxSequence.rawValue, ordering: .releasing)
        let removed = try versionSet.collectGarbage()
        for table in removed.tables { tableCache.evict(table) }
        if replayedRecords > 0 || replay.droppedBytes > 0 {
            logger.debug("recovered WAL", metadata: [
                "segments": "\(segments.count)", "records": "\(replayedRecords)", "droppedBytes": "\(replay.droppedBytes)",
                "lastSequence": "\(maxSequence)",
            ])
        }
    }

    /// Whether `error` says a file vanished or changed while it was being read: what a
    /// concurrent writer does to a read-only open when it collects garbage (deletes a segment or
    /// table, replaces the manifest) or closes a log segment (trims its reserved tail).
    static func isVanishedFile(_ error: StrataError) -> Bool {
        switch error {
        case .io(_, let errno, _): return errno == ENOENT
        case .corruption(_, _, let reason): return reason.contains("missing") || reason.contains("shrank while being read")
        default: return false
        }
    }

    /// The read-only form of `recover()`: replays the WAL into memtables that stay in memory
    /// (frozen as they fill, never flushed), writes nothing, and opens every table of the version
    /// so that files another process deletes meanwhile stay readable.
    func recoverReadOnly() throws {
        let logNumber = versionSet.logNumber
        let segments = try WALSegment.list(in: path, fileSystem: fileSystem, from: logNumber)
        let keyspaces = versionSet.currentVersion.keyspaceTrees.keys.sorted()
        var memtables = try RecoveryMemtables(
            keyspaces: keyspaces, capacity: memtableCapacity, walSegment: segments.first?.number ?? logNumber, maxSequence: versionSet.lastSequence)
        var frozen: [FrozenMemtable] = []
        var keyspaceFrozen: [ObjectIdentifier: [UInt32: FrozenMemtable]] = [:]
        func freeze(_ memtables: RecoveryMemtables) {
            let generation = memtables.defaultKeyspace.freeze()
            frozen.insert(generation, at: 0)
            let named = memtables.keyspaces.mapValues { $0.freeze() }.filter { $0.value.entryCount + $0.value.rangeTombstoneCount > 0 }
            if !named.isEmpty { keyspaceFrozen[ObjectIdentifier(generation)] = named }
        }
        var replayedRecords = 0
        // A writer may be appending to the newest segment: its unfinished tail reads as a torn
        // tail, which ends the log (the writes behind it are after this open's moment).
        let mode: WALRecoveryMode = options.walRecoveryMode == .skipCorrupted ? .skipCorrupted : .tolerateTornTail
        let replay = try WALReader.replay(
            segments: segments, databaseID: versionSet.databaseID, fileSystem: fileSystem, mode: mode, maxRecordSize: options.maxBatchSize
        ) { payload, location in
            if let range = WriteBatch.sequenceRange(of: payload), range.upperBound <= versionSet.lastSequence { return }
            let entries = WriteBatch.sequenceRange(of: payload).map { Int($0.upperBound.rawValue - $0.lowerBound.rawValue + 1) } ?? 0
            if !memtables.canHold(bytes: payload.count, entries: entries) || memtables.approximateMemoryUsage >= options.writeBufferSize {
                let next = try memtables.next(capacity: memtableCapacity, walSegment: location.segment)
                freeze(memtables)
                memtables = next
            }
            try memtables.apply(payload, file: WALSegment.fileName(for: location.segment), offset: Int(location.offset))
            replayedRecords += 1
        }
        let maxSequence = max(versionSet.lastSequence, memtables.maxSequence, replay.maxSequence ?? .zero)
        recoveryReport.withLock { $0 = RecoveryReport(records: replayedRecords, segments: segments.count, droppedBytes: replay.droppedBytes, tornTail: replay.tornTail) }
        // Everything replayed is immutable from here on; the active memtables stay empty.
        if !memtables.isEmpty { freeze(memtables) }
        let active = try RecoveryMemtables(keyspaces: keyspaces, capacity: 1 << 16, walSegment: memtables.defaultKeyspace.walSegments.upperBound, maxSequence: maxSequence)
        state.withLock { state in
            state.active = active.defaultKeyspace
            state.frozen = frozen
            state.keyspaceActive = active.keyspaces
            state.keyspaceFrozen = keyspaceFrozen
            publishMemtables(state)
        }
        lastSequence.store(maxSequence.rawValue, ordering: .releasing)
        // Opening every table finds a damaged one now rather than on some later read; tables
        // only the object store holds (a local cache) are checked when they are fetched.
        for file in versionSet.currentVersion.allFiles
        where tableCache.fileSource == nil || fileSystem.exists(Path.join(path, DatabaseFiles.tableName(file.fileNumber))) {
            _ = try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize)
        }
    }

    /// Writes replayed memtables to level 0 (one table per keyspace that holds anything) and
    /// records `logNumber`, in one edit.
    private func flushRecovered(_ memtables: RecoveryMemtables, logNumber: UInt64, lastSequence: SequenceNumber? = nil) throws {
        var edit = VersionEdit()
        edit.logNumber = logNumber
        edit.lastSequence = lastSequence ?? memtables.maxSequence
        let version = versionSet.currentVersion
        var reserved: [UInt64] = []
        var parts = [(KeyspaceDescriptor.defaultID, memtables.defaultKeyspace, options.tableBuilderOptions)]
        for (id, memtable) in memtables.keyspaces.sorted(by: { $0.key < $1.key }) {
            guard let descriptor = version.keyspaceDescriptors[id] else { continue }
            parts.append((id, memtable, try tableBuilderOptions(for: descriptor)))
        }
        for (keyspace, memtable, builderOptions) in parts {
            let frozen = memtable.freeze()
            guard frozen.entryCount + frozen.rangeTombstoneCount > 0 else { continue }
            let number = versionSet.newFileNumber(reserve: true)
            reserved.append(number)
            let table = try TableBuilder.build(from: frozen.flushSource, fileSystem: fileSystem, directory: path, fileNumber: number, options: builderOptions)
            edit.add(FileMetadata(table, level: 0, keyspace: keyspace))
            counters.flushes.add(1, ordering: .relaxed)
            counters.flushBytesWritten.add(table.fileSize, ordering: .relaxed)
        }
        try versionSet.logAndApply(edit)
        for number in reserved { versionSet.references.unreserve(number) }
    }
}

/// The memtables recovery replays the log into: the default keyspace's and one per named
/// keyspace of the manifest (a record's entries of a keyspace dropped since are skipped: no
/// memtable takes them).
struct RecoveryMemtables {
    let defaultKeyspace: Memtable
    let keyspaces: [UInt32: Memtable]

    /// Empty memtables for the default keyspace and `keyspaces`, numbered after `maxSequence`.
    init(keyspaces ids: [UInt32], capacity: Int, walSegment: UInt64, maxSequence: SequenceNumber) throws {
        defaultKeyspace = try Memtable(capacity: capacity, walSegment: walSegment)
        defaultKeyspace.injectMaxSequence(maxSequence)
        var keyspaces: [UInt32: Memtable] = [:]
        for id in ids {
            let memtable = try Memtable(capacity: capacity, walSegment: walSegment)
            memtable.injectMaxSequence(maxSequence)
            keyspaces[id] = memtable
        }
        self.keyspaces = keyspaces
    }

    /// Fresh memtables for the same keyspaces, numbered after these.
    func next(capacity: Int, walSegment: UInt64) throws -> RecoveryMemtables {
        try RecoveryMemtables(keyspaces: Array(keyspaces.keys), capacity: capacity, walSegment: walSegment, maxSequence: maxSequence)
    }

    private var all: [Memtable] { [defaultKeyspace] + keyspaces.values }

    /// The highest sequence any of them holds.
    var maxSequence: SequenceNumber { all.map(\.maxSequence).max()! }

    /// Their memory together.
    var approximateMemoryUsage: Int { all.reduce(0) { $0 + $1.approximateMemoryUsage } }

    /// Whether none holds anything.
    var isEmpty: Bool { all.allSatisfy { $0.entryCount + $0.rangeTombstoneCount == 0 } }

    /// Whether each could take a whole record of `bytes` and `entries`.
    func canHold(bytes: Int, entries: Int) -> Bool { all.allSatisfy { $0.canHold(bytes: bytes, entries: entries) } }

    func noteWALSegment(_ segment: UInt64) {
        for memtable in all { memtable.noteWALSegment(segment) }
    }

    /// Applies each keyspace's entries of the encoded batch `payload` to its memtable (only the
    /// memtables of the keyspaces the batch writes to).
    func apply(_ payload: UnsafeRawBufferPointer, file: String, offset: Int) throws {
        try defaultKeyspace.apply(batch: payload, file: file, offset: offset)
        guard !keyspaces.isEmpty else { return }
        for id in try WriteBatch.summarize(payload, file: file, offset: offset).summary.keyspaces {
            try keyspaces[id]?.apply(batch: payload, keyspace: id, file: file, offset: offset)
        }
    }
}

/// What recovery found in the WAL at open.
public struct RecoveryReport: Sendable, Equatable {
    /// Records replayed.
    public var records = 0
    /// Segments read.
    public var segments = 0
    /// Bytes dropped (a torn tail, or damage skipped in `.skipCorrupted` mode).
    public var droppedBytes: UInt64 = 0
    /// The torn tail dropped, if any.
    public var tornTail: WALTornTail? = nil

    /// An empty report.
    public init(records: Int = 0, segments: Int = 0, droppedBytes: UInt64 = 0, tornTail: WALTornTail? = nil) {
        self.records = records
        self.segments = segments
        self.droppedBytes = droppedBytes
        self.tornTail = tornTail
    }
}
