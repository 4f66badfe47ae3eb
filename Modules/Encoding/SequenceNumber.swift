/// The position of a write in the database's history (the design's LSN).
///
/// Every entry of a write batch gets its own sequence number, assigned in order; a read at
/// snapshot `s` sees exactly the entries with sequence ≤ `s`. Sequence numbers are 56 bits wide
/// because they share an 8-byte key trailer with the `ValueKind`.
public struct SequenceNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The numeric value, at most `SequenceNumber.max.rawValue` (2^56 − 1).
    public let rawValue: UInt64

    /// Wraps `rawValue`.
    ///
    /// - Precondition: `rawValue <= 2^56 − 1`. Decoders must check values read from disk with
    ///   `SequenceNumber(checking:)` instead.
    @inlinable
    public init(rawValue: UInt64) {
        precondition(rawValue <= SequenceNumber.maxRawValue, "sequence number above 2^56-1")
        self.rawValue = rawValue
    }

    /// Wraps `rawValue` without a check; for trusted, already-validated values.
    @inlinable
    init(unchecked rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Wraps `rawValue`, or returns `nil` when it does not fit in 56 bits.
    @inlinable
    public init?(checking rawValue: UInt64) {
        guard rawValue <= SequenceNumber.maxRawValue else { return nil }
        self.rawValue = rawValue
    }

    @usableFromInline static let maxRawValue: UInt64 = (1 << 56) - 1

    /// The sequence before any write: an empty database's last sequence.
    public static let zero = SequenceNumber(unchecked: 0)

    /// The largest representable sequence (2^56 − 1). Reads "at `max`" see everything.
    public static let max = SequenceNumber(unchecked: maxRawValue)

    /// The sequence `count` after this one.
    ///
    /// - Precondition: The result fits in 56 bits.
    @inlinable
    public func advanced(by count: UInt64) -> SequenceNumber {
        SequenceNumber(rawValue: rawValue + count)
    }

    /// Orders values as the format sorts them.
    @inlinable
    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// A one-line, human-readable description.
    public var description: String { String(rawValue) }
}

/// What an internal key's entry means. Stored in the low byte of the key trailer.
///
/// The raw values are part of every on-disk format; never reuse a retired number.
public enum ValueKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A point delete (tombstone); the entry has no value.
    case delete = 0
    /// A put; the entry's value is the user's value.
    case put = 1
    /// A range delete `[userKey, end)`; the entry's value is the exclusive end key.
    case rangeDelete = 2

    /// A one-line, human-readable description.
    public var description: String {
        switch self {
        case .delete: return "DEL"
        case .put: return "PUT"
        case .rangeDelete: return "RANGEDEL"
        }
    }
}
