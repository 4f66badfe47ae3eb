import Encoding

// See Docs/formats/manifest.md ("Version edit encoding").

/// A change to the set of files: tables added and removed, and the bookkeeping numbers that move
/// with them. Edits are logged to the manifest; replaying them rebuilds the current version.
public struct VersionEdit: Sendable, Equatable {
    /// A table removed from a level.
    public struct DeletedFile: Sendable, Hashable {
        /// The level it was in.
        public var level: Int
        /// Its file number.
        public var fileNumber: UInt64
        /// The keyspace whose tree it was in.
        public var keyspace: UInt32

        /// Creates a deletion record.
        public init(level: Int, fileNumber: UInt64, keyspace: UInt32 = KeyspaceDescriptor.defaultID) {
            self.level = level
            self.fileNumber = fileNumber
            self.keyspace = keyspace
        }
    }

    /// The database's identity (snapshot edits).
    public var databaseID: DatabaseID?
    /// The key order's name (snapshot edits).
    public var comparator: String?
    /// WAL segments below this number are no longer needed.
    public var logNumber: UInt64?
    /// The next file number to hand out.
    public var nextFileNumber: UInt64?
    /// The largest sequence number written.
    public var lastSequence: SequenceNumber?
    /// Tables added (each carries its level).
    public var addedFiles: [FileMetadata] = []
    /// Tables removed.
    public var deletedFiles: [DeletedFile] = []
    /// Round-robin compaction start keys per level of the default keyspace.
    public var compactionPointers: [Int: [UInt8]] = [:]
    /// Round-robin compaction start keys per level of each named keyspace.
    public var keyspaceCompactionPointers: [UInt32: [Int: [UInt8]]] = [:]
    /// Keyspaces created, or whose options changed (a descriptor replaces the one with its id).
    public var keyspaces: [KeyspaceDescriptor] = []
    /// Keyspaces dropped: their trees leave the version (their tables become garbage).
    public var droppedKeyspaces: [UInt32] = []
    /// The lowest keyspace id never handed out (ids are not reused after a drop: the log may
    /// still hold a dropped keyspace's writes).
    public var nextKeyspaceID: UInt32?

    /// An empty edit.
    public init() {}

    /// Records that `file` is added (at `file.level`).
    public mutating func add(_ file: FileMetadata) {
        addedFiles.append(file)
    }

    /// Records that file `fileNumber` is removed from `level` of `keyspace`'s tree.
    public mutating func delete(level: Int, fileNumber: UInt64, keyspace: UInt32 = KeyspaceDescriptor.defaultID) {
        deletedFiles.append(DeletedFile(level: level, fileNumber: fileNumber, keyspace: keyspace))
    }

    /// Records `key` as `level`'s round-robin compaction pointer in `keyspace`'s tree.
    public mutating func setCompactionPointer(level: Int, _ key: [UInt8], keyspace: UInt32 = KeyspaceDescriptor.defaultID) {
        if keyspace == KeyspaceDescriptor.defaultID {
            compactionPointers[level] = key
        } else {
            keyspaceCompactionPointers[keyspace, default: [:]][level] = key
        }
    }

    /// The part of the edit that changes `keyspace`'s tree — its files and compaction pointers,
    /// as an edit of the default keyspace's fields (what `Version.applying` applies to a tree).
    package func treeEdit(for keyspace: UInt32) -> VersionEdit {
        var edit = VersionEdit()
        edit.addedFiles = addedFiles.filter { $0.keyspace == keyspace }
        edit.deletedFiles = deletedFiles.filter { $0.keyspace == keyspace }
        edit.compactionPointers = keyspace == KeyspaceDescriptor.defaultID ? compactionPointers : keyspaceCompactionPointers[keyspace] ?? [:]
        return edit
    }

    /// Removes the changes to trees of named keyspaces that neither `version` holds nor this
    /// edit creates: a flush or compaction that finished after its keyspace was dropped (its
    /// tables then stay out of every version and are collected as garbage).
    package mutating func discardChangesToMissingKeyspaces(in version: Version) {
        let created = Set(keyspaces.map(\.id))
        func exists(_ id: UInt32) -> Bool {
            id == KeyspaceDescriptor.defaultID || (version.keyspaceTrees[id] != nil && !droppedKeyspaces.contains(id)) || created.contains(id)
        }
        addedFiles.removeAll { !exists($0.keyspace) }
        deletedFiles.removeAll { !exists($0.keyspace) }
        for id in keyspaceCompactionPointers.keys where !exists(id) { keyspaceCompactionPointers[id] = nil }
    }

    /// The named keyspaces whose trees the edit changes.
    package var touchedKeyspaces: Set<UInt32> {
        var touched = Set(addedFiles.map(\.keyspace)).union(deletedFiles.map(\.keyspace)).union(keyspaceCompactionPointers.keys)
        touched.remove(KeyspaceDescriptor.defaultID)
        return touched
    }

    /// `true` when the edit changes nothing.
    public var isEmpty: Bool {
        databaseID == nil && comparator == nil && logNumber == nil && nextFileNumber == nil && lastSequence == nil
            && addedFiles.isEmpty && deletedFiles.isEmpty && compactionPointers.isEmpty && keyspaceCompactionPointers.isEmpty
            && keyspaces.isEmpty && droppedKeyspaces.isEmpty && nextKeyspaceID == nil
    }
}
