import Encoding
import VFS
import WAL

/// Reads a database's manifest without changing anything (no lock, no new manifest): for tools
/// such as `strata verify` and `strata dump-manifest`.
public enum ManifestReader {
    /// What the live manifest says.
    public struct Summary: Sendable {
        /// The live manifest's number (from `CURRENT`).
        public var manifestNumber: UInt64
        /// The database identity.
        public var databaseID: DatabaseID
        /// The version the edits produce (without reference counting).
        public var version: Version
        /// WAL segments below this are no longer needed.
        public var logNumber: UInt64
        /// The next file number.
        public var nextFileNumber: UInt64
        /// The last sequence recorded.
        public var lastSequence: SequenceNumber
        /// Edits replayed.
        public var edits: Int
        /// Where the manifest ended early (a damaged or cut last record), if it did.
        public var tornTail: WALTornTail?
    }

    /// Replays the live manifest.
    ///
    /// - Throws: what opening would throw for a bad `CURRENT` or a damaged manifest.
    public static func summary(directory: String, fileSystem: any FileSystem) throws -> Summary {
        let number = try DatabaseFiles.readCurrent(directory: directory, fileSystem: fileSystem)
        let replay = try ManifestReplay.run(directory: directory, manifestNumber: number, fileSystem: fileSystem)
        let version = replay.version(references: nil)
        return Summary(
            manifestNumber: number, databaseID: replay.databaseID, version: version, logNumber: replay.logNumber,
            nextFileNumber: replay.nextFileNumber, lastSequence: replay.lastSequence, edits: replay.edits,
            tornTail: replay.tornTail)
    }

    /// Every edit of the manifest at `path`, in order, with its record's offset.
    public static func edits(path: String, fileSystem: any FileSystem) throws -> [(offset: UInt64, edit: VersionEdit)] {
        let file = try fileSystem.openReadable(path)
        let header = try file.readExactly(at: 0, count: WALFormat.segmentHeaderSize).withBytes {
            try WALSegmentHeader(decoding: $0, file: path)
        }
        var edits: [(offset: UInt64, edit: VersionEdit)] = []
        _ = try WALReader.replay(
            segments: [WALSegment(number: header.segmentNumber, path: path)], databaseID: header.databaseID,
            fileSystem: fileSystem, mode: .tolerateTornTail, sequenceRange: nil
        ) { record, location in
            edits.append((location.offset, try VersionEdit(decoding: record, file: path, offset: Int(location.offset))))
        }
        return edits
    }
}
