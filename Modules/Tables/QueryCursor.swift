import Encoding
import Engine

/// The per-entry work of a running query, in a type that is not generic: the cursor steps, the
/// field filters on entries or records, the record reads and the limit. (In generic code each
/// step instantiated type metadata at run time — about a fifth of a scan's time.) `QueryRun`
/// decodes what this returns into the table's types and applies the predicates on them.
///
/// Thread safety: use from one thread at a time.
@usableFromInline
final class QueryCursor {
    /// How the source's entries name their records.
    enum Source {
        /// Records themselves (a primary-key query): the entry is the record.
        case records
        /// A unique index: the entry's value is the primary key.
        case uniqueIndex
        /// Any other index: the primary key ends the entry key; the value starts with its length.
        case index
    }

    /// A field filter: the field it reads and its test, prepared by the table's codec.
    typealias FieldFilter = (field: String, test: RecordFieldTest)

    let cursor: Cursor
    let snapshot: Snapshot
    /// Where the records are, and their key prefix.
    let records: Keyspace
    @usableFromInline let recordPrefix: [UInt8]
    let source: Source
    /// The length of the source's key prefix.
    let sourcePrefixCount: Int
    let reversed: Bool
    let limit: Int?
    let fieldFilters: [FieldFilter]
    /// Whether the field filters run on entries' stored fields (before records are read).
    let filtersOnEntries: Bool
    /// For messages.
    let tableName: String
    let indexName: String?

    private var started = false
    private var produced = 0
    /// Whether `accept()` records `lastPosition` (a page needs it; other reads skip the copy).
    var tracksPosition = false
    /// The storage key of the last row accepted (what a page token resumes after), when
    /// `tracksPosition`.
    private(set) var lastPosition: [UInt8]?

    init(
        cursor: Cursor, snapshot: Snapshot, records: Keyspace, recordPrefix: [UInt8], source: Source, sourcePrefixCount: Int,
        reversed: Bool, limit: Int?, fieldFilters: [FieldFilter], filtersOnEntries: Bool,
        tableName: String, indexName: String?
    ) {
        self.cursor = cursor
        self.snapshot = snapshot
        self.records = records
        self.recordPrefix = recordPrefix
        self.source = source
        self.sourcePrefixCount = sourcePrefixCount
        self.reversed = reversed
        self.limit = limit
        self.fieldFilters = fieldFilters
        self.filtersOnEntries = filtersOnEntries
        self.tableName = tableName
        self.indexName = indexName
    }

    /// The next entry that passes the field filters: its encoded primary key and its record's
    /// bytes; `nil` at the end or the limit. Call `accept()` when the caller keeps the row.
    ///
    /// - Throws: `StrataError.corruption` for an entry without its record or a field filter
    ///   that cannot read the bytes; as `Cursor`.
    @usableFromInline
    func nextEntry() throws -> (encodedKey: [UInt8], record: [UInt8])? {
        while try advance() {
            // Entries the filters reject cost the cursor step and the filter, nothing more:
            // the filters read their stored fields in place.
            if filtersOnEntries {
                let kept = try cursor.withCurrent { _, value -> Bool in
                    let stored = try TableLayout.splitNonUniqueEntryValue(value, keyLength: Int.max).stored
                    return try passesFieldFilters(UnsafeRawBufferPointer(rebasing: value[stored]))
                }
                if !kept { continue }
            }
            let encodedKey = try currentPrimaryKey()
            let record: [UInt8]
            if case .records = source {
                record = cursor.value
            } else {
                guard let bytes = try records.get(recordPrefix + encodedKey, at: snapshot) else {
                    throw StrataError.corruption(file: "table \(tableName)", offset: 0, reason: "index \(indexName ?? "?") entry \(InternalKey.printable(cursor.key)) has no record")
                }
                record = bytes
            }
            if !filtersOnEntries, !fieldFilters.isEmpty, !(try record.withUnsafeBytes { try passesFieldFilters($0) }) { continue }
            return (encodedKey, record)
        }
        return nil
    }

    /// The next entry's encoded primary key, reading the entry only (no filter applies), and
    /// accepts it; `nil` at the end or the limit.
    func nextKey() throws -> [UInt8]? {
        guard try advance() else { return nil }
        let key = try currentPrimaryKey()
        accept()
        return key
    }

    /// Counts the current entry as a row (towards the limit, and as the page position).
    @usableFromInline
    func accept() {
        produced += 1
        if tracksPosition { lastPosition = cursor.key }
    }

    /// Whether `bytes` (a record, or an entry's stored fields) pass every field filter.
    private func passesFieldFilters(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
        do {
            // Through the buffer: iterating the array copied each filter (its name and its
            // closure: two retains and releases per filter and entry).
            return try fieldFilters.withUnsafeBufferPointer { filters in
                for index in filters.indices where !(try filters[index].test(bytes)) { return false }
                return true
            }
        } catch let error as StrataError { throw error } catch {
            let what = filtersOnEntries ? "index \(indexName ?? "?") entry \(InternalKey.printable(cursor.key))" : "the record at \(InternalKey.printable(cursor.key))"
            throw StrataError.corruption(file: "table \(tableName)", offset: 0, reason: "a field filter could not read \(what): \(error)")
        }
    }

    /// Moves to the next entry; `false` at the end or the limit.
    private func advance() throws -> Bool {
        if let limit, produced >= limit { return false }
        if !started {
            started = true
            if reversed { try cursor.seekToLast() } else { try cursor.seekToFirst() }
        } else if reversed {
            try cursor.prev()
        } else {
            try cursor.next()
        }
        return cursor.isValid
    }

    /// The encoded primary key of the current record or entry, read in place (one copy).
    private func currentPrimaryKey() throws -> [UInt8] {
        try cursor.withCurrent { storageKey, value in
            // The cursor's bounds keep it within the source's prefix.
            guard storageKey.count > sourcePrefixCount else {
                throw StrataError.corruption(file: "table \(tableName)", offset: 0, reason: "\(InternalKey.printable(storageKey)) is too short for a record or an entry")
            }
            switch source {
            case .records: return Array(UnsafeRawBufferPointer(rebasing: storageKey[sourcePrefixCount...]))
            // An entry key is the index prefix, the index value, and (not unique) the primary
            // key, whose length the entry's value starts with; a unique entry's value is the
            // primary key.
            case .uniqueIndex, .index:
                return try TableLayout.primaryKey(ofEntry: storageKey, value: value, prefixCount: sourcePrefixCount, unique: source == .uniqueIndex)
            }
        }
    }
}
