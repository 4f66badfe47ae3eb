import Encoding
import Engine
import Synchronization

/// Typed records in a Strata database: values of a `Codable` type under ordered keys, with
/// secondary indexes kept in step atomically and streaming queries. See `Docs/TABLES.md`.
///
/// ```swift
/// var schema = TableSchema<UInt64, User>(name: "users")
/// let byEmail = schema.index("byEmail", unique: true) { $0.email }
/// let users = try Table(schema, in: db)
///
/// try users.insert(1, User(email: "ada@example.com", name: "Ada", age: 36, tags: []))
/// let ada = try users.first(byEmail, equals: "ada@example.com")
/// try users.update(1) { $0.age += 1 }
/// for row in try users.query(byEmail).from("a").to("b").rows() { … }
/// ```
///
/// Every write runs in a transaction that also writes the record's index entries (in the
/// table's index keyspace): a record and its entries are committed together or not at all
/// (also across a crash). Pass a
/// `Transaction` (the `in:` variants) to combine writes of several tables, or with plain keys,
/// atomically.
///
/// Thread safety: `Sendable`; share one instance. Open one `Table` per table name and schema in
/// a process (a second instance with other indexes would not maintain the first one's).
public final class Table<Key: OrderedKey, Value: Codable & Sendable>: Sendable {
    /// The schema the table was opened with.
    public let schema: TableSchema<Key, Value>
    /// The database it lives in.
    public let database: Database
    /// The keyspace its records and index states live in (the database's default keyspace
    /// unless the table was opened in another).
    public let keyspace: Keyspace
    /// The keyspace its index entries live in: a keyspace of their own, recorded with the
    /// table when its first index is declared — `indexKeyspace` as given to the initialiser,
    /// by default `keyspace`'s name with ".indexes" appended (shared by the tables of one
    /// keyspace). It is `keyspace` itself for a table that has no index yet, and for one whose
    /// entries were written beside its records (before index keyspaces).
    public let indexKeyspace: Keyspace

    let layout: TableLayout
    /// Each index's state as last read or written by this instance.
    let states: Mutex<[String: IndexState]>

    /// Opens the table `schema.name` in `database` — in `keyspace` when given (a keyspace of
    /// its own gives the table its own table options, and `Database.dropKeyspace` drops it
    /// whole at once), else the default keyspace — creating it if it has no records. Its
    /// index entries go to `indexKeyspace` when given, else to a keyspace named after
    /// `keyspace` with ".indexes" appended (created when the first index is declared); once
    /// recorded, the table's index keyspace does not change. An index the table did not have
    /// before is recorded as `building`; with `buildIndexes` (the default) it is backfilled
    /// before this returns, otherwise call `buildIndexes()` (for instance on another task,
    /// while writes continue).
    ///
    /// - Throws: `StrataError.constraintViolation` when a unique index's backfill finds two
    ///   records sharing a value (the index is then `failed`); `.invalidArgument` for a keyspace
    ///   of another database, or an `indexKeyspace` other than the one the table recorded;
    ///   as `Database`'s reads and writes.
    public init(_ schema: TableSchema<Key, Value>, in database: Database, keyspace: Keyspace? = nil, indexKeyspace: Keyspace? = nil, buildIndexes: Bool = true) throws {
        for given in [keyspace, indexKeyspace].compactMap({ $0 }) where given.database !== database {
            throw StrataError.invalidArgument("keyspace \"\(given.name)\" belongs to another database")
        }
        self.schema = schema
        self.database = database
        let keyspace = try keyspace ?? database.keyspace(Database.defaultKeyspaceName)
        self.keyspace = keyspace
        let layout = TableLayout(keyPrefix: schema.keyPrefix, tableName: schema.name, indexNames: schema.indexNames)
        self.layout = layout
        self.states = Mutex([:])
        let placement = try Table.placeIndexes(of: schema, layout: layout, recordsIn: keyspace, requested: indexKeyspace)
        self.indexKeyspace = placement.keyspace
        try registerIndexes(recordingPlacement: placement.toRecord, fresh: placement.fresh, rebuildAll: placement.entriesLost)
        if buildIndexes { try self.buildIndexes() }
    }

