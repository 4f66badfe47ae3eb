/// Decides, during compaction, that a value no reader can see any more may be removed — the hook
/// through which values with an expiry time give their space back (see `ExpiryCompactionFilter`).
///
/// The compaction asks only about the newest version of a key in each snapshot stripe (versions
/// the compaction keeps), and only about values (never deletes or range tombstones). A removed
/// value is turned into a point delete with the same sequence number, so older versions of the
/// key stay hidden from every reader that saw the value; the delete itself is dropped when
/// nothing older can exist below the output level.
///
/// Because the value is removed for readers at every snapshot, a filter must remove only values
/// that no reader, at any snapshot, may still return — such as values past their expiry time,
/// which readers already treat as absent. (RocksDB's compaction filters may change what old
/// snapshots see; this one may not.)
///
/// Thread safety: compactions may call one filter from several threads at once.
public protocol CompactionFilter: Sendable {
    /// `true` to remove the value `value` of user key `userKey`. Called once per kept value in
    /// every compaction, so it must be cheap, and must not throw or block.
    func removes(userKey: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool
}
