import Encoding
import Engine

/// A streaming read of a table: over its primary keys or one of its indexes, between half-open
/// bounds, with a filter, a limit, in either direction, resumable from a page token. Built with
/// `Table.query()` / `Table.query(_:)` and refined by methods that return a new query; nothing
/// is read until `rows()`, `collect()`, `page(size:)` or `forEachKey(_:)`.
///
/// ```swift
/// let adults = try users.query(byAge).from(18).filter { $0.country == "fr" }.limit(100).collect()
/// print(users.query(byAge).from(18).explain())
/// ```
///
/// Results are read at one snapshot (taken when reading starts, or the one given with `at(_:)`):
/// index entries and records always agree. Memory is bounded by one row at a time, whatever
/// the range.
public struct Query<Key: OrderedKey, Value: Codable & Sendable, IndexKey: OrderedKey>: Sendable {
    let table: Table<Key, Value>
    /// The index read, `nil` for the primary keys.
    let index: AnyTableIndex<Value>?
    /// Bounds on the encoded index value (or primary key): `[lower, upper)`; `nil` is open.
    var lower: [UInt8]?
    var upper: [UInt8]?
    var predicates: [@Sendable (Value) -> Bool] = []
    /// Filters on single stored fields, run on a record's bytes before it is decoded — or on
    /// the index entry's stored fields, when the index stores every field filtered on. Each
    /// test is prepared by the table's codec when the query runs.
    var fieldFilters: [(field: String, prepare: @Sendable (any RecordCodec) -> RecordFieldTest)] = []

    /// Whether the field filters run on index entries (before any record is read).
    var filtersOnEntries: Bool {
        guard let index, !index.unique, !fieldFilters.isEmpty else { return false }
        return fieldFilters.allSatisfy { index.storedFields.contains($0.field) }
    }
    var limitCount: Int?
    var isReversed = false
    var resumeAfter: [UInt8]?
    var snapshot: Snapshot?

    init(table: Table<Key, Value>, index: AnyTableIndex<Value>?) {
        self.table = table
        self.index = index
    }

    // MARK: - Refining

    /// Only rows whose value (index value or primary key) is at least `value`.
    public func from(_ value: IndexKey) -> Self { narrowed(lower: value.orderedKeyBytes, upper: nil) }

    /// Only rows whose value is below `value` (half-open, as every range in Strata).
    public func to(_ value: IndexKey) -> Self { narrowed(lower: nil, upper: value.orderedKeyBytes) }

    /// Only rows whose value is `value`.
    public func equals(_ value: IndexKey) -> Self { prefix(value) }

    /// Only rows whose value starts with `leading`'s encoding: for a `KeyTuple` index, pass the
    /// leading fields (`KeyTuple(country)` for an index on `KeyTuple(country, city)`).
    public func prefix(_ leading: some OrderedKey) -> Self {
        let bytes = leading.orderedKeyBytes
        return narrowed(lower: bytes, upper: KeyRange.prefixEnd(bytes) ?? [])
    }

    /// Only rows whose record satisfies `predicate` (several filters must all hold). Filters
    /// run on decoded records after the bounds are applied: bounds are what make a query cheap.
    public func filter(_ predicate: @escaping @Sendable (Value) -> Bool) -> Self {
        var copy = self
        copy.predicates.append(predicate)
        return copy
    }

    /// Only rows whose stored field `name` — its coding key, a top-level field of the record —
    /// decoded as `Field` satisfies `predicate`; a record without the field is left out.
    /// Checked on the stored bytes before the record is decoded (only that field's bytes are
    /// decoded with `BinaryRecordCodec`), so rows it rejects cost no decoding: prefer it to
    /// `filter(_:)` for selective conditions.
    ///
    /// ```swift
    /// users.query(byAge).equals(30).filter(field: "name", as: String.self) { $0.hasPrefix("A") }
    /// ```
    public func filter<Field: Decodable & SendableMetatype>(field name: String, as type: Field.Type, _ predicate: @escaping @Sendable (Field) -> Bool) -> Self {
        var copy = self
        copy.fieldFilters.append((name, { codec in codec.fieldTest(name, as: Field.self, satisfying: predicate) }))
        return copy
    }