    /// Where the table's index entries are: the keyspace recorded with the table; for a table
    /// without a record, its records' keyspace when it already has index states (entries
    /// written beside the records), else the requested or default index keyspace — to be
    /// recorded (`toRecord`) when the schema declares an index and the database is writable.
    /// `fresh`: the table has no entries anywhere yet (what its index keyspace holds under its
    /// root is left from a dropped table of its name). `entriesLost`: the recorded keyspace
    /// had been dropped (created again, empty, so every index is rebuilt).
    private static func placeIndexes(
        of schema: TableSchema<Key, Value>, layout: TableLayout, recordsIn keyspace: Keyspace, requested: Keyspace?
    ) throws -> (keyspace: Keyspace, toRecord: String?, fresh: Bool, entriesLost: Bool) {
        let database = keyspace.database
        let writable = !database.options.readOnly && !database.isReplica
        if let recorded = try IndexKeyspace.recordedName(layout, in: keyspace) {
            if let requested, requested.name != recorded {
                throw StrataError.invalidArgument("table \(schema.name) keeps its index entries in keyspace \"\(recorded)\", not \"\(requested.name)\"")
            }
            if database.existingKeyspace(named: recorded) == nil && writable { return (try database.keyspace(recorded), nil, false, true) }
            return (try IndexKeyspace.existing(recorded, of: database, recordedAt: layout), nil, false, false)
        }
        if try IndexKeyspace.hasIndexStates(layout, in: keyspace) {
            if let requested, requested.name != keyspace.name {
                throw StrataError.invalidArgument("table \(schema.name) keeps its index entries beside its records in keyspace \"\(keyspace.name)\", not in \"\(requested.name)\"")
            }
            return (keyspace, writable ? keyspace.name : nil, false, false)
        }
        guard !schema.indexes.isEmpty else { return (requested ?? keyspace, nil, false, false) }
        let name = requested?.name ?? IndexKeyspace.defaultName(forRecordsIn: keyspace)
        if let requested { return (requested, writable ? name : nil, writable, false) }
        guard writable else {
            // A read-only open cannot create it; its new indexes stay unusable anyway.
            return (database.existingKeyspace(named: name) ?? keyspace, nil, false, false)
        }
        return (try database.keyspace(name), name, true, false)
    }

    /// Reads each declared index's state, recording new ones as `building` (read-only opens
    /// record nothing; their new indexes stay unusable), and `placement` as the keyspace of
    /// the index entries when the table has no record of one yet (`fresh`: removing what that
    /// keyspace holds under the table's root, entries of a dropped namesake). `rebuildAll`:
    /// the entries are gone, every index is recorded as `building`.
    private func registerIndexes(recordingPlacement placement: String?, fresh: Bool, rebuildAll: Bool) throws {
        var found: [String: IndexState] = [:]
        var missing: [String] = []
        for index in schema.indexes {
            if !rebuildAll, let bytes = try keyspace.get(layout.indexStateKey(index.name)) {
                found[index.name] = try IndexState(encoded: bytes, index: index.name)
            } else {
                missing.append(index.name)
            }
        }
        if (!missing.isEmpty || placement != nil) && !database.options.readOnly && !database.isReplica {
            try database.transaction(schema.transactionOptions) { txn in
                if let placement {
                    // Another opener may have recorded one since: the first record stands.
                    if let bytes = try txn.get(layout.indexKeyspaceKey, in: keyspace) {
                        let recorded = try IndexKeyspace.decodeName(bytes, layout: layout)
                        guard recorded == indexKeyspace.name else {
                            throw StrataError.invalidArgument("table \(schema.name) keeps its index entries in keyspace \"\(recorded)\", not \"\(indexKeyspace.name)\"")
                        }
                    } else {
                        try txn.put(layout.indexKeyspaceKey, Array(placement.utf8), in: keyspace)
                        if fresh, let end = layout.tableRange.to {
                            try txn.deleteRange(from: layout.root + [TableLayout.indexTag], to: end, in: indexKeyspace)
                        }
                    }
                }
                for index in schema.indexes where missing.contains(index.name) {
                    if rebuildAll {
                        try txn.put(layout.indexStateKey(index.name), IndexState.building(progress: nil).encoded(unique: index.unique), in: keyspace)
                        found[index.name] = .building(progress: nil)
                        continue
                    }
                    if let bytes = try txn.get(layout.indexStateKey(index.name), in: keyspace) {
                        found[index.name] = try IndexState(encoded: bytes, index: index.name)
                    } else {
                        try txn.put(layout.indexStateKey(index.name), IndexState.building(progress: nil).encoded(unique: index.unique), in: keyspace)
                        found[index.name] = .building(progress: nil)
                    }
                }
            }
        }
        for name in missing where found[name] == nil { found[name] = .building(progress: nil) }
        states.withLock { $0 = found }
    }

