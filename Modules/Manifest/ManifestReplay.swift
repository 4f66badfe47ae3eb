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
        /// The named keyspaces, by id: their descriptors, levels and compaction pointers.
        package var keyspaces: [UInt32: Keyspace] = [:]
        package var nextKeyspaceID: UInt32 = 1
        package var edits = 0
        /// Where replay stopped early: a damaged or cut last record (a crash during an append,
        /// tolerated because that edit was never acknowledged — or damage).
        package var tornTail: WALTornTail?

        /// A named keyspace's replayed tree.
        package struct Keyspace {
            package var descriptor: KeyspaceDescriptor
            package var levels: [[FileMetadata]]
            package var compactionPointers: [Int: [UInt8]]
        }

        /// Every table, the keyspaces' included.
        package var allFiles: [FileMetadata] {
            Array(levels.joined()) + keyspaces.keys.sorted().flatMap { keyspaces[$0]!.levels.joined() }
        }

        /// The version the replay describes, its files counted in `references`.
        package func version(references: FileReferences?) -> Version {
            var trees: [UInt32: Version] = [:]
            var descriptors: [UInt32: KeyspaceDescriptor] = [:]
            for (id, keyspace) in keyspaces {
                trees[id] = Version(levels: keyspace.levels, compactionPointers: keyspace.compactionPointers, references: references)
                descriptors[id] = keyspace.descriptor
            }
            return Version(
                levels: levels, compactionPointers: compactionPointers, references: references, keyspaceTrees: trees,
                keyspaceDescriptors: descriptors, nextKeyspaceID: nextKeyspaceID)
        }
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
        // Per keyspace (0: the default one), per level, the live files by number.
        var files: [UInt32: [[UInt64: FileMetadata]]] = [KeyspaceDescriptor.defaultID: Array(repeating: [:], count: Version.levelCount)]
        var pointers: [UInt32: [Int: [UInt8]]] = [:]
        var descriptors: [UInt32: KeyspaceDescriptor] = [:]
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
            let offset = Int(location.offset)
            for id in edit.droppedKeyspaces {
                guard descriptors.removeValue(forKey: id) != nil else {
                    throw StrataError.corruption(file: path, offset: offset, reason: "edit drops keyspace \(id) which does not exist")
                }
                files[id] = nil
                pointers[id] = nil
            }
            if let next = edit.nextKeyspaceID { result.nextKeyspaceID = max(result.nextKeyspaceID, next) }
            for descriptor in edit.keyspaces {
                result.nextKeyspaceID = max(result.nextKeyspaceID, descriptor.id + 1)
                descriptors[descriptor.id] = descriptor
                if files[descriptor.id] == nil { files[descriptor.id] = Array(repeating: [:], count: Version.levelCount) }
            }
            for deleted in edit.deletedFiles {
                guard files[deleted.keyspace]?[deleted.level].removeValue(forKey: deleted.fileNumber) != nil else {
                    throw StrataError.corruption(
                        file: path, offset: offset, reason: "edit deletes table \(deleted.fileNumber) which is not in level \(deleted.level) of keyspace \(deleted.keyspace)")
                }
            }
            for added in edit.addedFiles {
                guard files[added.keyspace] != nil else {
                    throw StrataError.corruption(file: path, offset: offset, reason: "edit adds table \(added.fileNumber) to keyspace \(added.keyspace) which does not exist")
                }
                files[added.keyspace]![added.level][added.fileNumber] = added
            }
            for (id, keyspacePointers) in edit.keyspaceCompactionPointers {
                guard descriptors[id] != nil else {
                    throw StrataError.corruption(file: path, offset: offset, reason: "edit sets a compaction pointer of keyspace \(id) which does not exist")
                }
                pointers[id, default: [:]].merge(keyspacePointers) { _, new in new }
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
        result.levels = sortedLevels(files[KeyspaceDescriptor.defaultID]!)
        for (id, descriptor) in descriptors {
            result.keyspaces[id] = Result.Keyspace(descriptor: descriptor, levels: sortedLevels(files[id]!), compactionPointers: pointers[id] ?? [:])
        }
        return result
    }

    /// A tree's levels in version order: level 0 newest first, the others by key.
    private static func sortedLevels(_ files: [[UInt64: FileMetadata]]) -> [[FileMetadata]] {
        var levels = files.map { Array($0.values) }
        levels[0].sort { a, b in
            a.largestSequence != b.largestSequence ? a.largestSequence > b.largestSequence : a.fileNumber > b.fileNumber
        }
        for level in 1..<levels.count {
            levels[level].sort { InternalKeyComparator.compareArrays($0.smallest, $1.smallest) < 0 }
        }
        return levels
    }
}
