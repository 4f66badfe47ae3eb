import Encoding

/// A range of a transaction's view — the database at its snapshot merged with its own writes —
/// read in key order or reversed: `Transaction.scan(from:to:in:reverse:)`.
///
/// ```swift
/// var entries = try txn.scan(prefix: "acct:")
/// while let (key, value) = try entries.next() { … }
/// ```
///
/// Under `.serializable` isolation, the part of the range read so far is what the commit checks:
/// a scan that stops early does not make the transaction conflict with writes beyond where it
/// stopped.
///
/// Thread safety: use from one thread at a time.
public struct TransactionScan {
    let transaction: Transaction
    let cursor: Cursor
    let writes: TransactionWrites
    /// The keyspace scanned.
    let keyspace: UInt32
    /// The transaction's point-written keys in the range, sorted (walked backwards when reversed).
    let ownKeys: [[UInt8]]
    let from: [UInt8]?
    let to: [UInt8]?
    let reverse: Bool
    let trackedRange: Int?
    private var ownIndex: Int
    private var started = false
    private var finished = false

    init(
        transaction: Transaction, cursor: Cursor, writes: TransactionWrites, keyspace: UInt32, ownKeys: [[UInt8]],
        from: [UInt8]?, to: [UInt8]?, reverse: Bool, trackedRange: Int?
    ) {
        self.transaction = transaction
        self.cursor = cursor
        self.writes = writes
        self.keyspace = keyspace
        self.ownKeys = ownKeys
        self.from = from
        self.to = to
        self.reverse = reverse
        self.trackedRange = trackedRange
        self.ownIndex = reverse ? ownKeys.count - 1 : 0
    }

    /// The next entry, or `nil` at the end.
    ///
    /// - Throws: `.invalidArgument` once the transaction has ended; as `Cursor`.
    public mutating func next() throws -> (key: [UInt8], value: [UInt8])? {
        try transaction.checkActive()
        guard !finished else { return nil }
        if !started {
            started = true
            if reverse { try cursor.seekToLast() } else { try cursor.seekToFirst() }
        }
        while true {
            let databaseKey: [UInt8]? = cursor.isValid ? cursor.key : nil
            let ownKey: [UInt8]? = ownKeys.indices.contains(ownIndex) ? ownKeys[ownIndex] : nil
            guard databaseKey != nil || ownKey != nil else {
                finished = true
                recordRead(upTo: nil)
                return nil
            }
            // Take the key that comes first in the scan's direction; the transaction's own
            // write wins a tie.
            let takeOwn: Bool
            if let databaseKey, let ownKey {
                let order = BytewiseComparator.compare(ownKey, databaseKey)
                takeOwn = reverse ? order >= 0 : order <= 0
                if order == 0 { try advanceCursor() }
            } else {
                takeOwn = ownKey != nil
            }
            if takeOwn, let ownKey {
                ownIndex += reverse ? -1 : 1
                recordRead(upTo: ownKey)
                if case .value(let value) = writes.answer(for: ownKey, keyspace: keyspace) { return (ownKey, value) }
                continue  // deleted by the transaction
            }
            let key = databaseKey!
            let value = cursor.value
            try advanceCursor()
            recordRead(upTo: key)
            if writes.rangeDeleteCovers(key, keyspace: keyspace) { continue }
            return (key, value)
        }
    }

    private mutating func advanceCursor() throws {
        if reverse { try cursor.prev() } else { try cursor.next() }
    }

    /// Records, for a serializable transaction, that the range is read up to `key` (inclusive;
    /// `nil`: to the end of the scan's range).
    private func recordRead(upTo key: [UInt8]?) {
        guard let trackedRange else { return }
        if reverse {
            // Read from the range's end down to `key`: [key, to).
            transaction.recordScanned(trackedRange, from: key ?? from, to: to)
        } else {
            // Read from the range's start up to `key`: [from, key + 0x00).
            transaction.recordScanned(trackedRange, from: from, to: key.map { $0 + [0] } ?? to)
        }
    }
}
