import Encoding

// See Docs/formats/wal.md ("Record payload: write batches").

/// An ordered group of puts, deletes and range deletes applied atomically: all of them or none,
/// also across a crash (a batch is one WAL record).
///
/// The batch is kept in its encoded form, so writing it to the log costs no extra copy:
///
///     sequence: fixed64 | count: fixed32 | entry × count
///     entry := kind: u8 | [keyspace: varint32] | key: varint32 length + bytes | value or end key (put, rangeDelete)
///
/// Entry *i* gets sequence `sequence + i` when the batch is committed. An entry of a named
/// keyspace has bit 0x80 set in its kind and the keyspace's id after it; entries of the default
/// keyspace (id 0) carry no id, so batches without keyspaces encode as they always did.
public struct WriteBatch: Sendable, Equatable {
    /// The size of the fixed header (sequence + count).
    public static let headerSize = 12

    /// The encoded batch, header included.
    public private(set) var encoded: [UInt8]
    /// The number of entries.
    public private(set) var count: Int
    /// Facts about the entries, kept current as entries are added, so that checking a batch
    /// (key and value limits, counters) costs nothing per entry.
    public private(set) var summary: Summary

    /// Facts about a batch's entries.
    public struct Summary: Sendable, Equatable {
        /// Puts among the entries.
        public var puts = 0
        /// Point deletes among the entries.
        public var deletes = 0
        /// Range deletes among the entries.
        public var rangeDeletes = 0
        /// Key plus value bytes over all entries (a range delete counts both bounds).
        public var userBytes = 0
        /// The shortest key or range bound (`Int.max` when empty).
        public var shortestKey = Int.max
        /// The longest key or range bound (0 when empty).
        public var longestKey = 0
        /// The longest put value.
        public var longestValue = 0
        /// Whether some range delete's start does not sort before its end.
        public var hasEmptyRange = false
        /// The named keyspaces (ids ≠ 0) the entries write to, each once, in first-use order.
        public var keyspaces: [UInt32] = []

        /// A summary of no entries.
        public init() {}

        @usableFromInline
        mutating func add(_ kind: ValueKind, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, keyspace: UInt32) {
            if keyspace != 0 && !keyspaces.contains(keyspace) { keyspaces.append(keyspace) }
            userBytes += key.count + value.count
            shortestKey = Swift.min(shortestKey, key.count)
            longestKey = Swift.max(longestKey, key.count)
            switch kind {
            case .put:
                puts += 1
                longestValue = Swift.max(longestValue, value.count)
            case .delete:
                deletes += 1
            case .rangeDelete:
                rangeDeletes += 1
                shortestKey = Swift.min(shortestKey, value.count)
                longestKey = Swift.max(longestKey, value.count)
                if BytewiseComparator.compare(key, value) >= 0 { hasEmptyRange = true }
            }
        }

        /// Adds the entries `other` summarises.
        public mutating func add(_ other: Summary) {
            puts += other.puts
            deletes += other.deletes
            rangeDeletes += other.rangeDeletes
            userBytes += other.userBytes
            shortestKey = Swift.min(shortestKey, other.shortestKey)
            longestKey = Swift.max(longestKey, other.longestKey)
            longestValue = Swift.max(longestValue, other.longestValue)
            hasEmptyRange = hasEmptyRange || other.hasEmptyRange
            for keyspace in other.keyspaces where !keyspaces.contains(keyspace) { keyspaces.append(keyspace) }
        }
    }

    /// An empty batch.
    public init() {
        encoded = [UInt8](repeating: 0, count: WriteBatch.headerSize)
        count = 0
        summary = Summary()
    }

    /// Decodes and fully validates an encoded batch.
    ///
    /// - Throws: `StrataError.corruption` naming `file` and the offset of the first bad byte.
    public init(decoding bytes: UnsafeRawBufferPointer, file: String = "<memory>", offset: Int = 0) throws {
        let (entries, summary) = try WriteBatch.summarize(bytes, file: file, offset: offset)
        encoded = Array(bytes)
        count = entries
        self.summary = summary
    }

