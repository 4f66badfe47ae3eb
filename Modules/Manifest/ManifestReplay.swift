import Encoding
import VFS
import WAL

// See Docs/formats/manifest.md ("Replay and checks at open").

/// Replays a manifest into the state it describes, without building intermediate versions
/// (files are tracked in dictionaries, so a long manifest replays in time linear in its edits).
package enum ManifestReplay {
    package struct Result {
        package var databaseID: DatabaseID
        package var levels: [[FileMetadata]]
        package var logNumber: UInt64 = 0
        package var nextFileNumber: UInt64 = 1
        package var lastSequence: SequenceNumber = .zero
        package var compactionPointers: [Int: [UInt8]] = [:]
        package var edits = 0
        /// Where replay stopped early: a damaged or cut last record (a crash during an append,
        /// tolerated because that edit was never acknowledged — or damage).
        package var tornTail: WALTornTail?
    }

    package static func run(directory: String, manifestNumber: UInt64, fileSystem: any FileSystem) throws -> Result {
        let path = Path.join(directory, DatabaseFiles.manifest(manifestNumber))
        // The manifest's header carries the database's identity; the first edit must agree.
        let file = try fileSystem.openReadable(path)
        let size = try file.size()
        guard size >= UInt64(WALFormat.segmentHeaderSize) else {
            throw StrataError.corruption(file: path, offset: Int(size), reason: "manifest ends inside its header")
        }
        let header = try file.readExactly(at: 0, count: WALFormat.segmentHeaderSize).withBytes {
            try WALSegmentHeader(decoding: $0, file: path)
        }
        var result = Result(databaseID: header.databaseID, levels: [])
        var files: [[UInt64: FileMetadata]] = Array(repeating: [:], count: Version.levelCount)
        var sawIdentity = false

        let replay = try WALReader.replay(
            segments: [WALSegment(number: manifestNumber, path: path)], databaseID: header.databaseID,
            fileSystem: fileSystem, mode: .tolerateTornTail, sequenceRange: nil
        ) { record, location in
            let edit = try VersionEdit(decoding: record, file: path, offset: Int(location.offset))
            if let id = edit.databaseID {
                guard id == header.databaseID else {
                    throw StrataError.incompatible(file: path, reason: "manifest records database \(id) but its header says \(header.databaseID)")
                }
                sawIdentity = true
            }
            guard sawIdentity else {
                throw StrataError.corruption(file: path, offset: Int(location.offset), reason: "the manifest's first edit does not record the database identity")
            }
            if let comparator = edit.comparator, comparator != BytewiseComparator.name {
                throw StrataError.incompatible(file: path, reason: "database ordered by \(comparator), this build uses \(BytewiseComparator.name)")
            }
            for deleted in edit.deletedFiles {
                guard files[deleted.level].removeValue(forKey: deleted.fileNumber) != nil else {
                    throw StrataError.corruption(file: path, offset: Int(location.offset), reason: "edit deletes table \(deleted.fileNumber) which is not in level \(deleted.level)")
                }
            }
            for added in edit.addedFiles {
                files[added.level][added.fileNumber] = added
            }
            if let logNumber = edit.logNumber { result.logNumber = max(result.logNumber, logNumber) }
            if let next = edit.nextFileNumber { result.nextFileNumber = max(result.nextFileNumber, next) }
            if let sequence = edit.lastSequence { result.lastSequence = max(result.lastSequence, sequence) }
            for (level, key) in edit.compactionPointers { result.compactionPointers[level] = key }
            result.edits += 1
        }
        guard sawIdentity else {
            throw StrataError.corruption(file: path, offset: WALFormat.segmentHeaderSize, reason: "manifest holds no edits")
        }
        result.tornTail = replay.tornTail
        var levels = files.map { Array($0.values) }
        levels[0].sort { a, b in
            a.largestSequence != b.largestSequence ? a.largestSequence > b.largestSequence : a.fileNumber > b.fileNumber
        }
        for level in 1..<levels.count {
            levels[level].sort { InternalKeyComparator.compareArrays($0.smallest, $1.smallest) < 0 }
        }
        result.levels = levels
        return result
    }
}
