import Encoding
import Manifest
import SSTable
import VFS

/// What `Database.checkpoint(to:)` made.
public struct CheckpointReport: Sendable, Equatable {
    /// Tables in the checkpoint (hard links of the live ones, plus any written from memtables).
    public var tables: Int
    /// Their bytes.
    public var bytes: UInt64
    /// The checkpoint holds every write up to this sequence number, and none after it.
    public var lastSequence: SequenceNumber
}

extension Database {
    /// Makes a consistent, openable copy of the database in `directory` (RocksDB's Checkpoint):
    /// tables are hard-linked (copied across file systems), and a new manifest describing them is
    /// written. The copy holds a prefix of the acknowledged writes — everything up to one moment
    /// during the call — and opens as an ordinary database (same identity, no log to replay).
    ///
    /// A writable database is flushed first, so the copy needs no log; writes may continue
    /// meanwhile. A read-only open writes its in-memory log contents as tables of the copy.
    /// Hard links cost no space until the original's tables are compacted away.
    ///
    /// - Parameter directory: must not exist, or be an empty directory.
    /// - Throws: `.invalidArgument` when `directory` holds anything; `.closed`; `.io`.
    ///
    /// With `Options.localCacheBytes`, tables only the object store holds are fetched first.
    @discardableResult
    public func checkpoint(to directory: String) throws -> CheckpointReport {
        try checkpoint(to: directory, fetchingAbsentTables: true).report
    }

    /// `checkpoint(to:)`, except that with `fetchingAbsentTables` off, live tables whose local
    /// copy a store-backed cache dropped are left out of `directory` and returned by name (the
    /// object store holds them: a store checkpoint refers to those objects).
    func checkpoint(to directory: String, fetchingAbsentTables: Bool) throws -> (report: CheckpointReport, absentTables: [String]) {
        try checkOpen()
        if fileSystem.exists(directory) {
            guard fileSystem.isDirectory(directory), try fileSystem.listDirectory(directory).isEmpty else {
                throw StrataError.invalidArgument("checkpoint directory \(directory) exists and is not empty")
            }
        }
        if !isReadOnly { try flush() }
        // Holding the version keeps its tables from being deleted until they are linked.
        let version = versionSet.currentVersion
        var lastSequence = versionSet.lastSequence
        var files = version.allFiles
        var nextNumber = (files.map(\.fileNumber).max() ?? 0) + 1
        try fileSystem.createDirectory(directory)
        var absentTables: [String] = []
        for file in files {
            let name = DatabaseFiles.tableName(file.fileNumber)
            let source = Path.join(path, name)
            if let fileSource = tableCache.fileSource, !fileSystem.exists(source) {
                guard fetchingAbsentTables else {
                    absentTables.append(name)
                    continue
                }
                try fileSource.prepareTable(file.fileNumber, path: source)
            }
            do {
                try fileSystem.linkFile(source, to: Path.join(directory, name))
            } catch let error where tableCache.fileSource != nil && !fileSystem.exists(source) {
                // The cache dropped it between the check and the link: fetch it once more.
                guard fetchingAbsentTables, let fileSource = tableCache.fileSource else { throw error }
                try fileSource.prepareTable(file.fileNumber, path: source)
                try fileSystem.linkFile(source, to: Path.join(directory, name))
            }
        }
        if isReadOnly {
            // The replayed log lives only in memory: write it out, oldest memtable first.
            // (A read-only open keeps all of it in frozen memtables; the active one stays empty.)
            let set = memtables.withLock { $0 }
            var parts = [(KeyspaceDescriptor.defaultID, set.frozen, options.tableBuilderOptions)]
            for (id, keyspace) in set.keyspaces.sorted(by: { $0.key < $1.key }) {
                guard let descriptor = version.keyspaceDescriptors[id] else { continue }
                parts.append((id, keyspace.frozen, try tableBuilderOptions(for: descriptor)))
            }
            for (keyspace, frozen, builderOptions) in parts {
                for memtable in frozen.reversed() where memtable.entryCount + memtable.rangeTombstoneCount > 0 {
                    let table = try TableBuilder.build(
                        from: memtable.flushSource, fileSystem: fileSystem, directory: directory, fileNumber: nextNumber, options: builderOptions)
                    files.append(FileMetadata(table, level: 0, keyspace: keyspace))
                    nextNumber += 1
                }
            }
            lastSequence = SequenceNumber(rawValue: self.lastSequence.load(ordering: .acquiring))
        }
        let manifestNumber = nextNumber
        var snapshot = VersionEdit.snapshot(
            of: version, databaseID: versionSet.databaseID, logNumber: manifestNumber + 1,
            nextFileNumber: manifestNumber + 2, lastSequence: lastSequence)
        snapshot.addedFiles = files
        try VersionSet.writeManifest(snapshot, manifestNumber: manifestNumber, directory: directory, fileSystem: fileSystem)
        try fileSystem.syncDirectory(directory)
        withExtendedLifetime(version) {}
        return (CheckpointReport(tables: files.count, bytes: files.reduce(0) { $0 + $1.fileSize }, lastSequence: lastSequence), absentTables)
    }
}