    /// The state of index `name` as this instance knows it (`nil` for an undeclared name).
    public func indexState(_ name: String) -> IndexState? {
        states.withLock { $0[name] }
    }

    // MARK: - Keys and values

    func recordKey(_ key: Key) -> [UInt8] { layout.recordKey(key.orderedKeyBytes) }

    /// The value stored as `bytes`; `recordKey` (built only for the error) names where.
    @usableFromInline
    func decodeValue(_ bytes: [UInt8], recordKey: @autoclosure () -> [UInt8]) throws -> Value {
        do {
            return try schema.codec.decode(Value.self, from: bytes)
        } catch {
            throw StrataError.corruption(
                file: "table \(schema.name)", offset: 0,
                reason: "the record at key \(InternalKey.printable(recordKey())) does not decode as \(Value.self): \(error)")
        }
    }

    func encodeValue(_ value: Value) throws -> [UInt8] {
        do {
            return try schema.codec.encode(value)
        } catch {
            throw StrataError.invalidArgument("a \(Value.self) value of table \(schema.name) does not encode: \(error)")
        }
    }

    // MARK: - Reading

    /// The record under `key`, at `snapshot` (the latest data by default).
    ///
    /// - Throws: `StrataError.corruption` when the stored bytes do not decode as `Value`; as
    ///   `Database.get`.
    public func get(_ key: Key, at snapshot: Snapshot? = nil) throws -> Value? {
        let recordKey = recordKey(key)
        let bytes = try snapshot.map { try keyspace.get(recordKey, at: $0) } ?? keyspace.get(recordKey)
        return try bytes.map { try decodeValue($0, recordKey: recordKey) }
    }

    /// The record under `key` as `transaction` sees it (its own writes included).
    public func get(_ key: Key, in transaction: Transaction) throws -> Value? {
        let recordKey = recordKey(key)
        return try transaction.get(recordKey, in: keyspace).map { try decodeValue($0, recordKey: recordKey) }
    }

    /// Whether a record is stored under `key`.
    public func contains(_ key: Key, at snapshot: Snapshot? = nil) throws -> Bool {
        let recordKey = recordKey(key)
        return try (snapshot.map { try keyspace.get(recordKey, at: $0) } ?? keyspace.get(recordKey)) != nil
    }

    // MARK: - Writing

    /// Stores `value` under `key`, which must be free.
    ///
    /// - Throws: `StrataError.constraintViolation` when `key` is taken or a unique index
    ///   already has one of the value's entries (nothing written); as `Database.transaction`.
    public func insert(_ key: Key, _ value: Value) throws {
        try database.transaction(schema.transactionOptions) { try insert(key, value, in: $0) }
    }

    /// `insert(_:_:)` inside `transaction` (committed, or not, with it).
    public func insert(_ key: Key, _ value: Value, in transaction: Transaction) throws {
        _ = try write(key, value, in: transaction, requireAbsent: true)
    }

