/// A range delete: every key in `[start, end)` written before `sequence` is deleted.
///
/// Stored in a memtable's tombstone list and in a table's range-tombstone block as an internal
/// key `(start, sequence, .rangeDelete)` with `end` as the value, ordered by start ascending then
/// sequence descending.
public struct RangeTombstone: Sendable, Hashable, CustomStringConvertible {
    /// The first deleted key.
    public var start: [UInt8]
    /// The first key after the range (exclusive).
    public var end: [UInt8]
    /// The sequence number of the delete.
    public var sequence: SequenceNumber

    /// Creates a range tombstone.
    public init(start: [UInt8], end: [UInt8], sequence: SequenceNumber) {
        self.start = start
        self.end = end
        self.sequence = sequence
    }

    /// Whether the tombstone covers `userKey` (ignoring sequence numbers).
    public func covers(_ userKey: [UInt8]) -> Bool {
        BytewiseComparator.compare(start, userKey) <= 0 && BytewiseComparator.compare(userKey, end) < 0
    }

    /// The encoded internal key `(start, sequence, .rangeDelete)`.
    public var internalKey: [UInt8] {
        InternalKey(userKey: start, sequence: sequence, kind: .rangeDelete).encoded
    }

    /// A one-line, human-readable description.
    public var description: String {
        "[\(InternalKey.printable(start)), \(InternalKey.printable(end)))@\(sequence)"
    }
}
