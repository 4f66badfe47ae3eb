import Encoding

extension Database {
    /// Writes every memtable to a level-0 table and waits until it is done (the log segments they
    /// needed become garbage).
    ///
    /// Blocks the calling thread for the flush; from Swift concurrency use the `async` overload.
    ///
    /// - Throws: `.readOnly` in a read-only open or after a background failure; `.closed`;
    ///   what the flush hit (`.io`).
    public func flush() throws {
        try checkWritable()
        try switchMemtableForFlush()
        try waitForFlushes()
    }

    /// Compacts the keys in `[from, to)` (unbounded when `nil`) down to the deepest level that
    /// holds them, dropping every version and tombstone no snapshot needs. (Tables are compacted
    /// whole, so keys just outside the range may be rewritten too.)
    ///
    /// Flushes the memtables first. Blocks the calling thread; from Swift concurrency use the
    /// `async` overload.
    public func compactRange<From: BytesConvertible, To: BytesConvertible>(from start: From? = [UInt8]?.none, to end: To? = [UInt8]?.none) throws {
        try checkWritable()
        try flush()
        let low = start.map { $0.withUnsafeBytes { Array($0) } }
        let high = end.map { $0.withUnsafeBytes { Array($0) } }
        if let low, let high, BytewiseComparator.compare(low, high) >= 0 { return }
        do {
            // The compactor's range is inclusive; `high` itself is outside `[from, to)` but may
            // be compacted along with its table, which is harmless.
            let runs = try compactor.compactRange(start: low, end: high) { snapshots.sequences }
            for run in runs { logCompaction(run) }
        } catch {
            setBackgroundError(error, during: "manual compaction")
            throw error
        }
    }
}
