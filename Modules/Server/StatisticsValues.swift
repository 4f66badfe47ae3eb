import Strata

/// The engine's statistics as named numbers: what `GetStats` returns and `strata --server … stats`
/// prints. Names are the `strata stats` labels in snake_case.
enum StatisticsValues {
    /// Every counter and gauge of `statistics`, by name.
    static func values(of statistics: Statistics) -> [String: Double] {
        [
            "puts": Double(statistics.puts), "deletes": Double(statistics.deletes), "range_deletes": Double(statistics.rangeDeletes),
            "batches": Double(statistics.batches), "write_groups": Double(statistics.writeGroups), "gets": Double(statistics.gets),
            "get_hits": Double(statistics.getHits), "user_bytes_written": Double(statistics.userBytesWritten),
            "wal_bytes_written": Double(statistics.walBytesWritten), "wal_syncs": Double(statistics.walSyncs),
            "flushes": Double(statistics.flushes), "flush_bytes_written": Double(statistics.flushBytesWritten),
            "compaction_bytes_read": Double(statistics.compactionBytesRead), "compaction_bytes_written": Double(statistics.compactionBytesWritten),
            "write_amplification": statistics.writeAmplification, "block_cache_hits": Double(statistics.blockCacheHits),
            "block_cache_misses": Double(statistics.blockCacheMisses), "bloom_useful": Double(statistics.bloomUseful),
            "bloom_false_positives": Double(statistics.bloomFalsePositives), "stall_microseconds": Double(statistics.stallMicroseconds),
            "memtable_bytes": Double(statistics.memtableBytes), "frozen_memtables": Double(statistics.frozenMemtables),
            "snapshots": Double(statistics.snapshots), "last_sequence": Double(statistics.lastSequence),
            "transaction_commits": Double(statistics.transactionCommits), "transaction_conflicts": Double(statistics.transactionConflicts),
            "transaction_rollbacks": Double(statistics.transactionRollbacks), "transaction_retries": Double(statistics.transactionRetries),
            "lock_waits": Double(statistics.lockWaits), "deadlocks": Double(statistics.deadlocks), "lock_timeouts": Double(statistics.lockTimeouts),
            "read_only": statistics.isReadOnly ? 1 : 0,
        ]
    }
}
