import Encoding
import WAL

/// A transaction's own writes, kept so that its reads see them (Pebble's indexed batch) and so
/// that a savepoint can undo the later ones.
///
/// The operations are kept in order; an index maps each key to its newest point write, and the
/// range deletes are kept with their position, so "what does this transaction say about key k"
/// is one dictionary lookup plus a pass over the (usually few) range deletes.
struct TransactionWrites {
    /// One buffered write.
    enum Operation {
        case put(key: [UInt8], value: [UInt8])
        case delete(key: [UInt8])
        case deleteRange(from: [UInt8], to: [UInt8])
    }

    /// What the buffered writes say about one key.
    enum Answer: Equatable {
        /// The newest buffered write is a put of this value.
        case value([UInt8])
        /// A buffered delete or range delete removed it.
        case deleted
        /// No buffered write touches it: read the database.
        case untouched
    }

    private(set) var operations: [Operation] = []
    /// The size the writes take as one encoded `WriteBatch` (one WAL record).
    private(set) var batchBytes = WriteBatch.headerSize
    /// Each key's newest point write: its value (`nil`: a delete) and its position.
    private var newest: [HashedBytes: (value: [UInt8]?, position: Int)] = [:]
    /// Range deletes with their positions, in order.
    private var ranges: [(from: [UInt8], to: [UInt8], position: Int)] = []

    /// Whether nothing is buffered.
    var isEmpty: Bool { operations.isEmpty }

    /// Adds a write at the end.
    mutating func append(_ operation: Operation) {
        let position = operations.count
        operations.append(operation)
        func prefixed(_ bytes: [UInt8]) -> Int { Varint.encodedLength(UInt64(bytes.count)) + bytes.count }
        switch operation {
        case .put(let key, let value):
            newest[HashedBytes(key)] = (value, position)
            batchBytes += 1 + prefixed(key) + prefixed(value)
        case .delete(let key):
            newest[HashedBytes(key)] = (nil, position)
            batchBytes += 1 + prefixed(key)
        case .deleteRange(let from, let to):
            ranges.append((from, to, position))
            batchBytes += 1 + prefixed(from) + prefixed(to)
        }
    }

    /// What the buffered writes say about `key`.
    func answer(for key: [UInt8]) -> Answer {
        let point = newest[HashedBytes(key)]
        let after = point?.position ?? -1
        // A range delete newer than the key's newest point write removes it.
        for range in ranges.reversed() where range.position > after {
            if BytewiseComparator.compare(range.from, key) <= 0 && BytewiseComparator.compare(key, range.to) < 0 { return .deleted }
        }
        guard let point else { return .untouched }
        return point.value.map(Answer.value) ?? .deleted
    }

    /// Whether a buffered range delete covers `key` (a database value there is hidden).
    func rangeDeleteCovers(_ key: [UInt8]) -> Bool {
        ranges.contains { BytewiseComparator.compare($0.from, key) <= 0 && BytewiseComparator.compare(key, $0.to) < 0 }
    }

    /// The keys with a buffered point write in `[from, to)` (unbounded when `nil`), sorted.
    func pointKeys(from: [UInt8]?, to: [UInt8]?) -> [[UInt8]] {
        newest.keys.map(\.bytes).filter { key in
            (from.map { BytewiseComparator.compare($0, key) <= 0 } ?? true) && (to.map { BytewiseComparator.compare(key, $0) < 0 } ?? true)
        }.sorted { BytewiseComparator.compare($0, $1) < 0 }
    }

    /// Every key written by a point write.
    var writtenKeys: Dictionary<HashedBytes, (value: [UInt8]?, position: Int)>.Keys { newest.keys }

    /// Every range deleted.
    var deletedRanges: [(from: [UInt8], to: [UInt8])] { ranges.map { ($0.from, $0.to) } }

    /// Forgets every write after the first `count` (a savepoint's rollback).
    mutating func truncate(to count: Int) {
        guard count < operations.count else { return }
        let kept = operations.prefix(count)
        self = TransactionWrites()
        for operation in kept { append(operation) }
    }

    /// The writes as one batch, in order: what the commit logs.
    var batch: WriteBatch {
        var batch = WriteBatch()
        for operation in operations {
            switch operation {
            case .put(let key, let value): batch.put(key, value)
            case .delete(let key): batch.delete(key)
            case .deleteRange(let from, let to): batch.deleteRange(from: from, to: to)
            }
        }
        return batch
    }
}