    /// At most `count` rows.
    public func limit(_ count: Int) -> Self {
        precondition(count >= 0, "a limit must not be negative")
        var copy = self
        copy.limitCount = count
        return copy
    }

    /// Rows in descending order.
    public func reversed() -> Self {
        var copy = self
        copy.isReversed.toggle()
        return copy
    }

    /// Reads at `snapshot` instead of a snapshot taken when reading starts.
    public func at(_ snapshot: Snapshot) -> Self {
        var copy = self
        copy.snapshot = snapshot
        return copy
    }

    /// Continues after the last row of the page `token` came with.
    ///
    /// - Throws: `.invalidArgument` when the token belongs to a query with another source,
    ///   bounds or direction.
    public func after(_ token: QueryPageToken) throws -> Self {
        guard token.fingerprint == fingerprint else {
            throw StrataError.invalidArgument("the page token belongs to another query (source, bounds or direction differ)")
        }
        var copy = self
        copy.resumeAfter = token.position
        return copy
    }

    private func narrowed(lower newLower: [UInt8]?, upper newUpper: [UInt8]?) -> Self {
        var copy = self
        if let newLower, lower.map({ newLower.lexicographicallyPrecedes($0) == false }) ?? true { copy.lower = newLower }
        // An empty upper bound from prefixEnd means "no end" (a prefix of FF bytes).
        if let newUpper, !newUpper.isEmpty, upper.map({ newUpper.lexicographicallyPrecedes($0) }) ?? true { copy.upper = newUpper }
        return copy
    }

    // MARK: - Planning

    /// The key range of the database the query reads, before resuming: `[from, to)`.
    var storageRange: (from: [UInt8], to: [UInt8]) {
        let sourcePrefix = index.map { table.layout.indexPrefix($0.name) } ?? table.layout.recordPrefix
        // The source prefix never ends in FF (it ends with 00 00 or the record tag), so it has an end.
        let sourceEnd = KeyRange.prefixEnd(sourcePrefix) ?? sourcePrefix
        return (sourcePrefix + (lower ?? []), upper.map { sourcePrefix + $0 } ?? sourceEnd)
    }

