import Encoding
import Synchronization
import VFS
import WAL

// See Docs/formats/manifest.md.

/// Options for the manifest.
public struct ManifestOptions: Sendable {
    /// A new manifest (starting with a snapshot of the current version) is started when the live
    /// one grows past this size. Default 64 MiB.
    public var maxManifestSize: UInt64 = 64 << 20
    /// When `true`, a live table whose file is absent is not an error at open: the tables live
    /// elsewhere too (an object store) and the local files are a cache that fetches on first use.
    /// A table that is present must still have its recorded size. Default `false`.
    public var tablesMayBeAbsent = false

    /// Default options.
    public init() {}
}

/// The current version of the database and the log of edits that produced it.
///
/// `logAndApply` writes each edit to the manifest and syncs it **before** the new version becomes
/// current; file numbers are allocated atomically; the live set of tables is tracked through the
/// versions still in use, and `collectGarbage()` deletes only what nothing references.
///
/// The database directory's `LOCK` is held from `create`/`open` until `close()`.
///
/// Thread safety: every method may be called from any thread. Edits are serialised; reading the
/// current version never waits for a manifest write.
public final class VersionSet: Sendable {
    /// The database directory.
    public let directory: String
    /// The file system everything lives on.
    public let fileSystem: any FileSystem
    /// The database's identity, recorded in the manifest and checked in every WAL header.
    public let databaseID: DatabaseID
    /// The options in use.
    public let options: ManifestOptions
    /// Per-table reference counts and reservations.
    package let references: FileReferences

    struct WriterState {
        var manifest: WALSegmentWriter?
        var manifestNumber: UInt64
        var logNumber: UInt64
        var lastSequence: SequenceNumber
        var closed = false
    }

    private let current: Locked<Version>
    private let writer: Locked<WriterState>
    private let nextFile: Atomic<UInt64>
    /// The directory lock (`nil` for a read-only open, which takes none).
    private let lock: (any FileLock)?

    /// Whether the set was opened read-only (`openReadOnly`): it never writes or deletes a file.
    public var isReadOnly: Bool { lock == nil }