    /// Inserts every pair, in transactions of `batchSize` records (each all-or-nothing).
    ///
    /// A batch whose keys come in ascending order (a bulk load in key order) checks that its
    /// keys are free with one range read instead of a read per record — when nothing is stored
    /// between its first and last key; otherwise, or for unsorted keys, each record is checked.
    ///
    /// - Throws: as `insert(_:_:)`; the batches before the failing one are committed.
    public func insert<Records: Sequence>(contentsOf records: Records, batchSize: Int = 1000) throws where Records.Element == (Key, Value) {
        precondition(batchSize > 0, "batchSize must be positive")
        var iterator = records.makeIterator()
        var pending: [(Key, Value)] = []
        pending.reserveCapacity(batchSize)
        while true {
            pending.removeAll(keepingCapacity: true)
            while pending.count < batchSize, let next = iterator.next() { pending.append(next) }
            if pending.isEmpty { return }
            let keys = pending.map { $0.0.orderedKeyBytes }
            let ascending = zip(keys, keys.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }
            try database.transaction(schema.transactionOptions) { txn in
                // One read of the batch's key range: empty means every key is free. The range
                // is remembered like any read (a concurrent insert into it conflicts).
                var free = false
                if ascending, let first = keys.first, let last = keys.last {
                    var stored = try txn.scan(from: layout.recordKey(first), to: layout.recordKey(last) + [0], in: keyspace)
                    free = try stored.next() == nil
                }
                for ((key, value), encodedKey) in zip(pending, keys) {
                    _ = try write(key, value, in: txn, requireAbsent: true, encodedKey: encodedKey, knownAbsent: free)
                }
            }
        }
    }

    /// Stores `value` under `key`, replacing a record already there.
    ///
    /// - Returns: the record it replaced.
    /// - Throws: `StrataError.constraintViolation` when a unique index holds one of the new
    ///   value's entries for another record (nothing written).
    @discardableResult
    public func upsert(_ key: Key, _ value: Value) throws -> Value? {
        try database.transaction(schema.transactionOptions) { try upsert(key, value, in: $0) }
    }

    /// `upsert(_:_:)` inside `transaction`.
    @discardableResult
    public func upsert(_ key: Key, _ value: Value, in transaction: Transaction) throws -> Value? {
        try write(key, value, in: transaction, requireAbsent: false)
    }

    /// Changes the record under `key` with `body`, atomically (`body` may run more than once
    /// when the transaction is retried after a conflict).
    ///
    /// - Returns: the record as written, or `nil` when there is none under `key` (then nothing
    ///   is written and `body` does not run).
    @discardableResult
    public func update(_ key: Key, _ body: (inout Value) throws -> Void) throws -> Value? {
        try database.transaction(schema.transactionOptions) { try update(key, in: $0, body) }
    }

    /// `update(_:_:)` inside `transaction`.
    @discardableResult
    public func update(_ key: Key, in transaction: Transaction, _ body: (inout Value) throws -> Void) throws -> Value? {
        let recordKey = recordKey(key)
        guard let bytes = try transaction.getForUpdate(recordKey, in: keyspace) else { return nil }
        var value = try decodeValue(bytes, recordKey: recordKey)
        try body(&value)
        _ = try write(key, value, in: transaction, requireAbsent: false)
        return value
    }

    /// Deletes the record under `key` and its index entries.
    ///
    /// - Returns: the record deleted, `nil` when there was none.
    @discardableResult
    public func delete(_ key: Key) throws -> Value? {
        try database.transaction(schema.transactionOptions) { try delete(key, in: $0) }
    }

    /// `delete(_:)` inside `transaction`.
    @discardableResult
    public func delete(_ key: Key, in transaction: Transaction) throws -> Value? {
        try write(key, nil, in: transaction, requireAbsent: false)
    }

