import Encoding
import Manifest
import Memtable
import SSTable
import VFS
import WAL

/// What `Database.repair(at:options:)` found and did.
public struct RepairReport: Sendable, Equatable {
    /// Tables found in the directory.
    public var tablesFound = 0
    /// Tables that passed their check and are part of the repaired database.
    public var tablesKept = 0
    /// Tables that failed their check, moved to `lost/` (paths after the move).
    public var tablesLost: [String] = []
    /// Point entries in the kept tables.
    public var entries: UInt64 = 0
    /// WAL segments of this database read.
    public var walSegments = 0
    /// WAL records applied (those the tables did not already hold).
    public var walRecords = 0
    /// Tables written from the applied records.
    public var tablesFromWAL = 0
    /// WAL segments of another database (a different identity), left untouched and unused.
    public var foreignSegments: [String] = []
    /// Bytes of WAL damage skipped.
    public var walBytesDropped: UInt64 = 0
    /// Manifests and `CURRENT` moved to `lost/` (the repair writes new ones).
    public var manifestsSetAside: [String] = []
    /// The named keyspaces of the repaired database: from the newest manifest that still
    /// replays, and from the keyspace each table records (a keyspace known only from the log
    /// is called `recovered-<id>`).
    public var keyspaces: [String] = []
    /// Tables of keyspaces that manifest says were dropped, moved to `lost/` instead of kept.
    public var droppedKeyspaceTables: [String] = []
    /// The repaired database's last sequence number.
    public var lastSequence: SequenceNumber = .zero

    /// An empty report.
    public init() {}
}

extension Database {
    /// Rebuilds the manifest of the database in `path` from the files present, for when
    /// `MANIFEST-*` or `CURRENT` is lost or damaged (RocksDB's `RepairDB`, `ldb repair`).
    ///
    /// Every table is checked block by block; good ones are kept, damaged ones are moved to
    /// `lost/`. WAL segments of the database are replayed (damage skipped) into new tables, except
    /// the records the tables already hold. Old manifests and `CURRENT` are moved to `lost/`, a
    /// new manifest lists every kept table, and the database is then opened once and compacted,
    /// which puts every key's versions back in order across levels.
    ///
    /// What cannot be recovered: data only in damaged tables or damaged log records. A key deleted
    /// shortly before the manifest was lost can reappear if an obsolete table holding an older
    /// value had not yet been deleted (the manifest was what said it was obsolete).
    ///
    /// - Throws: `.locked` when the database is open; `.invalidArgument` when `path` is not a
    ///   directory or holds no Strata files; `.io`.
    @discardableResult
    public static func repair(at path: String, options: Options = Options()) throws -> RepairReport {
        try options.validate()
        let fileSystem = options.fileSystem
        guard fileSystem.isDirectory(path) else { throw StrataError.invalidArgument("\(path) is not a directory") }
        var report = RepairReport()
        let lock = try fileSystem.lock(Path.join(path, DatabaseFiles.lock))
        do {
            defer { lock.unlock() }
            try rebuildManifest(path: path, options: options, report: &report)
        }
        // Open once: recovery collects the replayed segments; the compaction merges every table by
        // sequence, so versions that sat in overlapping level-0 tables end up correctly ordered.
        let db = try Database.open(at: path, options: options)
        do {
            try db.compactRange()
            for name in db.keyspaceNames { try db.keyspace(name).compactRange() }
            try db.close()
        } catch {
            try? db.close()
            throw error
        }
        return report
    }