    private init(
        directory: String, fileSystem: any FileSystem, databaseID: DatabaseID, options: ManifestOptions,
        references: FileReferences, version: Version, state: sending WriterState, nextFile: UInt64, lock: (any FileLock)?
    ) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.databaseID = databaseID
        self.options = options
        self.references = references
        self.current = Locked(version)
        self.writer = Locked(state)
        self.nextFile = Atomic(nextFile)
        self.lock = lock
    }

    // MARK: - Opening

    /// Whether `directory` holds a database (has a `CURRENT` file).
    public static func exists(directory: String, fileSystem: any FileSystem) -> Bool {
        fileSystem.exists(Path.join(directory, DatabaseFiles.current))
    }

    /// Creates a new, empty database in `directory` (which must not hold one): locks it, writes
    /// `MANIFEST-000001` with the new identity and points `CURRENT` at it.
    public static func create(directory: String, fileSystem: any FileSystem, options: ManifestOptions = ManifestOptions()) throws -> VersionSet {
        try fileSystem.createDirectory(directory)
        let lock = try fileSystem.lock(Path.join(directory, DatabaseFiles.lock))
        do {
            guard !exists(directory: directory, fileSystem: fileSystem) else {
                throw StrataError.invalidArgument("a database already exists in \(directory)")
            }
            let references = FileReferences()
            let set = VersionSet(
                directory: directory, fileSystem: fileSystem, databaseID: .random(), options: options,
                references: references, version: Version(levels: Array(repeating: [], count: Version.levelCount), compactionPointers: [:], references: references),
                state: WriterState(manifestNumber: 0, logNumber: 0, lastSequence: .zero), nextFile: 1, lock: lock)
            try set.writer.withLock { state in try set.startManifest(&state) }
            return set
        } catch {
            lock.unlock()
            throw error
        }
    }

    /// Opens the database in `directory`: locks it, reads `CURRENT`, replays the manifest, checks
    /// that every live table exists with its recorded size, then starts a fresh manifest holding a
    /// snapshot of the recovered state.
    ///
    /// - Throws: `.locked` when another open holds the lock; `.corruption` naming the file for a
    ///   bad `CURRENT`, a damaged manifest (a torn last record is tolerated: it was never
    ///   acknowledged), or a missing or short table; `.incompatible` for another comparator or a
    ///   newer format.
    public static func open(directory: String, fileSystem: any FileSystem, options: ManifestOptions = ManifestOptions()) throws -> VersionSet {
        guard fileSystem.isDirectory(directory) else {
            throw StrataError.invalidArgument("\(directory) is not a directory")
        }
        let lock = try fileSystem.lock(Path.join(directory, DatabaseFiles.lock))
        do {
            let set = try load(directory: directory, fileSystem: fileSystem, options: options, lock: lock)
            try set.writer.withLock { state in try set.startManifest(&state) }
            return set
        } catch {
            lock.unlock()
            throw error
        }
    }

    /// Opens the database in `directory` for reading only: reads `CURRENT` and replays the
    /// manifest, taking no lock and writing nothing, so it works while another process holds the
    /// database open. `logAndApply` then throws `.readOnly` and `collectGarbage` deletes nothing.
    ///
    /// - Throws: as `open`, except `.locked`. Another process may replace the manifest or delete
    ///   a table between the reads (an `.io` error with `ENOENT`, or a missing table): retry.
    public static func openReadOnly(directory: String, fileSystem: any FileSystem, options: ManifestOptions = ManifestOptions()) throws -> VersionSet {
        guard fileSystem.isDirectory(directory) else {
            throw StrataError.invalidArgument("\(directory) is not a directory")
        }
        return try load(directory: directory, fileSystem: fileSystem, options: options, lock: nil)
    }

    /// Reads `CURRENT`, replays the manifest it names and checks that every live table exists
    /// with its recorded size and every needed WAL segment is there.
    private static func load(directory: String, fileSystem: any FileSystem, options: ManifestOptions, lock: (any FileLock)?) throws -> VersionSet {
        let manifestNumber = try DatabaseFiles.readCurrent(directory: directory, fileSystem: fileSystem)
        let replayed = try ManifestReplay.run(directory: directory, manifestNumber: manifestNumber, fileSystem: fileSystem)
        let references = FileReferences()
        let version = replayed.version(references: references)
        let manifestPath = Path.join(directory, DatabaseFiles.manifest(manifestNumber))
        try version.checkInvariants(file: manifestPath)
        do {
            for file in version.allFiles {
                let path = Path.join(directory, DatabaseFiles.tableName(file.fileNumber))
                guard fileSystem.exists(path) else {
                    if options.tablesMayBeAbsent { continue }
                    throw StrataError.corruption(file: manifestPath, offset: 0, reason: "lists live table \(file.fileNumber), but \(path) is missing")
                }
                let size = try fileSystem.fileSize(path)
                guard size == file.fileSize else {
                    throw StrataError.corruption(file: path, offset: Int(clamping: size), reason: "table is \(size) bytes but the manifest recorded \(file.fileSize)")
                }
            }
            // The log segments the version still needs must all be there.
            do {
                _ = try WALSegment.list(in: directory, fileSystem: fileSystem, from: replayed.logNumber)
            } catch StrataError.corruption(_, _, let reason) {
                throw StrataError.corruption(
                    file: manifestPath, offset: 0, reason: "needs the WAL from segment \(replayed.logNumber) on, but \(reason)")
            }
        } catch let error as StrataError {
            // A manifest that lost its last record (a crash during an append) leaves the
            // previous version, whose files all still exist. If they do not, the manifest is
            // what is damaged: say so, rather than blame the files it points to.
            guard let torn = replayed.tornTail else { throw error }
            throw StrataError.corruption(
                file: manifestPath, offset: Int(torn.offset),
                reason: "the manifest ends early (\(torn.reason)), and the version before that point is unusable: \(error)")
        }
        // Start past every number in use or left behind by a crash (an orphan manifest or
        // table whose edit never became durable): file numbers are never handed out twice.
        var present: [UInt64] = []
        for name in try fileSystem.listDirectory(directory) {
            switch DatabaseFiles.kind(of: name) {
            case .table(let number)?, .temporaryTable(let number)?, .manifest(let number)?: present.append(number)
            default: break
            }
        }
        let highest = ([replayed.nextFileNumber, manifestNumber + 1] + (version.allFileNumbers + present).map { $0 + 1 }).max()!
        return VersionSet(
            directory: directory, fileSystem: fileSystem, databaseID: replayed.databaseID, options: options,
            references: references, version: version,
            state: WriterState(manifestNumber: manifestNumber, logNumber: replayed.logNumber, lastSequence: replayed.lastSequence),
            nextFile: highest, lock: lock)
    }

    // MARK: - State

    /// The current version. Hold it for as long as you read; it never changes.
    public var currentVersion: Version { current.withLock { $0 } }

    /// WAL segments below this number are no longer needed.
    public var logNumber: UInt64 { writer.withLock { $0.logNumber } }

    /// The largest sequence number recorded in the manifest.
    public var lastSequence: SequenceNumber { writer.withLock { $0.lastSequence } }

    /// The live manifest's file number.
    public var manifestNumber: UInt64 { writer.withLock { $0.manifestNumber } }

    /// Allocates a new file number (for a table or a manifest).
    ///
    /// - Parameter reserve: when `true` the number is reserved against garbage collection until
    ///   `references.unreserve(_:)` (do so once the table is installed, or abandoned).
    public func newFileNumber(reserve: Bool = false) -> UInt64 {
        let number = nextFile.add(1, ordering: .relaxed).oldValue
        if reserve { references.reserve(number) }
        return number
    }

    // MARK: - Edits

    /// Logs `edit` to the manifest, syncs it, and only then installs the resulting version.
    ///
    /// The next file number is recorded with every edit; `logNumber` and `lastSequence` are
    /// recorded when the edit sets them (they never move backwards).
    ///
    /// - Returns: the new current version.
    /// - Throws: `.corruption` when the edit does not apply to the current version (nothing is
    ///   written); `.io` when writing or syncing the manifest fails — the version is then not
    ///   installed, and the next edit starts a new manifest; `.closed` after `close()`.
    @discardableResult
    public func logAndApply(_ edit: VersionEdit) throws -> Version {
        try writer.withLock { state in
            guard !state.closed else { throw StrataError.closed }
            guard !isReadOnly else { throw StrataError.readOnly(reason: "the manifest was opened read-only") }
            var edit = edit
            edit.nextFileNumber = nextFile.load(ordering: .relaxed)
            if let logNumber = edit.logNumber { edit.logNumber = max(logNumber, state.logNumber) }
            if let sequence = edit.lastSequence { edit.lastSequence = max(sequence, state.lastSequence) }
            let base = current.withLock { $0 }
            edit.discardChangesToMissingKeyspaces(in: base)
            let version = try base.applying(edit, references: references)
            if state.manifest == nil || state.manifest!.logicalSize >= options.maxManifestSize {
                // A new manifest starts with a snapshot that already includes this edit.
                try startManifest(&state, snapshotOf: version, logNumber: edit.logNumber, lastSequence: edit.lastSequence)
            } else {
                do {
                    try state.manifest!.append(edit.encoded)
                    try state.manifest!.sync()
                } catch {
                    // The log may now end in a torn record: never append to it again.
                    try? state.manifest?.close()
                    state.manifest = nil
                    throw error
                }
            }
            if let logNumber = edit.logNumber { state.logNumber = logNumber }
            if let sequence = edit.lastSequence { state.lastSequence = sequence }
            current.withLock { $0 = version }
            return version
        }
    }

    /// Starts a new manifest holding a snapshot of `version` (the current one by default), syncs
    /// it, and switches `CURRENT` to it. The previous manifest becomes garbage.
    private func startManifest(_ state: inout WriterState, snapshotOf version: Version? = nil, logNumber: UInt64? = nil, lastSequence: SequenceNumber? = nil) throws {
        let version = version ?? current.withLock { $0 }
        let number = newFileNumber()
        let snapshot = VersionEdit.snapshot(
            of: version, databaseID: databaseID, logNumber: max(logNumber ?? 0, state.logNumber),
            nextFileNumber: nextFile.load(ordering: .relaxed), lastSequence: max(lastSequence ?? .zero, state.lastSequence))
        let segment = WALSegment(number: number, path: Path.join(directory, DatabaseFiles.manifest(number)))
        let writer = try WALSegmentWriter.create(segment: segment, databaseID: databaseID, fileSystem: fileSystem)
        do {
            try writer.append(snapshot.encoded)
            try writer.sync()
            try DatabaseFiles.setCurrent(number, directory: directory, fileSystem: fileSystem)
        } catch {
            try? writer.close()
            try? fileSystem.removeFile(segment.path)
            throw error
        }
        try? state.manifest?.close()
        state.manifest = writer
        state.manifestNumber = number
    }

    // MARK: - Garbage collection

    /// What `collectGarbage()` deleted.
    public struct Garbage: Sendable, Equatable {
        /// Table numbers deleted (evict them from table caches).
        public var tables: [UInt64] = []
        /// WAL segment numbers deleted.
        public var walSegments: [UInt64] = []
        /// Other files deleted (old manifests, temporary files).
        public var others: [String] = []
    }

    /// Deletes files nothing needs any more: tables no live version references and no job has
    /// reserved, WAL segments below the log number, manifests other than the live one, and
    /// temporary files left by a crash.
    ///
    /// In a read-only open it deletes nothing. Otherwise it is
    /// safe at any time: a table becomes deletable only after the edit that removed it is durable
    /// and the last version holding it is released.
    @discardableResult
    public func collectGarbage() throws -> Garbage {
        try writer.withLock { state in
            guard !state.closed else { throw StrataError.closed }
            var garbage = Garbage()
            // A read-only open never deletes: another process owns the files.
            guard !isReadOnly else { return garbage }
            for name in try fileSystem.listDirectory(directory) {
                let path = Path.join(directory, name)
                switch DatabaseFiles.kind(of: name) {
                case .table(let number)? where !references.isLive(number):
                    try fileSystem.removeFile(path)
                    garbage.tables.append(number)
                case .temporaryTable(let number)? where !references.isLive(number):
                    try fileSystem.removeFile(path)
                    garbage.others.append(name)
                case .walSegment(let number)? where number < state.logNumber:
                    try fileSystem.removeFile(path)
                    garbage.walSegments.append(number)
                case .manifest(let number)? where number != state.manifestNumber:
                    try fileSystem.removeFile(path)
                    garbage.others.append(name)
                case .currentTemporary?:
                    try fileSystem.removeFile(path)
                    garbage.others.append(name)
                default:
                    break
                }
            }
            return garbage
        }
    }

    /// Closes the manifest and releases the directory lock. Calling it again does nothing.
    public func close() throws {
        let manifest: WALSegmentWriter? = writer.withLock { state in
            guard !state.closed else { return nil }
            state.closed = true
            defer { state.manifest = nil }
            return state.manifest
        }
        defer { lock?.unlock() }
        try manifest?.close()
    }
}

