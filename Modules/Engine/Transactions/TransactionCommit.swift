import Encoding
import WAL

/// A transaction's commit request as it travels through the commit queue: the batch, what to
/// check, and — set by the leader — why it was refused, if it was. (A refused transaction does
/// not fail the rest of its group.)
final class TransactionCommit: Sendable {
    let batch: WriteBatch
    let checks: TransactionChecks
    let sync: Bool
    private let outcome = Locked<String?>(nil)

    init(batch: WriteBatch, checks: TransactionChecks, sync: Bool) {
        self.batch = batch
        self.checks = checks
        self.sync = sync
    }

    /// Records that the leader refused the commit (called before the group completes).
    func refuse(_ reason: String) {
        outcome.withLock { $0 = reason }
    }

    /// Why the commit was refused, or `nil` when it was written. Read after `submit` returns.
    var refusal: String? { outcome.withLock { $0 } }
}

/// The keys and ranges written by the members of a commit group accepted so far: a transaction
/// later in the group must be checked against them, since they are not in the memtable yet.
struct GroupWrites {
    private var keys: Set<TransactionKey> = []
    private var ranges: [TransactionRange] = []

    /// Adds every key and range `batch` writes, in every keyspace.
    mutating func add(_ batch: WriteBatch) {
        _ = try? batch.encoded.withUnsafeBytes { bytes in
            try WriteBatch.forEach(in: bytes) { keyspace, kind, key, value, _ in
                if kind == .rangeDelete {
                    ranges.append(TransactionRange(keyspace: keyspace, from: Array(key), to: Array(value)))
                } else {
                    keys.insert(TransactionKey(Array(key), keyspace: keyspace))
                }
            }
        }
    }

    /// The first of `checks` these writes touch, in words.
    func conflict(with checks: TransactionChecks) -> String? {
        for key in checks.keys where keys.contains(key) || ranges.contains(where: { $0.contains(key.bytes, keyspace: key.keyspace) }) {
            return "key \(key.printable) changed after the transaction's snapshot"
        }
        for range in checks.ranges {
            let touched = keys.contains { range.contains($0.bytes, keyspace: $0.keyspace) }
                || ranges.contains { range.overlaps(from: $0.from, to: $0.to!, keyspace: $0.keyspace) }
            if touched { return "a key in \(range.printable) changed after the transaction's snapshot" }
        }
        return nil
    }
}