    /// Identifies source, bounds and direction, so a page token is used with its own query.
    var fingerprint: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        func mix(_ bytes: [UInt8]) {
            for byte in bytes + [UInt8(truncatingIfNeeded: bytes.count), 0xA5] {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        let range = storageRange
        mix(range.from)
        mix(range.to)
        mix([isReversed ? 1 : 0])
        return hash
    }

    /// How the query will run: which index and bounds, whether records are read, filtered and
    /// limited. Reads nothing but the index's state.
    public func explain() -> QueryPlan {
        let range = storageRange
        let state = index.flatMap { table.indexState($0.name) }
        return QueryPlan(
            table: table.schema.name,
            index: index?.name, unique: index?.unique ?? true, indexState: state,
            keyspace: index == nil ? table.keyspace.name : table.indexKeyspace.name,
            from: range.from, to: range.to, lowerBound: lower, upperBound: upper,
            reverse: isReversed, filters: predicates.count + fieldFilters.count, filtersOnIndex: filtersOnEntries,
            limit: limitCount, resumes: resumeAfter != nil)
    }

    // MARK: - Running

    /// The rows, read as they are asked for.
    ///
    /// - Throws: `.invalidArgument` when the index is not `ready`; as `Database.cursor`.
    public func rows() throws -> QueryRows<Key, Value, IndexKey> {
        if let index { try table.requireReady(index.name) }
        var range: (from: [UInt8], to: [UInt8]?) = storageRange
        if let resumeAfter { range = TableLayout.range(range, resumingAfter: resumeAfter, reversed: isReversed) }
        let snapshot = try self.snapshot ?? table.database.snapshot()
        let source = index == nil ? table.keyspace : table.indexKeyspace
        let cursor = try source.cursor(ReadOptions(snapshot: snapshot, from: range.from, to: range.to))
        return QueryRows(query: self, cursor: cursor, snapshot: snapshot)
    }

    /// Every row, in order (at most `limit`). Materialises the result: prefer `rows()` or
    /// `page(size:)` for large ranges.
    @inlinable
    public func collect() throws -> [(key: Key, value: Value)] {
        var rows = try rows()
        var result: [(key: Key, value: Value)] = []
        while let row = try rows.next() { result.append(row) }
        return result
    }

    /// Up to `size` rows and, when more may follow, the token for `after(_:)`.
    public func page(size: Int) throws -> QueryPage<Key, Value> {
        precondition(size > 0, "a page size must be positive")
        var rows = try limit(min(size, limitCount ?? .max)).rows()
        rows.run.entries.tracksPosition = true
        var result: [(key: Key, value: Value)] = []
        while let row = try rows.next() { result.append(row) }
        let more = result.count == size && (limitCount.map { $0 > size } ?? true)
        let token = more ? rows.lastPosition.map { QueryPageToken(fingerprint: fingerprint, position: $0) } : nil
        return QueryPage(rows: result, next: token)
    }

    /// Calls `body` with each primary key in the range, in order, reading index entries only
    /// (no record is read: the index covers the query). Filters cannot apply; a query with one
    /// is refused.
    ///
    /// - Throws: `.invalidArgument` for a query with a filter or an index that is not ready.
    public func forEachKey(_ body: (Key) throws -> Void) throws {
        guard predicates.isEmpty && fieldFilters.isEmpty else { throw StrataError.invalidArgument("forEachKey reads index entries only; a filter needs the records (use rows())") }
        var rows = try rows()
        while let key = try rows.nextKey() { try body(key) }
    }
}

/// The rows of a running `Query`, one at a time. Holds a cursor and a snapshot until dropped.
///
/// Thread safety: use from one thread at a time.
public struct QueryRows<Key: OrderedKey, Value: Codable & Sendable, IndexKey: OrderedKey> {
    /// The running query (a reference: copying the rows copies no query state).
    @usableFromInline let run: QueryRun<Key, Value, IndexKey>

    init(query: Query<Key, Value, IndexKey>, cursor: Cursor, snapshot: Snapshot) {
        run = QueryRun(query: query, cursor: cursor, snapshot: snapshot)
    }

    /// The next row, or `nil` at the end (or at the limit).
    ///
    /// - Throws: `StrataError.corruption` when a record does not decode, or an index entry has
    ///   no record; as `Cursor`.
    @inlinable
    public mutating func next() throws -> (key: Key, value: Value)? { try run.next() }

    /// The next primary key, reading the index entry only (no filter applies).
    mutating func nextKey() throws -> Key? { try run.nextKey() }

    /// The storage key of the last row returned (what a page token resumes after).
    var lastPosition: [UInt8]? { run.lastPosition }
}

/// A query being read (`QueryRows` is its public face): the entries `QueryCursor` finds,
/// decoded into the table's types and checked against the predicates. Its row loop is
/// inlinable: specialised in the caller's module for the caller's types, a row needs no
/// generic metadata looked up at run time (a tenth of a query's time, unspecialised).
@usableFromInline
final class QueryRun<Key: OrderedKey, Value: Codable & Sendable, IndexKey: OrderedKey> {
    @usableFromInline let table: Table<Key, Value>
    @usableFromInline let predicates: [@Sendable (Value) -> Bool]
    @usableFromInline let entries: QueryCursor

