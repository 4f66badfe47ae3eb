import ArgumentParser
import Encoding
import Engine
import Manifest
import SSTable
import VFS
import WAL

struct DumpSST: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump-sst", abstract: "Print a table file's properties, range tombstones and entries.")
    @Flag(help: "Print keys and values as hex.") var hex = false
    @Option(help: "Print at most this many entries.") var limit: Int?
    @Argument(help: "The .sst file.") var file: String

    func run() throws {
        let text = ByteText(hex: hex)
        let name = Path.lastComponent(of: file)
        let reader = try TableReader.open(path: file, fileNumber: TableFormat.fileNumber(fromFileName: name) ?? 0, fileSystem: PosixFileSystem())
        let properties = reader.properties
        emit("table \(file): \(reader.fileSize) bytes")
        emit("  entries \(properties.entries), deletions \(properties.deletions), range deletions \(properties.rangeDeletions), data blocks \(properties.dataBlocks)")
        emit("  raw key bytes \(properties.rawKeyBytes), raw value bytes \(properties.rawValueBytes), codec \(properties.codec), bloom bits/key \(properties.filterBitsPerKey)")
        emit("  sequences \(properties.smallestSequence)...\(properties.largestSequence), created \(properties.creationTimeMicros) µs, by \(properties.builderVersion)")
        emit("  smallest \(describeKey(properties.smallestKey, text)), largest \(describeKey(properties.largestKey, text))")
        emit("range tombstones (\(reader.rangeTombstones.count)):")
        for tombstone in reader.rangeTombstones {
            emit("  [\(text.encode(tombstone.start)), \(text.encode(tombstone.end)))@\(tombstone.sequence)")
        }
        emit("entries:")
        var iterator = reader.makeIterator()
        try iterator.seekToFirst()
        var printed = 0
        while iterator.isValid, printed < (limit ?? Int.max) {
            let key = try InternalKey(decoding: iterator.key, file: file)
            emit("  \(text.encode(key.userKey))@\(key.sequence):\(key.kind)" + (key.kind == .put ? " -> " + text.encode(iterator.value) : ""))
            printed += 1
            try iterator.next()
        }
    }
}

struct DumpWAL: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump-wal", abstract: "Print a WAL segment's header and every write batch in it.")
    @Flag(help: "Print keys and values as hex.") var hex = false
    @Argument(help: "The wal-NNNNNN.log file.") var file: String

    func run() throws {
        let text = ByteText(hex: hex)
        let fileSystem = PosixFileSystem()
        let header = try fileSystem.openReadable(file).readExactly(at: 0, count: WALFormat.segmentHeaderSize).withBytes {
            try WALSegmentHeader(decoding: $0, file: file)
        }
        emit("segment \(file): number \(header.segmentNumber), database \(header.databaseID), format \(header.formatVersion), created \(header.creationTimeMicros) µs")
        let result = try WALReader.replay(
            segments: [WALSegment(number: header.segmentNumber, path: file)], databaseID: header.databaseID,
            fileSystem: fileSystem, mode: .skipCorrupted
        ) { payload, location in
            let batch = try WriteBatch(decoding: payload, file: file, offset: Int(location.offset))
            emit("offset \(location.offset): batch sequence \(batch.sequence), \(batch.count) entries")
            for entry in batch.entries {
                switch entry.kind {
                case .put: emit("  PUT \(text.encode(entry.key)) -> \(text.encode(entry.value))")
                case .delete: emit("  DEL \(text.encode(entry.key))")
                case .rangeDelete: emit("  RANGEDEL [\(text.encode(entry.key)), \(text.encode(entry.value)))")
                }
            }
        }
        emit("\(result.records) records, \(result.payloadBytes) payload bytes")
        if let torn = result.tornTail { emit("torn tail at offset \(torn.offset): \(torn.reason) (\(torn.droppedBytes) bytes)") }
        for skipped in result.skipped { emit("DAMAGED at offset \(skipped.offset): \(skipped.reason) (\(skipped.droppedBytes) bytes skipped)") }
    }
}

struct DumpManifest: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump-manifest", abstract: "Print every edit of the live manifest and the version it produces.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "A manifest file to print instead of the live one.") var manifest: String?

    func run() throws {
        let fileSystem = PosixFileSystem()
        let text = global.text
        let path: String
        if let manifest {
            path = manifest
        } else {
            path = Path.join(global.path, DatabaseFiles.manifest(try DatabaseFiles.readCurrent(directory: global.path, fileSystem: fileSystem)))
        }
        emit("manifest \(path)")
        for (offset, edit) in try ManifestReader.edits(path: path, fileSystem: fileSystem) {
            var fields: [String] = []
            if let id = edit.databaseID { fields.append("database \(id)") }
            if let comparator = edit.comparator { fields.append("comparator \(comparator)") }
            if let log = edit.logNumber { fields.append("log number \(log)") }
            if let next = edit.nextFileNumber { fields.append("next file \(next)") }
            if let sequence = edit.lastSequence { fields.append("last sequence \(sequence)") }
            emit("offset \(offset): " + (fields.isEmpty ? "(no header fields)" : fields.joined(separator: ", ")))
            for (level, key) in edit.compactionPointers.sorted(by: { $0.key < $1.key }) { emit("  compaction pointer L\(level): \(describeKey(key, text))") }
            for deleted in edit.deletedFiles { emit("  - L\(deleted.level) #\(deleted.fileNumber)") }
            for added in edit.addedFiles {
                emit("  + L\(added.level) #\(added.fileNumber) \(added.fileSize) bytes [\(describeKey(added.smallest, text)) .. \(describeKey(added.largest, text))] seq \(added.smallestSequence)...\(added.largestSequence)")
            }
        }
        if manifest == nil {
            emit(try ManifestReader.summary(directory: global.path, fileSystem: fileSystem).version.description)
        }
    }
}

/// An encoded internal key as `userkey@sequence:KIND`.
func describeKey(_ encoded: [UInt8], _ text: ByteText) -> String {
    guard let key = try? InternalKey(decoding: encoded) else { return "<invalid key>" }
    let sequence = key.sequence == .max ? "max" : "\(key.sequence)"
    return "\(text.encode(key.userKey))@\(sequence):\(key.kind)"
}
