import Encoding

/// What a finished table is: everything the manifest records about it.
public struct TableMetadata: Sendable, Hashable, CustomStringConvertible {
    /// The table's file number (`NNNNNN.sst`).
    public var fileNumber: UInt64
    /// The file's size in bytes.
    public var fileSize: UInt64
    /// The smallest internal key (points and tombstone starts), encoded.
    public var smallest: [UInt8]
    /// The largest internal key (points and tombstone end sentinels), encoded.
    public var largest: [UInt8]
    /// The smallest sequence number in the table.
    public var smallestSequence: SequenceNumber
    /// The largest sequence number in the table.
    public var largestSequence: SequenceNumber
    /// Point entries (puts and deletes).
    public var entryCount: UInt64
    /// Point deletes.
    public var deletionCount: UInt64
    /// Range tombstones.
    public var rangeDeletionCount: UInt64

    /// Creates metadata.
    public init(
        fileNumber: UInt64, fileSize: UInt64, smallest: [UInt8], largest: [UInt8],
        smallestSequence: SequenceNumber, largestSequence: SequenceNumber,
        entryCount: UInt64, deletionCount: UInt64, rangeDeletionCount: UInt64
    ) {
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

    /// A one-line, human-readable description.
    public var description: String {
        let low = (try? InternalKey(decoding: smallest))?.description ?? "?"
        let high = (try? InternalKey(decoding: largest))?.description ?? "?"
        return "#\(fileNumber) \(fileSize) B [\(low) .. \(high)] seq \(smallestSequence)...\(largestSequence), \(entryCount) entries"
    }
}
