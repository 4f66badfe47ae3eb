// The read-path vocabulary every layer shares (memtables, tables, versions, cursors): what a
// lookup in one layer answers, and the one rule that resolves a point version against the range
// tombstones of the same layer. See Docs/ARCHITECTURE.md ("Code map").

/// The answer of a point lookup in one layer of the tree.
public enum LookupResult: Sendable, Equatable {
    /// The newest visible version is a put with this value.
    case value([UInt8])
    /// The newest visible version is a delete, or a range tombstone newer than any visible put
    /// covers the key: the key does not exist, and older layers must not be consulted.
    case deleted
    /// This layer knows nothing about the key at that snapshot: consult older layers.
    case notFound
}

/// The one rule for "a newer range tombstone hides an older point version", used by every
/// reader: memtable lookups, table lookups and cursors. (Compaction's `VersionCollapse` applies
/// the same rule when it decides which versions to drop, per snapshot stripe.)
///
/// Within one layer (a memtable or a table) a lookup finds the newest point version of a key
/// visible at the reader's snapshot and, separately, the newest range tombstone covering the key
/// visible at that snapshot. Sequence numbers are unique per entry, so one of the two is newer.
public enum RangeTombstoneRule {
    /// Whether a covering tombstone written at `tombstone` (`nil`: no visible tombstone covers
    /// the key) hides a point version written at `pointSequence`: it does exactly when it is newer.
    @inlinable
    public static func hides(_ tombstone: UInt64?, pointSequence: UInt64) -> Bool {
        guard let tombstone else { return false }
        return tombstone > pointSequence
    }

    /// One layer's answer: the newest visible point version (`point`, `.notFound` when the layer
    /// has none, written at `pointSequence`) resolved against the newest visible covering
    /// tombstone. A tombstone with no point version under it still answers `.deleted`, so older
    /// layers are not consulted.
    @inlinable
    public static func resolve(_ point: LookupResult, pointSequence: UInt64, coveringTombstone tombstone: UInt64?) -> LookupResult {
        if case .notFound = point { return tombstone == nil ? .notFound : .deleted }
        return hides(tombstone, pointSequence: pointSequence) ? .deleted : point
    }
}
