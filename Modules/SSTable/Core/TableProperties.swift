import Encoding

// See Docs/formats/sstable.md ("Properties block").

/// Facts about a table, stored in its properties block.
public struct TableProperties: Sendable, Equatable {
    /// Point entries (puts and deletes, every version).
    public var entries: UInt64 = 0
    /// Point deletes.
    public var deletions: UInt64 = 0
    /// Range tombstones.
    public var rangeDeletions: UInt64 = 0
    /// Sum of encoded internal key lengths of point entries.
    public var rawKeyBytes: UInt64 = 0
    /// Sum of value lengths of point entries.
    public var rawValueBytes: UInt64 = 0
    /// Smallest internal key (points and tombstone starts), encoded.
    public var smallestKey: [UInt8] = []
    /// Largest internal key (points and tombstone end sentinels), encoded.
    public var largestKey: [UInt8] = []
    /// Smallest sequence number.
    public var smallestSequence: UInt64 = 0
    /// Largest sequence number.
    public var largestSequence: UInt64 = 0
    /// The compression setting, e.g. `lz4`.
    public var codec: String = "none"
    /// Creation time, microseconds since the Unix epoch.
    public var creationTimeMicros: UInt64 = 0
    /// The builder that wrote the table.
    public var builderVersion: String = TableFormat.builderVersion
    /// Number of data blocks.
    public var dataBlocks: UInt64 = 0
    /// Bloom filter bits per key (0: no filter).
    public var filterBitsPerKey: UInt64 = 0
    /// The key order's name.
    public var comparator: String = BytewiseComparator.name
    /// The id of the keyspace the table belongs to (0: the default keyspace, not recorded).
    public var keyspaceID: UInt32 = 0
    /// The name of that keyspace (empty for the default keyspace).
    public var keyspaceName: String = ""

    /// Empty properties.
    public init() {}

    enum Tag: UInt32 {
        case entries = 1, deletions, rangeDeletions, rawKeyBytes, rawValueBytes, smallestKey, largestKey
        case smallestSequence, largestSequence, codec, creationTime, builderVersion, dataBlocks
        case filterBitsPerKey, comparator
        case keyspaceID, keyspaceName
    }

    /// The encoded block payload.
    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 256)
        func integer(_ tag: Tag, _ value: UInt64) {
            var field = ByteWriter(capacity: 10)
            field.appendVarint64(value)
            bytes(tag, field.bytes)
        }
        func bytes(_ tag: Tag, _ value: [UInt8]) {
            writer.appendVarint32(tag.rawValue)
            writer.appendLengthPrefixed(value)
        }
        integer(.entries, entries)
        integer(.deletions, deletions)
        integer(.rangeDeletions, rangeDeletions)
        integer(.rawKeyBytes, rawKeyBytes)
        integer(.rawValueBytes, rawValueBytes)
        bytes(.smallestKey, smallestKey)
        bytes(.largestKey, largestKey)
        integer(.smallestSequence, smallestSequence)
        integer(.largestSequence, largestSequence)
        bytes(.codec, Array(codec.utf8))
        integer(.creationTime, creationTimeMicros)
        bytes(.builderVersion, Array(builderVersion.utf8))
        integer(.dataBlocks, dataBlocks)
        integer(.filterBitsPerKey, filterBitsPerKey)
        bytes(.comparator, Array(comparator.utf8))
        if keyspaceID != 0 {
            integer(.keyspaceID, UInt64(keyspaceID))
            bytes(.keyspaceName, Array(keyspaceName.utf8))
        }
        return writer.bytes
    }

    /// Decodes a properties block, skipping unknown tags.
    public init(decoding bytes: UnsafeRawBufferPointer, file: String, offset: Int) throws {
        var reader = ByteReader(bytes, file: file, baseOffset: offset)
        while !reader.isAtEnd {
            let rawTag = try reader.readVarint32("property tag")
            let field = try reader.readLengthPrefixed("property value")
            guard let tag = Tag(rawValue: rawTag) else { continue }
            func integer() throws -> UInt64 {
                var inner = ByteReader(field, file: file, baseOffset: offset + reader.position - field.count)
                let value = try inner.readVarint64("property \(tag)")
                guard inner.isAtEnd else { throw inner.corruption("trailing bytes in property \(tag)") }
                return value
            }
            switch tag {
            case .entries: entries = try integer()
            case .deletions: deletions = try integer()
            case .rangeDeletions: rangeDeletions = try integer()
            case .rawKeyBytes: rawKeyBytes = try integer()
            case .rawValueBytes: rawValueBytes = try integer()
            case .smallestKey: smallestKey = Array(field)
            case .largestKey: largestKey = Array(field)
            case .smallestSequence: smallestSequence = try integer()
            case .largestSequence: largestSequence = try integer()
            case .codec: codec = String(decoding: field, as: UTF8.self)
            case .creationTime: creationTimeMicros = try integer()
            case .builderVersion: builderVersion = String(decoding: field, as: UTF8.self)
            case .dataBlocks: dataBlocks = try integer()
            case .filterBitsPerKey: filterBitsPerKey = try integer()
            case .comparator: comparator = String(decoding: field, as: UTF8.self)
            case .keyspaceID:
                let id = try integer()
                guard id <= UInt64(UInt32.max) else { throw StrataError.corruption(file: file, offset: offset + reader.position, reason: "keyspace id \(id) out of range") }
                keyspaceID = UInt32(id)
            case .keyspaceName: keyspaceName = String(decoding: field, as: UTF8.self)
            }
        }
    }
}