    init(query: Query<Key, Value, IndexKey>, cursor: Cursor, snapshot: Snapshot) {
        let table = query.table
        let layout = table.layout
        self.table = table
        self.predicates = query.predicates
        let source: QueryCursor.Source = query.index.map { $0.unique ? .uniqueIndex : .index } ?? .records
        self.entries = QueryCursor(
            cursor: cursor, snapshot: snapshot, records: table.keyspace, recordPrefix: layout.recordPrefix, source: source,
            sourcePrefixCount: query.index.map { layout.indexPrefix($0.name).count } ?? layout.recordPrefix.count,
            reversed: query.isReversed, limit: query.limitCount, fieldFilters: query.fieldFilters.map { ($0.field, $0.prepare(table.schema.codec)) },
            filtersOnEntries: query.filtersOnEntries, tableName: table.schema.name, indexName: query.index?.name)
    }

    /// The storage key of the last row returned (what a page token resumes after).
    var lastPosition: [UInt8]? { entries.lastPosition }

    /// The next row, or `nil` at the end (or at the limit).
    ///
    /// - Throws: `StrataError.corruption` when a record does not decode, or an index entry has
    ///   no record; as `Cursor`.
    @inlinable
    func next() throws -> (key: Key, value: Value)? {
        while let (encodedKey, bytes) = try entries.nextEntry() {
            let value = try table.decodeValue(bytes, recordKey: entries.recordPrefix + encodedKey)
            guard predicates.isEmpty || predicates.allSatisfy({ $0(value) }) else { continue }
            entries.accept()
            return (try Key(orderedKeyBytes: encodedKey), value)
        }
        return nil
    }

    /// The next primary key, reading the index entry only (no filter applies).
    func nextKey() throws -> Key? {
        try entries.nextKey().map { try Key(orderedKeyBytes: $0) }
    }
}

/// One page of a query's rows and the token for the next page (`nil`: this was the last).
public struct QueryPage<Key: OrderedKey, Value: Codable & Sendable>: Sendable {
    /// The rows, in order.
    public let rows: [(key: Key, value: Value)]
    /// Pass to `Query.after(_:)` for the rows that follow; `nil` when none do.
    public let next: QueryPageToken?
}

/// Where a page of a query ended: opaque bytes a client can keep (for instance base64-encoded
/// in an API response) and hand back. Valid only for the query it came from (same source,
/// bounds and direction); filters and limits may change between pages.
public struct QueryPageToken: Sendable, Equatable {
    let fingerprint: UInt64
    let position: [UInt8]

    init(fingerprint: UInt64, position: [UInt8]) {
        self.fingerprint = fingerprint
        self.position = position
    }

    /// The token's bytes: a version byte (1), the query's 8-byte fingerprint, the position.
    public var bytes: [UInt8] {
        var out: [UInt8] = [1]
        withUnsafeBytes(of: fingerprint.bigEndian) { out.append(contentsOf: $0) }
        return out + position
    }

    /// A token from `bytes`.
    ///
    /// - Throws: `.invalidArgument` for bytes that are not a token.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 9, bytes[0] == 1 else {
            throw StrataError.invalidArgument("not a query page token (\(bytes.count) bytes, version \(bytes.first.map(String.init) ?? "none"))")
        }
        fingerprint = bytes[1..<9].reduce(0) { $0 << 8 | UInt64($1) }
        position = Array(bytes[9...])
    }
}

/// What `Query.explain()` reports.
public struct QueryPlan: Sendable, CustomStringConvertible {
    /// The table's name.
    public let table: String
    /// The index read, `nil` for the primary keys.
    public let index: String?
    /// Whether each index value has one row (unique index or primary key).
    public let unique: Bool
    /// The index's state (`nil` for the primary keys); a query runs only on a `ready` index.
    public let indexState: IndexState?
    /// The keyspace scanned: the table's index keyspace for an index, its keyspace otherwise.
    public let keyspace: String
    /// The first database key read (inclusive).
    public let from: [UInt8]
    /// The database key the read stops before (exclusive).
    public let to: [UInt8]
    /// The encoded lower bound on the index value or primary key, inclusive (`nil`: open).
    public let lowerBound: [UInt8]?
    /// The encoded upper bound, exclusive (`nil`: open).
    public let upperBound: [UInt8]?
    /// Descending order.
    public let reverse: Bool
    /// How many filters run on each row.
    public let filters: Int
    /// Whether the field filters run on the index's stored fields, before records are read.
    public let filtersOnIndex: Bool
    /// The row limit, if any.
    public let limit: Int?
    /// Whether it continues from a page token.
    public let resumes: Bool