    private static func rebuildManifest(path: String, options: Options, report: inout RepairReport) throws {
        let fileSystem = options.fileSystem
        let names = try fileSystem.listDirectory(path)
        var tables: [UInt64] = []
        var segments: [UInt64] = []
        var manifests: [UInt64] = []
        for name in names {
            switch DatabaseFiles.kind(of: name) {
            case .table(let number)?: tables.append(number)
            case .walSegment(let number)?: segments.append(number)
            case .manifest(let number)?: manifests.append(number)
            default: break
            }
        }
        guard !tables.isEmpty || !segments.isEmpty || !manifests.isEmpty else {
            throw StrataError.invalidArgument("\(path) holds no Strata tables, logs or manifests to repair from")
        }
        tables.sort()
        segments.sort()
        let lost = Path.join(path, "lost")
        func setAside(_ name: String) throws -> String {
            if !fileSystem.isDirectory(lost) { try fileSystem.createDirectory(lost) }
            var target = Path.join(lost, name)
            var suffix = 1
            while fileSystem.exists(target) {
                target = Path.join(lost, "\(name).\(suffix)")
                suffix += 1
            }
            try fileSystem.rename(Path.join(path, name), to: target)
            return target
        }

        // The identity: from a manifest or log segment header (they all carry it).
        let headerSources = manifests.sorted(by: >).map { DatabaseFiles.manifest($0) } + segments.sorted(by: >).map { WALSegment.fileName(for: $0) }
        let databaseID = headerSources.lazy.compactMap { readIdentity(Path.join(path, $0), fileSystem: fileSystem) }.first ?? .random()

        // Keyspaces: as the newest manifest that still replays knows them (with their options,
        // and which ids were dropped), then as tables and the log name them.
        var keyspaces = RepairKeyspaces()
        for number in manifests.sorted(by: >) {
            guard let replayed = try? ManifestReplay.run(directory: path, manifestNumber: number, fileSystem: fileSystem) else { continue }
            keyspaces.learn(from: replayed)
            break
        }

        // Tables: check each block by block.
        var files: [FileMetadata] = []
        var maxSequence = SequenceNumber.zero
        for number in tables {
            report.tablesFound += 1
            let tablePath = Path.join(path, DatabaseFiles.tableName(number))
            do {
                let reader = try TableReader.open(path: tablePath, fileNumber: number, fileSystem: fileSystem, options: TableReaderOptions())
                var checked = TableVerification()
                try reader.verifyBlocks(&checked)
                let properties = reader.properties
                let table = TableMetadata(
                    fileNumber: number, fileSize: reader.fileSize, smallest: properties.smallestKey, largest: properties.largestKey,
                    smallestSequence: SequenceNumber(rawValue: properties.smallestSequence),
                    largestSequence: SequenceNumber(rawValue: properties.largestSequence),
                    entryCount: properties.entries, deletionCount: properties.deletions, rangeDeletionCount: properties.rangeDeletions)
                if keyspaces.wasDropped(properties.keyspaceID) {
                    report.droppedKeyspaceTables.append(try setAside(DatabaseFiles.tableName(number)))
                    continue
                }
                keyspaces.note(properties.keyspaceID, name: properties.keyspaceName)
                files.append(FileMetadata(table, level: 0, keyspace: properties.keyspaceID))
                maxSequence = max(maxSequence, table.largestSequence)
                report.tablesKept += 1
                report.entries += checked.entries
            } catch {
                report.tablesLost.append(try setAside(DatabaseFiles.tableName(number)))
            }
        }
        let tableSequence = maxSequence

        // Logs: replay each segment of this database into memtables, flushed to new tables.
        var nextNumber = ([tables.max() ?? 0, manifests.max() ?? 0, segments.max() ?? 0].max() ?? 0) + 1
        let capacity = Database.memtableCapacity(options)
        // One memtable per keyspace the log writes to (the default keyspace's is `0`).
        var memtables: [UInt32: Memtable] = [0: try Memtable(capacity: capacity)]
        func flushMemtables() throws {
            for (id, memtable) in memtables.sorted(by: { $0.key < $1.key }) where memtable.entryCount + memtable.rangeTombstoneCount > 0 {
                let builderOptions = id == 0 ? options.tableBuilderOptions : try tableBuilderOptions(for: keyspaces.descriptor(id), base: options.tableBuilderOptions)
                let table = try TableBuilder.build(
                    from: memtable.freeze().flushSource, fileSystem: fileSystem, directory: path, fileNumber: nextNumber, options: builderOptions)
                nextNumber += 1
                files.append(FileMetadata(table, level: 0, keyspace: id))
                report.tablesFromWAL += 1
                memtables[id] = try Memtable(capacity: capacity)
            }
        }
        for number in segments {
            let segment = WALSegment(number: number, directory: path)
            guard readIdentity(segment.path, fileSystem: fileSystem) == databaseID else {
                report.foreignSegments.append(segment.path)
                continue
            }
            report.walSegments += 1
            let replay = try WALReader.replay(
                segments: [segment], databaseID: databaseID, fileSystem: fileSystem, mode: .skipCorrupted, maxRecordSize: options.maxBatchSize
            ) { payload, location in
                guard let range = WriteBatch.sequenceRange(of: payload), range.upperBound > tableSequence else { return }
                let entries = Int(range.upperBound.rawValue - range.lowerBound.rawValue + 1)
                do {
                    let written = try WriteBatch.summarize(payload, file: segment.path, offset: Int(location.offset)).summary.keyspaces
                        .filter { !keyspaces.wasDropped($0) }
                    for id in written where memtables[id] == nil {
                        keyspaces.note(id, name: nil)
                        memtables[id] = try Memtable(capacity: capacity)
                    }
                    let usage = memtables.values.reduce(0) { $0 + $1.approximateMemoryUsage }
                    if memtables.values.contains(where: { !$0.canHold(bytes: payload.count, entries: entries) }) || usage >= options.writeBufferSize {
                        try flushMemtables()
                    }
                    try memtables[0]!.apply(batch: payload, file: segment.path, offset: Int(location.offset))
                    for id in written {
                        try memtables[id]!.apply(batch: payload, keyspace: id, file: segment.path, offset: Int(location.offset))
                    }
                    report.walRecords += 1
                    maxSequence = max(maxSequence, range.upperBound)
                } catch let error as StrataError where error.isCorruption {
                    // A record that decodes badly despite its checksum: skip it, like damage.
                    report.walBytesDropped += UInt64(payload.count)
                }
            }
            report.walBytesDropped += replay.droppedBytes
        }
        try flushMemtables()

        // Set the old manifests aside, then write the new one.
        for number in manifests { report.manifestsSetAside.append(try setAside(DatabaseFiles.manifest(number))) }
        if fileSystem.exists(Path.join(path, DatabaseFiles.current)) {
            report.manifestsSetAside.append(try setAside(DatabaseFiles.current))
        }
        let manifestNumber = nextNumber
        var snapshot = VersionEdit.snapshot(
            databaseID: databaseID, files: files, logNumber: (segments.max() ?? 0) + 1,
            nextFileNumber: manifestNumber + 1, lastSequence: maxSequence)
        snapshot.keyspaces = keyspaces.descriptors
        snapshot.nextKeyspaceID = keyspaces.nextID
        try VersionSet.writeManifest(snapshot, manifestNumber: manifestNumber, directory: path, fileSystem: fileSystem)
        report.lastSequence = maxSequence
        report.keyspaces = keyspaces.descriptors.map(\.name).sorted()
    }