    /// `true` when the batch has no entries.
    public var isEmpty: Bool { count == 0 }

    /// The encoded size in bytes (the WAL record's payload size).
    public var byteSize: Int { encoded.count }

    /// The sequence number of the first entry (set by the engine when it commits the batch).
    public var sequence: SequenceNumber {
        get {
            SequenceNumber(rawValue: encoded.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        }
        set {
            withUnsafeBytes(of: newValue.rawValue.littleEndian) { source in
                for index in 0..<8 { encoded[index] = source[index] }
            }
        }
    }

    /// The sequence number of the last entry (`sequence` when empty).
    public var lastSequence: SequenceNumber {
        count == 0 ? sequence : sequence.advanced(by: UInt64(count - 1))
    }

    /// Adds a put of `value` under `key` (in keyspace `keyspaceID`; 0, the default keyspace,
    /// unless given — the engine's `Keyspace` handles pass theirs).
    @inlinable
    public mutating func put(_ key: some BytesConvertible, _ value: some BytesConvertible, keyspaceID: UInt32 = 0) {
        key.withUnsafeBytes { key in value.withUnsafeBytes { value in appendEntry(.put, key, value, keyspace: keyspaceID) } }
    }

    /// Adds a point delete of `key` (in keyspace `keyspaceID`).
    @inlinable
    public mutating func delete(_ key: some BytesConvertible, keyspaceID: UInt32 = 0) {
        key.withUnsafeBytes { key in appendEntry(.delete, key, nil, keyspace: keyspaceID) }
    }

    /// Adds a delete of every key in `[from, to)` (in keyspace `keyspaceID`).
    @inlinable
    public mutating func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, keyspaceID: UInt32 = 0) {
        start.withUnsafeBytes { start in end.withUnsafeBytes { end in appendEntry(.rangeDelete, start, end, keyspace: keyspaceID) } }
    }

    /// Appends every entry of `other`, in order.
    public mutating func append(contentsOf other: WriteBatch) {
        encoded.append(contentsOf: other.encoded[WriteBatch.headerSize...])
        count += other.count
        summary.add(other.summary)
        storeCount()
    }

    /// Removes every entry.
    public mutating func removeAll() {
        encoded.removeSubrange(WriteBatch.headerSize...)
        for index in 0..<WriteBatch.headerSize { encoded[index] = 0 }
        count = 0
        summary = Summary()
    }

    /// One decoded entry, with byte arrays (for tests and tools; the engine decodes in place).
    public struct Entry: Sendable, Equatable {
        /// What the entry does.
        public var kind: ValueKind
        /// The key (the start key for a range delete).
        public var key: [UInt8]
        /// The value for a put, the exclusive end key for a range delete, empty for a delete.
        public var value: [UInt8]
        /// The entry's sequence number.
        public var sequence: SequenceNumber
        /// The keyspace it writes to (0: the default keyspace).
        public var keyspace: UInt32

        /// Creates an entry.
        public init(kind: ValueKind, key: [UInt8], value: [UInt8], sequence: SequenceNumber, keyspace: UInt32 = 0) {
            self.kind = kind
            self.key = key
            self.value = value
            self.sequence = sequence
            self.keyspace = keyspace
        }
    }

    /// The entries, decoded.
    public var entries: [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(count)
        // The batch was built through this type's own appenders, so it always decodes.
        _ = try? encoded.withUnsafeBytes { bytes in
            try WriteBatch.forEach(in: bytes) { keyspace, kind, key, value, sequence in
                result.append(Entry(kind: kind, key: Array(key), value: Array(value), sequence: sequence, keyspace: keyspace))
            }
        }
        return result
    }

