import Encoding
import Engine

// The schema-free form of `Query`: what `strata-server`'s `Query` RPC runs. Layout:
// Docs/formats/tables.md.

/// A query over a table read without its Swift schema: the primary key or one index, bounds
/// given as encoded key bytes (`OrderedKey.orderedKeyBytes`, `KeyTuple` for several fields),
/// filters on the records' fields, a limit, a direction and a resume position. Records decode
/// as `RecordValue`.
///
/// Rows stream at one snapshot; one row is in memory at a time.
public struct UntypedTableQuery: Sendable {
    /// The table's name.
    public var table: String
    /// The prefix tables live under (`TableSchema.defaultKeyPrefix` unless the schema set another).
    public var keyPrefix: [UInt8] = TableSchema<UInt64, [UInt8]>.defaultKeyPrefix
    /// The index to read (`nil`: the primary key). It must be `ready`.
    public var index: String?
    /// The lowest key read (inclusive), encoded; `nil`: unbounded.
    public var from: [UInt8]?
    /// The end of the keys read (exclusive), encoded; `nil`: unbounded.
    public var to: [UInt8]?
    /// Only keys whose encoding starts with these bytes (an encoded leading part of a tuple).
    public var prefix: [UInt8]?
    /// Conditions every row's record must meet.
    public var filters: [RecordFilter] = []
    /// At most this many rows.
    public var limit: Int?
    /// Last key first.
    public var reversed = false
    /// Continue after the row with this `UntypedRow.position` (a page token).
    public var after: [UInt8]?

    /// A query over `table`'s primary key, with nothing else set.
    public init(table: String) {
        self.table = table
    }

    /// Runs the query on the table whose records are in `keyspace` (its index entries are
    /// where the table recorded them) at `snapshot` (a new one when `nil`), calling `body` with
    /// each row until it returns `false` or the rows end.
    ///
    /// - Throws: `.invalidArgument` for an index that does not exist or is not ready, bounds
    ///   out of order, or a position from another query's range; `.corruption` for a damaged
    ///   entry or record, or an entry whose record is missing; as `Keyspace.cursor`.
    public func run(in keyspace: Keyspace, at snapshot: Snapshot? = nil, _ body: (UntypedRow) throws -> Bool) throws {
        let layout = TableLayout(keyPrefix: keyPrefix, tableName: table)
        let snapshot = try snapshot ?? keyspace.database.snapshot()
        var unique = false
        let base: [UInt8]
        if let index {
            guard let state = try keyspace.get(layout.indexStateKey(index), at: snapshot) else {
                throw StrataError.invalidArgument("table \(table) has no index \"\(index)\"")
            }
            guard try IndexState(encoded: state, index: index) == .ready else {
                throw StrataError.invalidArgument("index \(index) of table \(table) is not ready")
            }
            unique = IndexState.isUnique(encoded: state)
            base = layout.indexPrefix(index)
        } else {
            base = layout.recordPrefix
        }
        var lower = base + (from ?? [])
        var upper = to.map { base + $0 } ?? KeyRange.prefixEnd(base)
        if let prefix {
            let narrowed = KeyRange.narrowed(from: lower, to: upper, toPrefix: base + prefix)
            (lower, upper) = (narrowed.from ?? lower, narrowed.to)
        }
        if let after {
            guard after.starts(with: base) else { throw StrataError.invalidArgument("the position belongs to another query") }
            (lower, upper) = TableLayout.range((lower, upper), resumingAfter: after, reversed: reversed)
        }
        if let high = upper, BytewiseComparator.compare(lower, high) >= 0 { return }
        // Entries are in the table's index keyspace (recorded with the table), records in `keyspace`.
        let source = index == nil ? keyspace : try IndexKeyspace.entries(of: layout, recordsIn: keyspace, at: snapshot)
        let cursor = try source.cursor(ReadOptions(snapshot: snapshot, from: lower, to: upper))
        if reversed { try cursor.seekToLast() } else { try cursor.seekToFirst() }
        var emitted = 0
        while cursor.isValid, emitted < (limit ?? .max) {
            let key = cursor.key
            let recordBytes: [UInt8]
            let primaryKey: [UInt8]
            if index == nil {
                primaryKey = Array(key[base.count...])
                recordBytes = cursor.value
            } else {
                primaryKey = try TableLayout.primaryKey(ofEntry: key, value: cursor.value, prefixCount: base.count, unique: unique)
                guard let stored = try keyspace.get(layout.recordKey(primaryKey), at: snapshot) else {
                    throw StrataError.corruption(
                        file: "table \(table)", offset: 0,
                        reason: "index \(index!) entry \(InternalKey.printable(key)) names record \(InternalKey.printable(primaryKey)), which does not exist")
                }
                recordBytes = stored
            }
            let record = try RecordValue(storedRecord: recordBytes)
            if filters.allSatisfy({ $0.matches(record) }) {
                emitted += 1
                guard try body(UntypedRow(primaryKey: primaryKey, record: record, position: key)) else { return }
            }
            if reversed { try cursor.prev() } else { try cursor.next() }
        }
    }
}

/// One row of an `UntypedTableQuery`.
public struct UntypedRow: Sendable, Equatable {
    /// The record's primary key, encoded (decode it with the key type's `OrderedKey.decode`).
    public var primaryKey: [UInt8]
    /// The record.
    public var record: RecordValue
    /// Where the row is in the query's range: pass it as `after` to continue behind it.
    public var position: [UInt8]
}

/// A condition on one field of a record (`RecordValue.compare` decides order; a field that is
/// absent, or of a kind the value does not compare with, does not match — except `notEqual`).
public struct RecordFilter: Sendable, Equatable {
    /// How the field is compared with the value.
    public enum Comparison: Sendable, Equatable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
        /// A string field starting with the string value (a byte string with the bytes).
        case hasPrefix
        /// A string field ending with the string value (a byte string with the bytes).
        case hasSuffix
    }

    /// The top-level field's name.
    public var field: String
    /// The comparison.
    public var comparison: Comparison
    /// The value compared with.
    public var value: RecordValue

    /// Creates a filter.
    public init(field: String, _ comparison: Comparison, _ value: RecordValue) {
        self.field = field
        self.comparison = comparison
        self.value = value
    }

    /// Whether `record` meets the condition.
    public func matches(_ record: RecordValue) -> Bool {
        let actual = record[field: field]
        switch comparison {
        case .hasPrefix, .hasSuffix:
            let suffix = comparison == .hasSuffix
            switch (actual, value) {
            case let (.string(string)?, .string(part)): return suffix ? Array(string.utf8).ends(with: Array(part.utf8)) : Array(string.utf8).starts(with: Array(part.utf8))
            case let (.bytes(bytes)?, .bytes(part)): return suffix ? bytes.ends(with: part) : bytes.starts(with: part)
            default: return false
            }
        case .notEqual:
            guard let actual, let order = RecordValue.compare(actual, value) else { return true }
            return order != 0
        default:
            guard let actual, let order = RecordValue.compare(actual, value) else { return false }
            switch comparison {
            case .equal: return order == 0
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            default: return false
            }
        }
    }
}

extension Array where Element: Equatable {
    /// Whether the array ends with `suffix`.
    fileprivate func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
