import Encoding
import Manifest
import VFS
import StrataTestSupport

/// Metadata for table `number` at `level` covering user keys `low ... high`.
func fileMetadata(_ number: UInt64, level: Int, _ low: String, _ high: String, size: UInt64 = 100, sequence: UInt64 = 1) -> FileMetadata {
    FileMetadata(
        level: level, fileNumber: number, fileSize: size,
        smallest: InternalKey(userKey: Array(low.utf8), sequence: SequenceNumber(rawValue: sequence), kind: .put).encoded,
        largest: InternalKey(userKey: Array(high.utf8), sequence: SequenceNumber(rawValue: sequence), kind: .put).encoded,
        smallestSequence: SequenceNumber(rawValue: sequence), largestSequence: SequenceNumber(rawValue: sequence),
        entryCount: 10)
}

/// Creates the table file a manifest entry names (content does not matter to the manifest,
/// only existence and size), durably.
func writeTableFile(_ fileSystem: any FileSystem, _ file: FileMetadata, directory: String = "/db") throws {
    try fileSystem.writeFile(Path.join(directory, DatabaseFiles.tableName(file.fileNumber)), [UInt8](repeating: 7, count: Int(file.fileSize)), sync: true)
    try fileSystem.syncDirectory(directory)
}

/// A version's files as comparable data.
func snapshot(_ version: Version) -> [[FileMetadata]] { version.levels }