    /// Whether each row needs a record read beyond the entry (an index source; `forEachKey` reads none).
    public var readsRecords: Bool { index != nil }

    /// The plan in a few lines: source and bounds, record reads, filters, limit.
    public var description: String {
        let source = index.map { "index \($0)\(unique ? " (unique)" : "")" + (indexState.map { ", \($0)" } ?? "") } ?? "primary key"
        let bounds = "[\(lowerBound.map { InternalKey.printable($0) } ?? "-∞"), \(upperBound.map { InternalKey.printable($0) } ?? "+∞"))"
        var lines = ["table \(table): scan \(source) \(bounds)\(reverse ? " descending" : "")"]
        lines.append("  keys [\(InternalKey.printable(from)), \(InternalKey.printable(to))) in keyspace \(keyspace)")
        if filtersOnIndex { lines.append("  field filters on the index's stored fields") }
        if readsRecords { lines.append(filtersOnIndex ? "  then a point read of each record they keep" : "  then a point read of each record") }
        if filters > 0 { lines.append("  filter: \(filters) predicate\(filters == 1 ? "" : "s") in all") }
        if let limit { lines.append("  limit \(limit)") }
        if resumes { lines.append("  resuming after a page token") }
        return lines.joined(separator: "\n")
    }
}

extension Table {
    /// Throws unless index `name` is `ready`.
    func requireReady(_ name: String) throws {
        let state = indexState(name)
        guard state == .ready else {
            throw StrataError.invalidArgument("index \(name) of table \(schema.name) is \(state.map { "\($0)" } ?? "not declared"); queries use ready indexes")
        }
    }

    /// A query over the primary keys (all records, in key order).
    public func query() -> Query<Key, Value, Key> { Query(table: self, index: nil) }

    /// A query over `index`'s entries (in index value order, then primary key order).
    public func query<IndexKey>(_ index: TableIndex<Value, IndexKey>) -> Query<Key, Value, IndexKey> {
        Query(table: self, index: index.erased)
    }

    /// The first record whose `index` value is `value` (the only one, for a unique index: then
    /// two point reads at one snapshot, no scan).
    ///
    /// - Throws: `.invalidArgument` when the index is not `ready`; `StrataError.corruption` for
    ///   an entry without its record.
    public func first<IndexKey>(_ index: TableIndex<Value, IndexKey>, equals value: IndexKey, at snapshot: Snapshot? = nil) throws -> (key: Key, value: Value)? {
        if index.unique {
            try requireReady(index.name)
            let snapshot = try snapshot ?? database.snapshot()
            let entryKey = layout.indexPrefix(index.name) + value.orderedKeyBytes
            guard let encodedKey = try indexKeyspace.get(entryKey, at: snapshot) else { return nil }
            let recordKey = layout.recordKey(encodedKey)
            guard let bytes = try keyspace.get(recordKey, at: snapshot) else {
                throw StrataError.corruption(file: "table \(schema.name)", offset: 0, reason: "index \(index.name) entry \(index.describe(value.orderedKeyBytes)) names record \(describeKey(encodedKey)), which is absent")
            }
            return (try Key(orderedKeyBytes: encodedKey), try decodeValue(bytes, recordKey: recordKey))
        }
        var query = query(index).equals(value).limit(1)
        if let snapshot { query = query.at(snapshot) }
        var rows = try query.rows()
        return try rows.next()
    }
}