    /// Decodes an encoded batch in place, calling `body` for each entry with its keyspace id (0:
    /// the default keyspace), kind, key, value (or end key) and sequence number. The buffers are
    /// valid only during the call.
    ///
    /// - Returns: the sequence range the batch covers, or `nil` when it is empty.
    /// - Throws: `StrataError.corruption` at the first malformed byte, or when the entries do not
    ///   match the header's count or do not end exactly at the end of `bytes`.
    @discardableResult
    public static func forEach(
        in bytes: UnsafeRawBufferPointer, file: String = "<memory>", offset: Int = 0,
        _ body: (UInt32, ValueKind, UnsafeRawBufferPointer, UnsafeRawBufferPointer, SequenceNumber) throws -> Void
    ) throws -> ClosedRange<SequenceNumber>? {
        var reader = ByteReader(bytes, file: file, baseOffset: offset)
        let first = try reader.readFixed64("batch sequence")
        let count = try reader.readFixed32("batch count")
        guard let start = SequenceNumber(checking: first),
            count == 0 || SequenceNumber(checking: first + UInt64(count) - 1) != nil
        else {
            throw reader.corruption("batch sequence \(first) + count \(count) exceeds 2^56-1", at: -12)
        }
        for index in 0..<UInt64(count) {
            let kindOffset = reader.position
            let kindByte = try reader.readUInt8("entry kind")
            guard let kind = ValueKind(rawValue: kindByte & ~WriteBatch.keyspaceFlag) else {
                throw StrataError.corruption(file: file, offset: offset + kindOffset, reason: "unknown batch entry kind \(kindByte)")
            }
            var keyspace: UInt32 = 0
            if kindByte & WriteBatch.keyspaceFlag != 0 {
                keyspace = try reader.readVarint32("entry keyspace")
                guard keyspace != 0 else {
                    throw StrataError.corruption(file: file, offset: offset + kindOffset, reason: "entry flagged as a named keyspace's names keyspace 0")
                }
            }
            let key = try reader.readLengthPrefixed("entry key")
            let value = kind == .delete ? UnsafeRawBufferPointer(start: nil, count: 0) : try reader.readLengthPrefixed("entry value")
            try body(keyspace, kind, key, value, start.advanced(by: index))
        }
        guard reader.isAtEnd else {
            throw reader.corruption("\(reader.remaining) bytes after the batch's \(count) entries")
        }
        return count == 0 ? nil : start...start.advanced(by: UInt64(count) - 1)
    }

    /// The sequence numbers a WAL payload holding a batch covers, read from its 12-byte header
    /// without decoding the entries; `nil` for an empty batch or a payload too short to be one.
    public static func sequenceRange(of payload: UnsafeRawBufferPointer) -> ClosedRange<SequenceNumber>? {
        guard payload.count >= headerSize else { return nil }
        let first = UInt64(littleEndian: payload.loadUnaligned(as: UInt64.self))
        let count = UInt64(UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard count > 0, let start = SequenceNumber(checking: first), let end = SequenceNumber(checking: first + count - 1) else {
            return nil
        }
        return start...end
    }

    // MARK: - Internal

    /// The bit of an entry's kind byte that says a keyspace id follows.
    static let keyspaceFlag: UInt8 = 0x80

    /// Appends one entry (`value` is `nil` for a point delete). Not generic, so one compiled
    /// copy serves every caller.
    @usableFromInline
    mutating func appendEntry(_ kind: ValueKind, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?, keyspace: UInt32) {
        var writer = ByteWriter()
        swap(&writer.bytes, &encoded)
        if keyspace == 0 {
            writer.appendUInt8(kind.rawValue)
        } else {
            writer.appendUInt8(kind.rawValue | WriteBatch.keyspaceFlag)
            writer.appendVarint32(keyspace)
        }
        writer.appendLengthPrefixed(key)
        if let value { writer.appendLengthPrefixed(value) }
        swap(&writer.bytes, &encoded)
        summary.add(kind, key, value ?? UnsafeRawBufferPointer(start: nil, count: 0), keyspace: keyspace)
        count += 1
        storeCount()
    }

    private mutating func storeCount() {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: count).littleEndian) { source in
            for index in 0..<4 { encoded[8 + index] = source[index] }
        }
    }
}