    /// Writes (or, for `nil`, deletes) the record under `key` with its index entries, and
    /// returns the record it replaced.
    ///
    /// `knownAbsent`: the caller has read that no record is stored under `key` in this
    /// transaction (a range read), so it is not read again.
    private func write(
        _ key: Key, _ value: Value?, in transaction: Transaction, requireAbsent: Bool,
        encodedKey knownKey: [UInt8]? = nil, knownAbsent: Bool = false
    ) throws -> Value? {
        let encodedKey = knownKey ?? key.orderedKeyBytes
        let recordKey = layout.recordKey(encodedKey)
        // getForUpdate: a concurrent writer of the same record conflicts (or waits, pessimistic).
        let oldBytes = knownAbsent ? nil : try transaction.getForUpdate(recordKey, in: keyspace)
        if requireAbsent, oldBytes != nil {
            throw StrataError.constraintViolation(reason: "table \(schema.name) already has a record with key \(describeKey(encodedKey))")
        }
        let old = try oldBytes.map { try decodeValue($0, recordKey: recordKey) }
        if old == nil && value == nil { return nil }
        let newBytes = try value.map(encodeValue)
        for index in schema.indexes {
            let before = old.map(index.encodedValues) ?? []
            let after = value.map(index.encodedValues) ?? []
            for entry in before where !after.contains(entry) {
                try transaction.delete(entryKey(index, entry, encodedKey), in: indexKeyspace)
            }
            // An index storing fields rewrites every entry when those fields changed.
            let stored = try newBytes.map { try storedFields(of: index, in: $0) } ?? []
            let storedChanged = try !index.storedFields.isEmpty && oldBytes.map { try storedFields(of: index, in: $0) } != stored
            let entryValue = index.unique ? encodedKey : TableLayout.nonUniqueEntryValue(primaryKeyLength: encodedKey.count, stored: stored)
            for entry in after where storedChanged || !before.contains(entry) {
                let entryKey = entryKey(index, entry, encodedKey)
                if index.unique {
                    if let holder = try transaction.getForUpdate(entryKey, in: indexKeyspace), holder != encodedKey {
                        throw uniqueViolation(index, entry, holder: holder, writer: encodedKey)
                    }
                    try transaction.put(entryKey, encodedKey, in: indexKeyspace)
                } else {
                    try transaction.put(entryKey, entryValue, in: indexKeyspace)
                }
            }
        }
        if let newBytes {
            try transaction.put(recordKey, newBytes, in: keyspace)
        } else {
            try transaction.delete(recordKey, in: keyspace)
        }
        return old
    }

    /// The value of a non-unique `index`'s entries for the record `record` under `encodedKey`.
    func nonUniqueEntryValue(_ index: AnyTableIndex<Value>, encodedKey: some Collection<UInt8>, record: [UInt8]) throws -> [UInt8] {
        TableLayout.nonUniqueEntryValue(primaryKeyLength: encodedKey.count, stored: try storedFields(of: index, in: record))
    }

    /// What `index`'s entries of the record `bytes` hold: its stored fields, or nothing.
    func storedFields(of index: AnyTableIndex<Value>, in bytes: [UInt8]) throws -> [UInt8] {
        guard !index.storedFields.isEmpty else { return [] }
        do {
            return try schema.codec.extractFields(index.storedFields, from: bytes)
        } catch {
            throw StrataError.invalidArgument("index \(index.name) of table \(schema.name) stores fields \(index.storedFields), but a record is not a keyed value: \(error)")
        }
    }

    /// The key of `index`'s entry `value` for the record `encodedKey`.
    func entryKey(_ index: AnyTableIndex<Value>, _ value: [UInt8], _ encodedKey: [UInt8]) -> [UInt8] {
        index.unique ? layout.indexPrefix(index.name) + value : layout.indexPrefix(index.name) + value + encodedKey
    }

    func uniqueViolation(_ index: AnyTableIndex<Value>, _ value: [UInt8], holder: [UInt8], writer: [UInt8]) -> StrataError {
        .constraintViolation(reason: "table \(schema.name): unique index \(index.name) already has \(index.describe(value)) for the record with key \(describeKey(holder)) (writing key \(describeKey(writer)))")
    }

    /// An encoded primary key as the key it encodes, for messages.
    func describeKey(_ encoded: some Collection<UInt8>) -> String {
        (try? Key(orderedKeyBytes: Array(encoded))).map { "\($0)" } ?? InternalKey.printable(encoded)
    }
}
