import Encoding
import Engine

// Where a table's index entries live: a keyspace of their own (by default the records'
// keyspace's name with ".indexes" appended), named in the table's bookkeeping so every reader —
// the typed table, the schema-free query and check — finds them. Docs/formats/tables.md.

/// The keyspace holding a table's index entries, as the table's bookkeeping records it.
enum IndexKeyspace {
    /// The keyspace a table's index entries go to when its opener names none: one per records
    /// keyspace, shared by the tables in it (their entries keep their table's prefix).
    static func defaultName(forRecordsIn keyspace: Keyspace) -> String {
        keyspace.name + ".indexes"
    }

    /// The name recorded under `layout`'s bookkeeping in `keyspace`, `nil` when none is.
    ///
    /// - Throws: `StrataError.corruption` for a recorded name that is not UTF-8; as `Keyspace.get`.
    static func recordedName(_ layout: TableLayout, in keyspace: Keyspace, at snapshot: Snapshot? = nil) throws -> String? {
        guard let bytes = try snapshot.map({ try keyspace.get(layout.indexKeyspaceKey, at: $0) }) ?? keyspace.get(layout.indexKeyspaceKey) else { return nil }
        return try decodeName(bytes, layout: layout)
    }

    /// A recorded name from its bytes.
    static func decodeName(_ bytes: [UInt8], layout: TableLayout) throws -> String {
        guard let name = String(validating: bytes, as: UTF8.self), !name.isEmpty else {
            throw StrataError.corruption(file: "<table bookkeeping>", offset: 0, reason: "the index keyspace recorded at \(InternalKey.printable(layout.indexKeyspaceKey)) is not a keyspace name")
        }
        return name
    }

    /// Whether any index state is stored under `layout` in `keyspace` (a table that has had an
    /// index; before index keyspaces, its entries were stored beside its records).
    static func hasIndexStates(_ layout: TableLayout, in keyspace: Keyspace, at snapshot: Snapshot? = nil) throws -> Bool {
        let prefix = layout.indexStatePrefix
        let cursor = try keyspace.cursor(ReadOptions(snapshot: snapshot, prefix: prefix))
        try cursor.seekToFirst()
        return cursor.isValid
    }

    /// The keyspace holding the entries of the table at `layout` whose records are in
    /// `keyspace`, for a reader: the recorded one; the records' keyspace when none is
    /// recorded (a table whose entries predate index keyspaces, or that never had an index).
    ///
    /// - Throws: `StrataError.corruption` when the recorded keyspace does not exist; as `Keyspace.get`.
    static func entries(of layout: TableLayout, recordsIn keyspace: Keyspace, at snapshot: Snapshot) throws -> Keyspace {
        guard let name = try recordedName(layout, in: keyspace, at: snapshot) else { return keyspace }
        return try existing(name, of: keyspace.database, recordedAt: layout)
    }

    /// The keyspace `name`, which a table's bookkeeping names: it must exist.
    static func existing(_ name: String, of database: Database, recordedAt layout: TableLayout) throws -> Keyspace {
        guard let keyspace = database.existingKeyspace(named: name) else {
            throw StrataError.corruption(file: "<table bookkeeping>", offset: 0, reason: "the table at \(InternalKey.printable(layout.root)) keeps its index entries in keyspace \"\(name)\", which does not exist")
        }
        return keyspace
    }
}
