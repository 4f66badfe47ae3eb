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
    private var keys: Set<HashedBytes> = []
    private var ranges: [(from: [UInt8], to: [UInt8])] = []

    /// Adds every key and range `batch` writes in the default keyspace (transactions read and
    /// check only that one).
    mutating func add(_ batch: WriteBatch) {
        _ = try? batch.encoded.withUnsafeBytes { bytes in
            try WriteBatch.forEach(in: bytes) { keyspace, kind, key, value, _ in
                guard keyspace == 0 else { return }
                if kind == .rangeDelete {
                    ranges.append((Array(key), Array(value)))
                } else {
                    keys.insert(HashedBytes(Array(key)))
                }
            }
        }
    }

    /// The first of `checks` these writes touch, in words.
    func conflict(with checks: TransactionChecks) -> String? {
        func covered(_ key: [UInt8]) -> Bool {
            ranges.contains { BytewiseComparator.compare($0.from, key) <= 0 && BytewiseComparator.compare(key, $0.to) < 0 }
        }
        for key in checks.keys where keys.contains(HashedBytes(key)) || covered(key) {
            return "key \(InternalKey.printable(key)) changed after the transaction's snapshot"
        }
        for range in checks.ranges {
            let touched = keys.contains { written in
                let key = written.bytes
                return BytewiseComparator.compare(range.from, key) <= 0 && (range.to.map { BytewiseComparator.compare(key, $0) < 0 } ?? true)
            } || ranges.contains { written in
                BytewiseComparator.compare(written.to, range.from) > 0 && (range.to.map { BytewiseComparator.compare(written.from, $0) < 0 } ?? true)
            }
            if touched {
                let end = range.to.map { InternalKey.printable($0) } ?? "the end"
                return "a key in [\(InternalKey.printable(range.from)), \(end)) changed after the transaction's snapshot"
            }
        }
        return nil
    }
}
