import Encoding
import Engine

/// What `TableStructureCheck.run` found: each table under the prefix with its records and
/// indexes, and the problems.
public struct TableStructureReport: Sendable, CustomStringConvertible {
    /// One index as its stored state and entries show it.
    public struct Index: Sendable {
        /// The index's name.
        public let name: String
        /// Whether it is unique (from its stored state).
        public var unique = false
        /// Its stored state (`nil` when entries exist without one: a problem).
        public var state: IndexState?
        /// Its entries.
        public var entries = 0
    }

    /// One table.
    public struct Table: Sendable {
        /// The table's name.
        public let name: String
        /// The keyspace it lives in (`Database.defaultKeyspaceName` for the default one).
        public var keyspace = Database.defaultKeyspaceName
        /// Its records.
        public var records = 0
        /// Its indexes, in name order.
        public var indexes: [Index] = []
    }

    /// The tables: the default keyspace's, then each named keyspace's (in name order), each
    /// keyspace's in name order (as their keys sort).
    public internal(set) var tables: [Table] = []
    var found = ProblemList()
    /// The first problems (at most 100), in words.
    public var problems: [String] { found.first }
    /// How many problems there were.
    public var problemCount: Int { found.count }

    /// Whether nothing was wrong.
    public var isHealthy: Bool { problemCount == 0 }

    mutating func report(_ problem: String) { found.report(problem) }

    /// A line per table and index, then the problems.
    public var description: String {
        var lines: [String] = []
        for table in tables {
            let place = table.keyspace == Database.defaultKeyspaceName ? "" : " (keyspace \(table.keyspace))"
            lines.append("table \(table.name)\(place): \(table.records) records")
            for index in table.indexes {
                lines.append("  index \(index.name)\(index.unique ? " (unique)" : ""): \(index.entries) entries, \(index.state.map { "\($0)" } ?? "no state")")
            }
        }
        lines += problems
        return lines.joined(separator: "\n")
    }
}

/// The check of tables a tool can make without their schemas (`strata verify --tables`): walks
/// every key under a tables prefix at one snapshot, counts each table's records and each
/// index's entries, reads index states, and checks that every index entry names a record that
/// exists — entries left behind are found; records whose entries are missing need the schema's
/// index functions (`Table.verify()`). Streams: memory is one table's summary.
public enum TableStructureCheck {
    /// Checks the tables under `keyPrefix` (the default tables prefix unless given) in every
    /// keyspace, at one snapshot.
    ///
    /// - Throws: as `Database.cursor` and `Database.get`; damaged table keys are problems, not errors.
    public static func run(_ database: Database, keyPrefix: [UInt8] = TableSchema<UInt64, [UInt8]>.defaultKeyPrefix) throws -> TableStructureReport {
        var report = TableStructureReport()
        let snapshot = try database.snapshot()
        for name in [Database.defaultKeyspaceName] + database.keyspaceNames {
            try check(database.keyspace(name), at: snapshot, keyPrefix: keyPrefix, into: &report)
        }
        return report
    }

    /// Checks the tables under `keyPrefix` in `keyspace`, adding to `report`.
    private static func check(_ keyspace: Keyspace, at snapshot: Snapshot, keyPrefix: [UInt8], into report: inout TableStructureReport) throws {
        let cursor = try keyspace.cursor(ReadOptions(snapshot: snapshot, prefix: keyPrefix))
        var current: TableStructureReport.Table?
        var indexes: [String: TableStructureReport.Index] = [:]
        func finishTable() {
            guard var table = current else { return }
            table.indexes = indexes.values.sorted { $0.name < $1.name }
            report.tables.append(table)
            current = nil
            indexes = [:]
        }
        func visit() throws {
            let key = cursor.key
            var decoder = OrderedKeyDecoder(Array(key[keyPrefix.count...]))
            guard let tableName = try? String.decode(from: &decoder), let tag = try? decoder.readByte("tag") else {
                report.report("\(InternalKey.printable(key)): not a table key")
                return
            }
            if current?.name != tableName {
                finishTable()
                current = TableStructureReport.Table(name: tableName)
                current?.keyspace = keyspace.name
            }
            let root = Array(key[..<(keyPrefix.count + decoder.position - 1)])
            switch tag {
            case TableLayout.metaTag:
                guard let name = try? String.decode(from: &decoder), name.hasPrefix("index:") else { return }
                let indexName = String(name.dropFirst("index:".count))
                var index = indexes[indexName] ?? TableStructureReport.Index(name: indexName)
                let value = cursor.value
                index.unique = IndexState.isUnique(encoded: value)
                do {
                    index.state = try IndexState(encoded: value, index: indexName)
                } catch {
                    report.report("table \(tableName): index \(indexName) has a damaged state: \(error)")
                }
                indexes[indexName] = index
            case TableLayout.recordTag:
                current?.records += 1
            case TableLayout.indexTag:
                guard let indexName = try? String.decode(from: &decoder) else {
                    report.report("table \(tableName): \(InternalKey.printable(key)) is not an index entry key")
                    return
                }
                var index = indexes[indexName] ?? TableStructureReport.Index(name: indexName)
                index.entries += 1
                defer { indexes[indexName] = index }
                guard index.state != nil else {
                    if index.entries == 1 { report.report("table \(tableName): index \(indexName) has entries but no state") }
                    return
                }
                let rest = decoder.bytes.count - decoder.position
                let primaryKey: [UInt8]
                if index.unique {
                    primaryKey = cursor.value
                } else {
                    guard let length = try? TableLayout.splitNonUniqueEntryValue(cursor.value, keyLength: rest).primaryKeyLength else {
                        report.report("table \(tableName): index \(indexName) entry \(InternalKey.printable(key)) has a damaged value")
                        return
                    }
                    primaryKey = Array(key.suffix(length))
                }
                if try keyspace.get(root + [TableLayout.recordTag] + primaryKey, at: snapshot) == nil {
                    report.report("table \(tableName): index \(indexName) entry \(InternalKey.printable(key)) names record \(InternalKey.printable(primaryKey)), which does not exist")
                }
            default:
                report.report("table \(tableName): \(InternalKey.printable(key)) has an unknown tag \(tag)")
            }
        }
        try cursor.seekToFirst()
        while cursor.isValid {
            try visit()
            try cursor.next()
        }
        finishTable()
    }
}
