import Encoding
import Manifest

extension Database {
    /// Blocks until the background work has caught up: every frozen memtable flushed and no
    /// compaction needed or running in any keyspace (RocksDB's `WaitForCompact`) — after a bulk
    /// load, before measuring reads or copying files. Work that writes made meanwhile is waited
    /// for too. The active memtable is not flushed (`flush()` first for that). Without
    /// background threads (`Options.backgroundWork` off) the pending work runs here.
    ///
    /// Blocks the calling thread; from Swift concurrency use the `async` overload.
    ///
    /// - Throws: the error that stopped the background work; `.closed`.
    public func waitForCompactions() throws {
        try checkOpen()
        if !options.backgroundWork {
            try runPendingFlushes()
            try runPendingCompactions()
            return
        }
        // A request makes the compaction thread look (and clear it) even when nothing else
        // woke it: idle means no request left, nothing frozen and neither thread busy.
        requestCompaction()
        state.wait(until: { state in
            state.backgroundError != nil || state.shutdown
                || (state.frozen.isEmpty && !state.flushing && !state.compacting && !state.compactionRequested)
        }) { _ in }
        if let error = state.withLock({ $0.backgroundError }) { throw error }
        try checkOpen()
    }

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
        try compactRange(from: start.map { $0.withUnsafeBytes { Array($0) } }, to: end.map { $0.withUnsafeBytes { Array($0) } }, keyspace: KeyspaceDescriptor.defaultID)
    }

    /// `compactRange(from:to:)` in keyspace `keyspace`'s tree.
    func compactRange(from low: [UInt8]?, to high: [UInt8]?, keyspace: UInt32) throws {
        try checkWritable()
        try flush()
        if let low, let high, BytewiseComparator.compare(low, high) >= 0 { return }
        guard versionSet.currentVersion.tree(keyspace) != nil else {
            throw StrataError.invalidArgument("keyspace \(keyspace) does not exist (it was dropped)")
        }
        do {
            // The compactor's range is inclusive; `high` itself is outside `[from, to)` but may
            // be compacted along with its table, which is harmless.
            let runs = try compactor.compactRange(start: low, end: high, keyspace: keyspace) { snapshots.sequences }
            for run in runs { logCompaction(run) }
        } catch StrataError.invalidArgument(let reason) {
            // Dropped while compacting: nothing is damaged.
            throw StrataError.invalidArgument(reason)
        } catch {
            setBackgroundError(error, during: "manual compaction")
            throw error
        }
    }
}