extension VersionSet {
    /// Writes the manifest of a new database directory in one step: `MANIFEST-<manifestNumber>`
    /// holding `snapshot` (synced), then `CURRENT` naming it (atomically, directory synced).
    /// Checkpoints and repair use it; the directory must hold no `CURRENT` yet.
    ///
    /// - Throws: `.invalidArgument` when `directory` already holds a database; `.io`.
    public static func writeManifest(_ snapshot: VersionEdit, manifestNumber: UInt64, directory: String, fileSystem: any FileSystem) throws {
        guard !exists(directory: directory, fileSystem: fileSystem) else {
            throw StrataError.invalidArgument("a database already exists in \(directory)")
        }
        guard let databaseID = snapshot.databaseID else {
            throw StrataError.invalidArgument("a manifest snapshot needs the database ID")
        }
        let segment = WALSegment(number: manifestNumber, path: Path.join(directory, DatabaseFiles.manifest(manifestNumber)))
        let writer = try WALSegmentWriter.create(segment: segment, databaseID: databaseID, fileSystem: fileSystem)
        do {
            try writer.append(snapshot.encoded)
            try writer.sync()
            try writer.close()
            try DatabaseFiles.setCurrent(manifestNumber, directory: directory, fileSystem: fileSystem)
        } catch {
            try? writer.close()
            try? fileSystem.removeFile(segment.path)
            throw error
        }
    }
}

