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
/// index's entries (in the keyspace the table records for them), reads index states, and
/// checks that every index entry names a record that exists — entries left behind, also
/// entries no table claims, are found; records whose entries are missing need the schema's
/// index functions (`Table.verify()`). Streams: memory is the tables' summaries.
public enum TableStructureCheck {
    /// Checks the tables under `keyPrefix` (the default tables prefix unless given) in every
    /// keyspace, at one snapshot.
    ///
    /// - Throws: as `Database.cursor` and `Database.get`; damaged table keys are problems, not errors.
    public static func run(_ database: Database, keyPrefix: [UInt8] = TableSchema<UInt64, [UInt8]>.defaultKeyPrefix) throws -> TableStructureReport {
        var report = TableStructureReport()
        let snapshot = try database.snapshot()
        var found: [FoundTable] = []
        var entryRoots: [EntryRoot] = []
        for name in [Database.defaultKeyspaceName] + database.keyspaceNames {
            // A keyspace dropped since the names were read has nothing to check.
            guard let keyspace = database.existingKeyspace(named: name) else { continue }
            try collectTables(in: keyspace, at: snapshot, keyPrefix: keyPrefix, into: &found, entryRoots: &entryRoots, report: &report)
        }
        var claimed: Set<EntryRoot> = []
        for var table in found {
            if let entries = table.entriesKeyspace {
                try checkEntries(of: &table, in: entries, at: snapshot, report: &report)
                claimed.insert(EntryRoot(keyspace: entries.name, root: table.root))
            }
            table.summary.indexes = table.indexes.values.sorted { $0.name < $1.name }
            report.tables.append(table.summary)
        }
        for orphan in entryRoots where !claimed.contains(orphan) {
            report.report("keyspace \(orphan.keyspace) holds index entries under \(InternalKey.printable(orphan.root)), which no table's records name as theirs")
        }
        return report
    }

    /// A table found by its records or bookkeeping.
    private struct FoundTable {
        var summary: TableStructureReport.Table
        let root: [UInt8]
        var indexes: [String: TableStructureReport.Index] = [:]
        /// Where its entries are, as recorded (`nil`: none recorded, they are beside the records).
        var entriesKeyspace: Keyspace?
        /// Whether the recorded keyspace is damaged or missing (reported; entries unchecked).
        var entriesKeyspaceUnusable = false
    }

    /// A table root under which a keyspace holds index entries.
    private struct EntryRoot: Hashable {
        let keyspace: String
        let root: [UInt8]
    }

    /// Collects the tables whose records or bookkeeping are in `keyspace`, and where index
    /// entries are (skipped here: they are checked from their table).
    private static func collectTables(
        in keyspace: Keyspace, at snapshot: Snapshot, keyPrefix: [UInt8],
        into tables: inout [FoundTable], entryRoots: inout [EntryRoot], report: inout TableStructureReport
    ) throws {
        let cursor = try keyspace.cursor(ReadOptions(snapshot: snapshot, prefix: keyPrefix))
        var current: FoundTable?
        func finishTable() {
            guard var table = current else { return }
            if table.entriesKeyspace == nil && !table.entriesKeyspaceUnusable { table.entriesKeyspace = keyspace }
            tables.append(table)
            current = nil
        }
        /// Visits the cursor's entry; returns where to seek next (past a run of index entries), if anywhere.
        func visit() throws -> [UInt8]? {
            let key = cursor.key
            var decoder = OrderedKeyDecoder(Array(key[keyPrefix.count...]))
            guard let tableName = try? String.decode(from: &decoder), let tag = try? decoder.readByte("tag") else {
                report.report("\(InternalKey.printable(key)): not a table key")
                return nil
            }
            let root = Array(key[..<(keyPrefix.count + decoder.position - 1)])
            switch tag {
            case TableLayout.indexTag:
                entryRoots.append(EntryRoot(keyspace: keyspace.name, root: root))
                return KeyRange.prefixEnd(root + [TableLayout.indexTag])
            case TableLayout.metaTag, TableLayout.recordTag:
                break
            default:
                report.report("table \(tableName): \(InternalKey.printable(key)) has an unknown tag \(tag)")
                return nil
            }
            if current?.root != root {
                finishTable()
                var summary = TableStructureReport.Table(name: tableName)
                summary.keyspace = keyspace.name
                current = FoundTable(summary: summary, root: root)
            }
            guard tag == TableLayout.metaTag else {
                current?.summary.records += 1
                return nil
            }
            guard let name = try? String.decode(from: &decoder) else { return nil }
            if name == "entries-keyspace" {
                let layout = TableLayout(keyPrefix: keyPrefix, tableName: tableName)
                do {
                    let entries = try IndexKeyspace.decodeName(cursor.value, layout: layout)
                    current?.entriesKeyspace = try IndexKeyspace.existing(entries, of: keyspace.database, recordedAt: layout)
                } catch {
                    current?.entriesKeyspaceUnusable = true
                    report.report("table \(tableName): \(error)")
                }
                return nil
            }
            guard name.hasPrefix("index:") else { return nil }
            let indexName = String(name.dropFirst("index:".count))
            var index = current?.indexes[indexName] ?? TableStructureReport.Index(name: indexName)
            let value = cursor.value
            index.unique = IndexState.isUnique(encoded: value)
            do {
                index.state = try IndexState(encoded: value, index: indexName)
            } catch {
                report.report("table \(tableName): index \(indexName) has a damaged state: \(error)")
            }
            current?.indexes[indexName] = index
            return nil
        }
        try cursor.seekToFirst()
        while cursor.isValid {
            if let next = try visit() {
                try cursor.seek(to: next)
            } else {
                try cursor.next()
            }
        }
        finishTable()
    }

    /// Counts `table`'s index entries in `keyspace` and checks that each names a record.
    private static func checkEntries(of table: inout FoundTable, in keyspace: Keyspace, at snapshot: Snapshot, report: inout TableStructureReport) throws {
        let entryPrefix = table.root + [TableLayout.indexTag]
        guard let records = table.summary.keyspace == keyspace.name ? keyspace : keyspace.database.existingKeyspace(named: table.summary.keyspace) else { return }
        let cursor = try keyspace.cursor(ReadOptions(snapshot: snapshot, prefix: entryPrefix))
        let tableName = table.summary.name
        func checkCurrent() throws {
            let key = cursor.key
            var decoder = OrderedKeyDecoder(Array(key[entryPrefix.count...]))
            guard let indexName = try? String.decode(from: &decoder) else {
                report.report("table \(tableName): \(InternalKey.printable(key)) is not an index entry key")
                return
            }
            var index = table.indexes[indexName] ?? TableStructureReport.Index(name: indexName)
            index.entries += 1
            defer { table.indexes[indexName] = index }
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
            if try records.get(table.root + [TableLayout.recordTag] + primaryKey, at: snapshot) == nil {
                report.report("table \(tableName): index \(indexName) entry \(InternalKey.printable(key)) names record \(InternalKey.printable(primaryKey)), which does not exist")
            }
        }
        try cursor.seekToFirst()
        while cursor.isValid {
            try checkCurrent()
            try cursor.next()
        }
    }
}
