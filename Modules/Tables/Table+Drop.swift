import Encoding
import Engine

extension Table {
    /// Removes every record, index entry and index state of the table with one range delete
    /// in its keyspace and one in its index keyspace, in one batch (atomic: a reader sees the
    /// whole table or none of it), then compacts the ranges so the space comes back. Other
    /// tables and plain keys are untouched. To use the table again, open it anew with
    /// `Table(_:in:)` (which records its indexes again); this instance's indexes read as
    /// undeclared, so its queries on them are refused.
    ///
    /// - Parameter reclaimSpace: compact the table's range at once (default); otherwise the
    ///   space is reclaimed by later compactions.
    /// - Throws: as `Database.deleteRange` and `Database.compactRange`.
    public func drop(reclaimSpace: Bool = true) throws {
        let range = layout.tableRange
        // The root is `prefix ++ enc(name)`, which ends in the terminator 00 00: it has an end.
        guard let end = range.to else { return }
        var batch = WriteBatch()
        batch.deleteRange(from: range.from, to: end, in: keyspace)
        if indexKeyspace.id != keyspace.id { batch.deleteRange(from: range.from, to: end, in: indexKeyspace) }
        try database.write(batch)
        states.withLock { $0 = [:] }
        if reclaimSpace {
            try keyspace.compactRange(from: range.from, to: end)
            if indexKeyspace.id != keyspace.id { try indexKeyspace.compactRange(from: range.from, to: end) }
        }
    }
}
