import Encoding
import WAL

/// A transaction's own writes, kept so that its reads see them (Pebble's indexed batch) and so
/// that a savepoint can undo the later ones.
///
/// The operations are kept in order; an index maps each key (of its keyspace) to its newest
/// point write, and the range deletes are kept with their position, so "what does this
/// transaction say about key k" is one dictionary lookup plus a pass over the (usually few)
/// range deletes.
struct TransactionWrites {
    /// One buffered write, in keyspace `keyspace` (0: the default keyspace).
    enum Operation {
        case put(key: [UInt8], value: [UInt8], keyspace: UInt32)
        case delete(key: [UInt8], keyspace: UInt32)
        case deleteRange(from: [UInt8], to: [UInt8], keyspace: UInt32)
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
    private var newest: [TransactionKey: (value: [UInt8]?, position: Int)] = [:]
    /// Range deletes with their positions, in order.
    private var ranges: [(range: TransactionRange, position: Int)] = []

    /// Whether nothing is buffered.
    var isEmpty: Bool { operations.isEmpty }

    /// Adds a write at the end.
    mutating func append(_ operation: Operation) {
        let position = operations.count
        operations.append(operation)
        func prefixed(_ bytes: [UInt8]) -> Int { Varint.encodedLength(UInt64(bytes.count)) + bytes.count }
        // The kind byte, and a named keyspace's id after it.
        func kind(_ keyspace: UInt32) -> Int { 1 + (keyspace == 0 ? 0 : Varint.encodedLength(UInt64(keyspace))) }
        switch operation {
        case .put(let key, let value, let keyspace):
            newest[TransactionKey(key, keyspace: keyspace)] = (value, position)
            batchBytes += kind(keyspace) + prefixed(key) + prefixed(value)
        case .delete(let key, let keyspace):
            newest[TransactionKey(key, keyspace: keyspace)] = (nil, position)
            batchBytes += kind(keyspace) + prefixed(key)
        case .deleteRange(let from, let to, let keyspace):
            ranges.append((TransactionRange(keyspace: keyspace, from: from, to: to), position))
            batchBytes += kind(keyspace) + prefixed(from) + prefixed(to)
        }
    }

    /// What the buffered writes say about `key` of `keyspace`.
    func answer(for key: [UInt8], keyspace: UInt32) -> Answer {
        let point = newest[TransactionKey(key, keyspace: keyspace)]
        let after = point?.position ?? -1
        // A range delete newer than the key's newest point write removes it.
        for entry in ranges.reversed() where entry.position > after {
            if entry.range.contains(key, keyspace: keyspace) { return .deleted }
        }
        guard let point else { return .untouched }
        return point.value.map(Answer.value) ?? .deleted
    }

    /// Whether a buffered range delete covers `key` of `keyspace` (a database value there is
    /// hidden).
    func rangeDeleteCovers(_ key: [UInt8], keyspace: UInt32) -> Bool {
        ranges.contains { $0.range.contains(key, keyspace: keyspace) }
    }

    /// The keys of `keyspace` with a buffered point write in `[from, to)` (unbounded when
    /// `nil`), sorted.
    func pointKeys(from: [UInt8]?, to: [UInt8]?, keyspace: UInt32) -> [[UInt8]] {
        newest.keys.filter { $0.keyspace == keyspace }.map(\.bytes).filter { key in
            (from.map { BytewiseComparator.compare($0, key) <= 0 } ?? true) && (to.map { BytewiseComparator.compare(key, $0) < 0 } ?? true)
        }.sorted { BytewiseComparator.compare($0, $1) < 0 }
    }

    /// Every key written by a point write.
    var writtenKeys: Dictionary<TransactionKey, (value: [UInt8]?, position: Int)>.Keys { newest.keys }

    /// Every range deleted.
    var deletedRanges: [TransactionRange] { ranges.map(\.range) }

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
            case .put(let key, let value, let keyspace): batch.put(key, value, keyspaceID: keyspace)
            case .delete(let key, let keyspace): batch.delete(key, keyspaceID: keyspace)
            case .deleteRange(let from, let to, let keyspace): batch.deleteRange(from: from, to: to, keyspaceID: keyspace)
            }
        }
        return batch
    }
}
