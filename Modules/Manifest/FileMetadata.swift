import Encoding
import SSTable

/// What the manifest records about one table file: the table's metadata and the level it lives in.
///
/// The table's fields (`fileNumber`, `fileSize`, `smallest`, `largest`, sequence range, counts)
/// are read through `file.fieldName` (dynamic member lookup into `table`).
@dynamicMemberLookup
public struct FileMetadata: Sendable, Hashable, CustomStringConvertible {
    /// The level the file lives in (0…6).
    public var level: Int
    /// The keyspace whose tree the file belongs to (`KeyspaceDescriptor.defaultID`, 0, for the
    /// default keyspace).
    public var keyspace: UInt32
    /// The table's own metadata, as its builder returned it.
    public var table: TableMetadata

    /// Places `table` at `level` of `keyspace`'s tree.
    public init(_ table: TableMetadata, level: Int, keyspace: UInt32 = KeyspaceDescriptor.defaultID) {
        self.level = level
        self.keyspace = keyspace
        self.table = table
    }

    /// Creates metadata for a file at `level`.
    public init(
        level: Int, fileNumber: UInt64, fileSize: UInt64, smallest: [UInt8], largest: [UInt8],
        smallestSequence: SequenceNumber, largestSequence: SequenceNumber,
        entryCount: UInt64 = 0, deletionCount: UInt64 = 0, rangeDeletionCount: UInt64 = 0, keyspace: UInt32 = KeyspaceDescriptor.defaultID
    ) {
        self.init(
            TableMetadata(
                fileNumber: fileNumber, fileSize: fileSize, smallest: smallest, largest: largest,
                smallestSequence: smallestSequence, largestSequence: largestSequence,
                entryCount: entryCount, deletionCount: deletionCount, rangeDeletionCount: rangeDeletionCount),
            level: level, keyspace: keyspace)
    }

    /// Forwards to the table's fields. Inlinable, so `file.fileNumber` compiles to a field
    /// access in every module instead of a key-path application at run time.
    @inlinable
    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<TableMetadata, Value>) -> Value {
        get { table[keyPath: keyPath] }
        set { table[keyPath: keyPath] = newValue }
    }

    /// The user key of `smallest`.
    public var smallestUserKey: [UInt8] { Array(table.smallest.dropLast(InternalKey.trailerSize)) }

    /// The user key of `largest`.
    public var largestUserKey: [UInt8] { Array(table.largest.dropLast(InternalKey.trailerSize)) }

    /// Whether the file's user-key range intersects `[low, high]` (`nil` bounds are unbounded).
    public func overlaps(smallestUserKey low: [UInt8]?, largestUserKey high: [UInt8]?) -> Bool {
        if let low, compareUserKey(of: table.largest, with: low) < 0 { return false }
        if let high, compareUserKey(of: table.smallest, with: high) > 0 { return false }
        return true
    }

    /// Whether the file's largest key is a range-tombstone sentinel `(end, 2⁵⁶−1, rangeDelete)`:
    /// the file then covers user keys up to `end` exclusive, and the next file of its level may
    /// start with real entries of `end`.
    package var largestIsTombstoneSentinel: Bool {
        table.largest.withUnsafeBytes { InternalKey.trailer(of: $0) } == InternalKey.packTrailer(.max, .rangeDelete)
    }

    /// Whether every key of the file sorts before user key `userKey` (so a read of `userKey`
    /// need not open it).
    package func endsBefore(_ userKey: UnsafeRawBufferPointer) -> Bool {
        let order = table.largest.withUnsafeBytes { BytewiseComparator.compare(InternalKey.userKey(of: $0), userKey) }
        return order < 0 || (order == 0 && largestIsTombstoneSentinel)
    }

    private func compareUserKey(of internalKey: [UInt8], with userKey: [UInt8]) -> Int {
        internalKey.withUnsafeBytes { key in
            userKey.withUnsafeBytes { BytewiseComparator.compare(InternalKey.userKey(of: key), $0) }
        }
    }

    /// A one-line, human-readable description.
    public var description: String { keyspace == KeyspaceDescriptor.defaultID ? "L\(level) \(table)" : "keyspace \(keyspace) L\(level) \(table)" }
}
