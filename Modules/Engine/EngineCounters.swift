import Synchronization

/// The engine's running counters (relaxed atomics: totals, not synchronisation).
final class EngineCounters: Sendable {
    // Use as `counters.puts.add(1, ordering: .relaxed)`.
    let puts = Atomic<UInt64>(0)
    let deletes = Atomic<UInt64>(0)
    let rangeDeletes = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    let writeGroups = Atomic<UInt64>(0)
    let gets = Atomic<UInt64>(0)
    let getHits = Atomic<UInt64>(0)
    let userBytesWritten = Atomic<UInt64>(0)
    let walBytesWritten = Atomic<UInt64>(0)
    let walSyncs = Atomic<UInt64>(0)
    let flushes = Atomic<UInt64>(0)
    let flushBytesWritten = Atomic<UInt64>(0)
    let stallMicros = Atomic<UInt64>(0)
    let memtableSwitches = Atomic<UInt64>(0)
    let ageFlushes = Atomic<UInt64>(0)
    let tablesWarmedUp = Atomic<UInt64>(0)
    let transactionCommits = Atomic<UInt64>(0)
    let transactionConflicts = Atomic<UInt64>(0)
    let transactionRollbacks = Atomic<UInt64>(0)
    let transactionRetries = Atomic<UInt64>(0)
    let lockWaits = Atomic<UInt64>(0)
    let deadlocks = Atomic<UInt64>(0)
    let lockTimeouts = Atomic<UInt64>(0)

}