extension VersionEdit {
    /// An edit that describes a whole database state on its own (what a manifest starts with).
    public static func snapshot(
        databaseID: DatabaseID, files: [FileMetadata], logNumber: UInt64, nextFileNumber: UInt64, lastSequence: SequenceNumber
    ) -> VersionEdit {
        var edit = VersionEdit()
        edit.databaseID = databaseID
        edit.comparator = BytewiseComparator.name
        edit.logNumber = logNumber
        edit.nextFileNumber = nextFileNumber
        edit.lastSequence = lastSequence
        edit.addedFiles = files
        return edit
    }

    /// A snapshot edit describing all of `version`: its keyspaces, every tree's files and
    /// compaction pointers.
    public static func snapshot(
        of version: Version, databaseID: DatabaseID, logNumber: UInt64, nextFileNumber: UInt64, lastSequence: SequenceNumber
    ) -> VersionEdit {
        var edit = snapshot(databaseID: databaseID, files: version.allFiles, logNumber: logNumber, nextFileNumber: nextFileNumber, lastSequence: lastSequence)
        edit.compactionPointers = version.compactionPointers
        if version.nextKeyspaceID > 1 { edit.nextKeyspaceID = version.nextKeyspaceID }
        for id in version.keyspaceDescriptors.keys.sorted() {
            edit.keyspaces.append(version.keyspaceDescriptors[id]!)
            let pointers = version.keyspaceTrees[id]!.compactionPointers
            if !pointers.isEmpty { edit.keyspaceCompactionPointers[id] = pointers }
        }
        return edit
    }
}

extension DatabaseFiles {
    /// `NNNNNN.sst`.
    public static func tableName(_ number: UInt64) -> String {
        String(number).leftPadded(to: 6) + ".sst"
    }
}
