import Encoding

// See Docs/formats/manifest.md ("Version edit encoding").

extension VersionEdit {
    /// Field tags. Never reuse a retired number.
    enum Tag: UInt32 {
        case databaseID = 1
        case comparator = 2
        case logNumber = 3
        case nextFileNumber = 4
        case lastSequence = 5
        case newFile = 6
        case deletedFile = 7
        case compactionPointer = 8
        /// A named keyspace created or its options changed: id, name, options.
        case keyspace = 9
        /// A named keyspace dropped: id.
        case droppedKeyspace = 10
        /// `newFile` in a named keyspace's tree: keyspace id, then `newFile`'s payload.
        case keyspaceNewFile = 11
        /// `deletedFile` in a named keyspace's tree: keyspace id, then `deletedFile`'s payload.
        case keyspaceDeletedFile = 12
        /// `compactionPointer` in a named keyspace's tree: keyspace id, then its payload.
        case keyspaceCompactionPointer = 13
        /// The lowest keyspace id never handed out.
        case nextKeyspaceID = 14
    }

    /// The number of levels a level field may name.
    public static let levelCount = 7

    /// The encoded edit (one manifest record).
    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 128 + addedFiles.count * 96)
        func field(_ tag: Tag, _ build: (inout ByteWriter) -> Void) {
            var payload = ByteWriter()
            build(&payload)
            writer.appendVarint32(tag.rawValue)
            writer.appendLengthPrefixed(payload.bytes)
        }
        if let databaseID { field(.databaseID) { $0.appendBytes(databaseID.bytes) } }
        if let comparator { field(.comparator) { $0.appendBytes(Array(comparator.utf8)) } }
        if let logNumber { field(.logNumber) { $0.appendVarint64(logNumber) } }
        if let nextFileNumber { field(.nextFileNumber) { $0.appendVarint64(nextFileNumber) } }
        if let lastSequence { field(.lastSequence) { $0.appendVarint64(lastSequence.rawValue) } }
        // Keyspaces come before the files placed in them: a reader applies them first anyway,
        // but a dump reads in order.
        for keyspace in keyspaces {
            field(.keyspace) { payload in
                payload.appendVarint32(keyspace.id)
                payload.appendLengthPrefixed(Array(keyspace.name.utf8))
                payload.appendLengthPrefixed(keyspace.options)
            }
        }
        for id in droppedKeyspaces { field(.droppedKeyspace) { $0.appendVarint32(id) } }
        if let nextKeyspaceID { field(.nextKeyspaceID) { $0.appendVarint32(nextKeyspaceID) } }
        for level in compactionPointers.keys.sorted() {
            field(.compactionPointer) { payload in
                payload.appendVarint32(UInt32(level))
                payload.appendLengthPrefixed(compactionPointers[level]!)
            }
        }
        for keyspace in keyspaceCompactionPointers.keys.sorted() {
            let pointers = keyspaceCompactionPointers[keyspace]!
            for level in pointers.keys.sorted() {
                field(.keyspaceCompactionPointer) { payload in
                    payload.appendVarint32(keyspace)
                    payload.appendVarint32(UInt32(level))
                    payload.appendLengthPrefixed(pointers[level]!)
                }
            }
        }
        for deleted in deletedFiles {
            let named = deleted.keyspace != KeyspaceDescriptor.defaultID
            field(named ? .keyspaceDeletedFile : .deletedFile) { payload in
                if named { payload.appendVarint32(deleted.keyspace) }
                payload.appendVarint32(UInt32(deleted.level))
                payload.appendVarint64(deleted.fileNumber)
            }
        }
        for file in addedFiles {
            let named = file.keyspace != KeyspaceDescriptor.defaultID
            field(named ? .keyspaceNewFile : .newFile) { payload in
                if named { payload.appendVarint32(file.keyspace) }
                payload.appendVarint32(UInt32(file.level))
                payload.appendVarint64(file.fileNumber)
                payload.appendVarint64(file.fileSize)
                payload.appendLengthPrefixed(file.smallest)
                payload.appendLengthPrefixed(file.largest)
                payload.appendVarint64(file.smallestSequence.rawValue)
                payload.appendVarint64(file.largestSequence.rawValue)
                payload.appendVarint64(file.entryCount)
                payload.appendVarint64(file.deletionCount)
                payload.appendVarint64(file.rangeDeletionCount)
            }
        }
        return writer.bytes
    }

    /// Decodes one manifest record.
    ///
    /// - Throws: `StrataError.incompatible` for a tag this build does not know ("written by a
    ///   newer version"); `.corruption` naming `file` and the offset for malformed fields.
    public init(decoding bytes: UnsafeRawBufferPointer, file: String, offset: Int) throws {
        self.init()
        var reader = ByteReader(bytes, file: file, baseOffset: offset)
        while !reader.isAtEnd {
            let tagOffset = reader.position
            let rawTag = try reader.readVarint32("edit field tag")
            let payload = try reader.readLengthPrefixed("edit field")
            guard let tag = Tag(rawValue: rawTag) else {
                throw StrataError.incompatible(
                    file: file, reason: "manifest field tag \(rawTag) at offset \(offset + tagOffset) was written by a newer version of Strata")
            }
            var field = ByteReader(payload, file: file, baseOffset: offset + reader.position - payload.count)
            switch tag {
            case .databaseID:
                guard let id = DatabaseID(bytes: payload) else { throw field.corruption("database id of \(payload.count) bytes") }
                databaseID = id
                try field.skip(payload.count)
            case .comparator:
                comparator = String(decoding: payload, as: UTF8.self)
                try field.skip(payload.count)
            case .logNumber:
                logNumber = try field.readVarint64("log number")
            case .nextFileNumber:
                nextFileNumber = try field.readVarint64("next file number")
            case .lastSequence:
                let raw = try field.readVarint64("last sequence")
                guard let sequence = SequenceNumber(checking: raw) else { throw field.corruption("last sequence \(raw) above 2^56-1") }
                lastSequence = sequence
            case .compactionPointer:
                let level = try VersionEdit.readLevel(&field)
                compactionPointers[level] = Array(try field.readLengthPrefixed("compaction pointer"))
            case .deletedFile:
                let level = try VersionEdit.readLevel(&field)
                deletedFiles.append(DeletedFile(level: level, fileNumber: try field.readVarint64("deleted file number")))
            case .newFile:
                addedFiles.append(try VersionEdit.readNewFile(&field, keyspace: KeyspaceDescriptor.defaultID))
            case .keyspace:
                let id = try VersionEdit.readKeyspaceID(&field)
                let name = try field.readLengthPrefixed("keyspace name")
                guard let decoded = String(validating: name, as: UTF8.self), !decoded.isEmpty else {
                    throw field.corruption("keyspace \(id) has an empty or non-UTF-8 name")
                }
                keyspaces.append(KeyspaceDescriptor(id: id, name: decoded, options: Array(try field.readLengthPrefixed("keyspace options"))))
            case .droppedKeyspace:
                droppedKeyspaces.append(try VersionEdit.readKeyspaceID(&field))
            case .nextKeyspaceID:
                nextKeyspaceID = try field.readVarint32("next keyspace id")
            case .keyspaceNewFile:
                let keyspace = try VersionEdit.readKeyspaceID(&field)
                addedFiles.append(try VersionEdit.readNewFile(&field, keyspace: keyspace))
            case .keyspaceDeletedFile:
                let keyspace = try VersionEdit.readKeyspaceID(&field)
                let level = try VersionEdit.readLevel(&field)
                deletedFiles.append(DeletedFile(level: level, fileNumber: try field.readVarint64("deleted file number"), keyspace: keyspace))
            case .keyspaceCompactionPointer:
                let keyspace = try VersionEdit.readKeyspaceID(&field)
                let level = try VersionEdit.readLevel(&field)
                keyspaceCompactionPointers[keyspace, default: [:]][level] = Array(try field.readLengthPrefixed("compaction pointer"))
            }
            guard field.isAtEnd else { throw field.corruption("\(field.remaining) unexpected bytes in edit field \(tag)") }
        }
    }

    /// Decodes one manifest record held in an array.
    public init(decoding bytes: [UInt8], file: String = "<memory>", offset: Int = 0) throws {
        self = try bytes.withUnsafeBytes { try VersionEdit(decoding: $0, file: file, offset: offset) }
    }

    private static func readLevel(_ reader: inout ByteReader) throws -> Int {
        let level = try reader.readVarint32("level")
        guard level < UInt32(levelCount) else { throw reader.corruption("level \(level) out of range 0...\(levelCount - 1)") }
        return Int(level)
    }

    /// A named keyspace's id (0 is the default keyspace's, which is never named).
    private static func readKeyspaceID(_ reader: inout ByteReader) throws -> UInt32 {
        let id = try reader.readVarint32("keyspace id")
        guard id != KeyspaceDescriptor.defaultID else { throw reader.corruption("keyspace id 0 in a named keyspace's field") }
        return id
    }

    private static func readNewFile(_ reader: inout ByteReader, keyspace: UInt32) throws -> FileMetadata {
        let level = try readLevel(&reader)
        let number = try reader.readVarint64("file number")
        let size = try reader.readVarint64("file size")
        let smallest = Array(try reader.readLengthPrefixed("smallest key"))
        let largest = Array(try reader.readLengthPrefixed("largest key"))
        guard smallest.count >= InternalKey.trailerSize, largest.count >= InternalKey.trailerSize,
            InternalKeyComparator.compareArrays(smallest, largest) <= 0
        else { throw reader.corruption("file \(number) has an invalid key range") }
        let low = try reader.readVarint64("smallest sequence")
        let high = try reader.readVarint64("largest sequence")
        guard let smallestSequence = SequenceNumber(checking: low), let largestSequence = SequenceNumber(checking: high) else {
            throw reader.corruption("file \(number) has a sequence above 2^56-1")
        }
        return FileMetadata(
            level: level, fileNumber: number, fileSize: size, smallest: smallest, largest: largest,
            smallestSequence: smallestSequence, largestSequence: largestSequence,
            entryCount: try reader.readVarint64("entries"), deletionCount: try reader.readVarint64("deletions"),
            rangeDeletionCount: try reader.readVarint64("range deletions"), keyspace: keyspace)
    }
}
