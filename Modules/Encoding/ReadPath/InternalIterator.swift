/// A cursor over a sorted stream of internal keys (user key ascending, sequence descending) and
/// their values: the one stream type that memtables, tables and merges all produce and the table
/// builder consumes.
///
/// `key` and `value` are borrowed: they stay valid until the iterator moves or is destroyed.
/// Methods throw when the source must read from disk and the read fails; in-memory sources never
/// throw.
///
/// Thread safety: an iterator belongs to one thread at a time.
public protocol InternalIterator {
    /// `true` when the iterator is positioned on an entry.
    var isValid: Bool { get }

    /// The current entry's encoded internal key.
    ///
    /// - Precondition: `isValid`.
    var key: UnsafeRawBufferPointer { get }

    /// The current entry's value (empty for deletes; the end key for range tombstones).
    ///
    /// - Precondition: `isValid`.
    var value: UnsafeRawBufferPointer { get }

    /// Positions on the first entry (invalid when empty).
    mutating func seekToFirst() throws

    /// Positions on the last entry (invalid when empty).
    mutating func seekToLast() throws

    /// Positions on the first entry whose key is ≥ `target` (an encoded internal key).
    mutating func seek(to target: UnsafeRawBufferPointer) throws

    /// Positions on the last entry whose key is ≤ `target` (an encoded internal key).
    mutating func seekForPrev(to target: UnsafeRawBufferPointer) throws

    /// Moves to the next entry.
    ///
    /// - Precondition: `isValid`.
    mutating func next() throws

    /// Moves to the previous entry.
    ///
    /// - Precondition: `isValid`.
    mutating func prev() throws
}
