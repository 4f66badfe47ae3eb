import Encoding

// Where a table's records, index entries and bookkeeping live in the database's key space;
// Docs/formats/tables.md is the byte-by-byte description.

/// The keys of one table. Everything of a table shares the prefix
/// `keyPrefix ++ enc(tableName)` (`enc` is the ordered-key encoding, self-delimiting, so no
/// table's keys are a prefix of another's); after it one byte says what follows:
///
/// - `00` `enc(name)`: bookkeeping (an index's state, the keyspace of the index entries);
/// - `01` `enc(primary key)`: a record, its value the codec's bytes;
/// - `02` `enc(index name)` `enc(index value)`: a unique index's entry, its value `enc(primary key)`
///   (entries live in the table's index keyspace, under the same root);
/// - `02` `enc(index name)` `enc(index value)` `enc(primary key)`: any other index's entry,
///   its value the length of `enc(primary key)` as a varint, then the index's stored fields.
struct TableLayout: Sendable {
    static let metaTag: UInt8 = 0x00
    static let recordTag: UInt8 = 0x01
    static let indexTag: UInt8 = 0x02

    /// `keyPrefix ++ enc(tableName)`.
    let root: [UInt8]
    /// `root ++ 01`: the prefix of every record key.
    let recordPrefix: [UInt8]
    /// The entry prefix of each index named at creation (computed once: every write of a
    /// record builds its entries' keys from them).
    private let entryPrefixes: [String: [UInt8]]

    init(keyPrefix: [UInt8], tableName: String, indexNames: [String] = []) {
        var encoder = OrderedKeyEncoder()
        tableName.encode(to: &encoder)
        let root = keyPrefix + encoder.bytes
        self.root = root
        recordPrefix = root + [TableLayout.recordTag]
        entryPrefixes = Dictionary(indexNames.map { ($0, TableLayout.indexPrefix($0, root: root)) }, uniquingKeysWith: { first, _ in first })
    }

    /// The first key of everything the table stores and the end of that range.
    var tableRange: (from: [UInt8], to: [UInt8]?) { (root, KeyRange.prefixEnd(root)) }

    func recordKey(_ encodedKey: [UInt8]) -> [UInt8] { recordPrefix + encodedKey }

    /// The primary key's encoding in a record key (nil for a key that is not one of this table's records).
    func encodedPrimaryKey(ofRecordKey key: [UInt8]) -> ArraySlice<UInt8>? {
        guard key.count > recordPrefix.count, key.starts(with: recordPrefix) else { return nil }
        return key[recordPrefix.count...]
    }

    /// The prefix of every entry of index `name`.
    func indexPrefix(_ name: String) -> [UInt8] {
        entryPrefixes[name] ?? TableLayout.indexPrefix(name, root: root)
    }

    private static func indexPrefix(_ name: String, root: [UInt8]) -> [UInt8] {
        var encoder = OrderedKeyEncoder()
        name.encode(to: &encoder)
        return root + [TableLayout.indexTag] + encoder.bytes
    }

    /// A non-unique entry's value: the primary key's encoded length (so the entry key splits
    /// into value and primary key without knowing their types), then the stored fields.
    static func nonUniqueEntryValue(primaryKeyLength: Int, stored: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: 2 + stored.count)
        writer.appendVarint64(UInt64(primaryKeyLength))
        writer.bytes.append(contentsOf: stored)
        return writer.bytes
    }

    /// Splits a non-unique entry's value into the primary key's encoded length and the stored
    /// fields' range.
    ///
    /// - Throws: `StrataError.corruption` for a value without a valid length.
    static func splitNonUniqueEntryValue(_ value: [UInt8], keyLength: Int) throws -> (primaryKeyLength: Int, stored: Range<Int>) {
        try value.withUnsafeBytes { try splitNonUniqueEntryValue($0, keyLength: keyLength) }
    }

    /// `splitNonUniqueEntryValue(_:keyLength:)` on the value in place (a cursor's current one).
    static func splitNonUniqueEntryValue(_ value: UnsafeRawBufferPointer, keyLength: Int) throws -> (primaryKeyLength: Int, stored: Range<Int>) {
        // `Varint.decode64` directly (one byte, inline, for keys under 128 bytes): a scan splits
        // every entry it filters, and a `ByteReader` cost more than the read.
        guard let base = value.baseAddress, let (length, storedStart) = Varint.decode64(base, end: base + value.count) else {
            throw StrataError.corruption(file: "<index entry>", offset: 0, reason: "truncated or malformed the primary key length an entry's value starts with")
        }
        guard length > 0, length < UInt64(keyLength) else {
            throw StrataError.corruption(file: "<index entry>", offset: 0, reason: "a primary key length of \(length) in an entry key of \(keyLength) bytes")
        }
        return (Int(length), storedStart..<value.count)
    }

    /// The primary key's encoding an index entry names: a unique entry's value, or the suffix
    /// of a non-unique entry's key whose length the value starts with. `prefixCount` is the
    /// length of the index's entry prefix.
    ///
    /// - Throws: `StrataError.corruption` for a non-unique value without a valid length.
    static func primaryKey(ofEntry key: [UInt8], value: [UInt8], prefixCount: Int, unique: Bool) throws -> [UInt8] {
        try key.withUnsafeBytes { key in try value.withUnsafeBytes { try primaryKey(ofEntry: key, value: $0, prefixCount: prefixCount, unique: unique) } }
    }

    /// `primaryKey(ofEntry:value:prefixCount:unique:)` on an entry in place (a cursor's current one).
    static func primaryKey(ofEntry key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, prefixCount: Int, unique: Bool) throws -> [UInt8] {
        guard !unique else { return Array(value) }
        let length = try splitNonUniqueEntryValue(value, keyLength: key.count - prefixCount).primaryKeyLength
        return Array(UnsafeRawBufferPointer(rebasing: key[(key.count - length)...]))
    }

    /// `range` narrowed to the keys after `position` in a scan's direction (a page token's
    /// resume: forward, from just past it; reversed, up to it).
    static func range(_ range: (from: [UInt8], to: [UInt8]?), resumingAfter position: [UInt8], reversed: Bool) -> (from: [UInt8], to: [UInt8]?) {
        var range = range
        if reversed {
            if range.to.map({ position.lexicographicallyPrecedes($0) }) ?? true { range.to = position }
        } else if !(position + [0]).lexicographicallyPrecedes(range.from) {
            range.from = position + [0]
        }
        return range
    }

    /// Where index `name` records its state.
    func indexStateKey(_ name: String) -> [UInt8] {
        var encoder = OrderedKeyEncoder()
        ("index:" + name).encode(to: &encoder)
        return root + [TableLayout.metaTag] + encoder.bytes
    }

    /// The prefix of every index state's key (`root 00` then the string "index:" encoded
    /// without its terminator).
    var indexStatePrefix: [UInt8] {
        root + [TableLayout.metaTag] + Array("index:".utf8)
    }

    /// Where the table records the name of the keyspace its index entries are in (UTF-8).
    var indexKeyspaceKey: [UInt8] {
        var encoder = OrderedKeyEncoder()
        "entries-keyspace".encode(to: &encoder)
        return root + [TableLayout.metaTag] + encoder.bytes
    }
}
