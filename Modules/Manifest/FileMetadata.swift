import Encoding
import SSTable

/// What the manifest records about one table file.
public struct FileMetadata: Sendable, Hashable, CustomStringConvertible {
    /// The level the file lives in (0…6).
    public var level: Int
    /// The file number (`NNNNNN.sst`).
    public var fileNumber: UInt64
    /// The file's size in bytes; a shorter file at open is an error.
    public var fileSize: UInt64
    /// The smallest internal key, encoded.
    public var smallest: [UInt8]
    /// The largest internal key, encoded.
    public var largest: [UInt8]
    /// The smallest sequence number in the file.
    public var smallestSequence: SequenceNumber
    /// The largest sequence number in the file.
    public var largestSequence: SequenceNumber
    /// Point entries.
    public var entryCount: UInt64
    /// Point deletes.
    public var deletionCount: UInt64
    /// Range tombstones.
    public var rangeDeletionCount: UInt64

    /// Creates metadata for a file at `level`.
    public init(
        level: Int, fileNumber: UInt64, fileSize: UInt64, smallest: [UInt8], largest: [UInt8],
        smallestSequence: SequenceNumber, largestSequence: SequenceNumber,
        entryCount: UInt64 = 0, deletionCount: UInt64 = 0, rangeDeletionCount: UInt64 = 0
    ) {
        self.level = level
        self.fileNumber = fileNumber
        self.fileSize = fileSize
        self.smallest = smallest
        self.largest = largest
        self.smallestSequence = smallestSequence
        self.largestSequence = largestSequence
        self.entryCount = entryCount
        self.deletionCount = deletionCount
        self.rangeDeletionCount = rangeDeletionCount
    }

    /// Metadata for a freshly built table placed at `level`.
    public init(_ table: TableMetadata, level: Int) {
        self.init(
            level: level, fileNumber: table.fileNumber, fileSize: table.fileSize, smallest: table.smallest,
            largest: table.largest, smallestSequence: table.smallestSequence, largestSequence: table.largestSequence,
            entryCount: table.entryCount, deletionCount: table.deletionCount, rangeDeletionCount: table.rangeDeletionCount)
    }

    /// The user key of `smallest`.
    public var smallestUserKey: [UInt8] { Array(smallest.dropLast(InternalKey.trailerSize)) }

    /// The user key of `largest`.
    public var largestUserKey: [UInt8] { Array(largest.dropLast(InternalKey.trailerSize)) }

    /// Whether the file's user-key range intersects `[smallestUserKey, largestUserKey]`
    /// (`nil` bounds are unbounded).
    public func overlaps(smallestUserKey low: [UInt8]?, largestUserKey high: [UInt8]?) -> Bool {
        let fileLow = smallest.withUnsafeBytes { Array(InternalKey.userKey(of: $0)) }
        let fileHigh = largest.withUnsafeBytes { Array(InternalKey.userKey(of: $0)) }
        if let low, BytewiseComparator.compare(fileHigh, low) < 0 { return false }
        if let high, BytewiseComparator.compare(fileLow, high) > 0 { return false }
        return true
    }

    public var description: String {
        let low = (try? InternalKey(decoding: smallest))?.description ?? "?"
        let high = (try? InternalKey(decoding: largest))?.description ?? "?"
        return "L\(level) #\(fileNumber) \(fileSize) B [\(low) .. \(high)]"
    }
}
