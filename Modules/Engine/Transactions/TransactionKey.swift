import Encoding

/// A key of one keyspace, as a transaction tracks it (read, written, locked, checked): the same
/// bytes in two keyspaces are two keys.
struct TransactionKey: Hashable, Sendable {
    /// The keyspace (0: the default keyspace).
    let keyspace: UInt32
    /// The key, hashed once.
    let hashed: HashedBytes

    init(_ key: [UInt8], keyspace: UInt32) {
        self.keyspace = keyspace
        self.hashed = HashedBytes(key)
    }

    /// The key's bytes.
    var bytes: [UInt8] { hashed.bytes }

    /// What the lock table locks for it: the key itself in the default keyspace, otherwise
    /// `FF FF 'k' 's'`, the keyspace id as varint, then the key. A default-keyspace key that
    /// happens to have that form shares the lock — more waiting, never a missed conflict.
    var lockName: [UInt8] {
        guard keyspace != 0 else { return hashed.bytes }
        var name = ByteWriter(capacity: 9 + hashed.bytes.count)
        name.appendBytes([0xFF, 0xFF, 0x6B, 0x73])
        name.appendVarint32(keyspace)
        name.appendBytes(hashed.bytes)
        return name.bytes
    }

    /// The key for messages: printable bytes, with the keyspace when it is a named one.
    var printable: String {
        keyspace == 0 ? InternalKey.printable(hashed.bytes) : "\(InternalKey.printable(hashed.bytes)) (keyspace \(keyspace))"
    }
}

/// A key range `[from, to)` (`to == nil`: unbounded) of one keyspace.
struct TransactionRange: Sendable {
    var keyspace: UInt32
    var from: [UInt8]
    var to: [UInt8]?

    /// Whether `key` of `keyspace` is in the range.
    func contains(_ key: [UInt8], keyspace: UInt32) -> Bool {
        keyspace == self.keyspace && BytewiseComparator.compare(from, key) <= 0 && (to.map { BytewiseComparator.compare(key, $0) < 0 } ?? true)
    }

    /// Whether the range overlaps `[from, to)` of `keyspace`.
    func overlaps(from otherFrom: [UInt8], to otherTo: [UInt8], keyspace: UInt32) -> Bool {
        keyspace == self.keyspace && BytewiseComparator.compare(otherTo, from) > 0 && (to.map { BytewiseComparator.compare(otherFrom, $0) < 0 } ?? true)
    }

    /// The range for messages.
    var printable: String {
        let end = to.map { InternalKey.printable($0) } ?? "the end"
        return "[\(InternalKey.printable(from)), \(end))" + (keyspace == 0 ? "" : " (keyspace \(keyspace))")
    }
}