    /// The database identity in the segment header of the manifest or log at `path`, if readable.
    private static func readIdentity(_ path: String, fileSystem: any FileSystem) -> DatabaseID? {
        guard let file = try? fileSystem.openReadable(path) else { return nil }
        guard let bytes = try? file.readExactly(at: 0, count: WALFormat.segmentHeaderSize) else { return nil }
        return bytes.withBytes { try? WALSegmentHeader(decoding: $0, file: path) }?.databaseID
    }
}

/// The named keyspaces a repair rebuilds: learnt from a manifest that still replays, then from
/// the keyspaces tables and log records name.
struct RepairKeyspaces {
    private var known: [UInt32: KeyspaceDescriptor] = [:]
    /// The manifest's next keyspace id: ids below it that it does not hold were dropped (0
    /// without a manifest: nothing is known to be dropped).
    private var manifestNextID: UInt32 = 0

    mutating func learn(from replayed: ManifestReplay.Result) {
        for (id, keyspace) in replayed.keyspaces { known[id] = keyspace.descriptor }
        manifestNextID = replayed.nextKeyspaceID
    }

    /// Whether the manifest says keyspace `id` was dropped.
    func wasDropped(_ id: UInt32) -> Bool {
        id != 0 && id < manifestNextID && known[id] == nil
    }

    /// Records that keyspace `id` has data, under `name` when nothing else named it.
    mutating func note(_ id: UInt32, name: String?) {
        guard id != 0, known[id] == nil else { return }
        var chosen = name.flatMap { $0.isEmpty ? nil : $0 } ?? "recovered-\(id)"
        // Names are unique: a clash (a keyspace dropped and created again) gets the id appended.
        if known.values.contains(where: { $0.name == chosen }) { chosen += "-\(id)" }
        known[id] = KeyspaceDescriptor(id: id, name: chosen)
    }

    func descriptor(_ id: UInt32) -> KeyspaceDescriptor {
        known[id] ?? KeyspaceDescriptor(id: id, name: "recovered-\(id)")
    }

    var descriptors: [KeyspaceDescriptor] { known.keys.sorted().map { known[$0]! } }

    var nextID: UInt32 { max(manifestNextID, (known.keys.max() ?? 0) + 1) }
}
