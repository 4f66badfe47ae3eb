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

        /// Creates a deletion record.
        public init(level: Int, fileNumber: UInt64) {
            self.level = level
            self.fileNumber = fileNumber
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
    /// Round-robin compaction start keys per level.
    public var compactionPointers: [Int: [UInt8]] = [:]

    /// An empty edit.
    public init() {}

    /// Records that `file` is added (at `file.level`).
    public mutating func add(_ file: FileMetadata) {
        addedFiles.append(file)
    }

    /// Records that file `fileNumber` is removed from `level`.
    public mutating func delete(level: Int, fileNumber: UInt64) {
        deletedFiles.append(DeletedFile(level: level, fileNumber: fileNumber))
    }

    /// `true` when the edit changes nothing.
    public var isEmpty: Bool {
        databaseID == nil && comparator == nil && logNumber == nil && nextFileNumber == nil && lastSequence == nil
            && addedFiles.isEmpty && deletedFiles.isEmpty && compactionPointers.isEmpty
    }
}
