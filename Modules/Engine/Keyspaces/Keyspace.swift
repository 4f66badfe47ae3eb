import Encoding
import Manifest
import WAL

/// A named keyspace of a database: a separate sorted key space with its own memtables, levels
/// and table options, sharing the database's log, sequence numbers and snapshots.
///
/// ```swift
/// let users = try db.keyspace("users", options: KeyspaceOptions(compression: .zstd(level: 3)))
/// try users.put("u:1", "Ada")
/// var batch = WriteBatch()                       // one batch spans keyspaces atomically
/// batch.put("u:2", "Grace", in: users)
/// batch.put("count", "2")                        // the default keyspace
/// try db.write(batch)
/// ```
///
/// The same key in two keyspaces names two entries. Writes are atomic across keyspaces (one
/// batch is one log record) and survive a crash like any write; a `Snapshot` of the database
/// reads every keyspace at the same moment. A handle stays valid while the database is open;
/// after `Database.dropKeyspace(_:)` its reads and writes throw `.invalidArgument`.
///
/// Thread safety: `Sendable`; share it between threads like the database.
public final class Keyspace: Sendable {
    /// The database the keyspace belongs to.
    public let database: Database
    /// The keyspace's name.
    public let name: String
    /// The keyspace's number in the log and the manifest (never 0, never reused).
    public let id: UInt32

    init(database: Database, name: String, id: UInt32) {
        self.database = database
        self.name = name
        self.id = id
    }

    // MARK: - Reads

    /// The value of `key` in the latest data, or `nil` when it has none.
    ///
    /// - Throws: as `Database.get(_:)`; `.invalidArgument` once the keyspace was dropped.
    public func get(_ key: some BytesConvertible) throws -> [UInt8]? {
        try key.withUnsafeBytes { try database.get(rawKey: $0, snapshot: nil, keyspace: id) }
    }

    /// The value of `key` as of `snapshot` (a snapshot of the database: every keyspace is read
    /// at the same moment through it).
    public func get(_ key: some BytesConvertible, at snapshot: Snapshot) throws -> [UInt8]? {
        try key.withUnsafeBytes { try database.get(rawKey: $0, snapshot: snapshot, keyspace: id) }
    }

    /// The values of `keys` (`nil` for a missing key), in order, all read at one moment: at
    /// `snapshot`, or at the latest data when the call starts.
    public func batchGet<Key: BytesConvertible>(_ keys: [Key], at snapshot: Snapshot? = nil) throws -> [[UInt8]?] {
        try database.batchGet(keys, at: snapshot, keyspace: id)
    }

    /// The value of `key` (as of `snapshot`, or the latest data), decoded as `Value`.
    public func get<Value: BytesDecodable>(_ key: some BytesConvertible, as type: Value.Type, at snapshot: Snapshot? = nil) throws -> Value? {
        let bytes = try key.withUnsafeBytes { try database.get(rawKey: $0, snapshot: snapshot, keyspace: id) }
        return try bytes.map { try Value(strataBytes: $0) }
    }

    /// A cursor over the keyspace's keys, honouring the options' snapshot and bounds.
    public func cursor(_ options: ReadOptions = ReadOptions()) throws -> Cursor {
        var options = options
        options.keyspaceID = id
        return try database.cursor(options)
    }

    /// The keyspace's entries with keys in `[from, to)` (unbounded when `nil`), in key order or
    /// reversed; `async` or synchronous, as `Database.scan`.
    public func scan<From: BytesConvertible, To: BytesConvertible>(
        from lowerBound: From? = [UInt8]?.none, to upperBound: To? = [UInt8]?.none, at snapshot: Snapshot? = nil, reverse: Bool = false
    ) -> ScanSequence {
        var options = ReadOptions(snapshot: snapshot, from: lowerBound, to: upperBound)
        options.keyspaceID = id
        return ScanSequence(database: database, options: options, reverse: reverse)
    }

    /// The keyspace's entries whose keys start with `prefix`.
    public func scan(prefix: some BytesConvertible, at snapshot: Snapshot? = nil, reverse: Bool = false) -> ScanSequence {
        var options = ReadOptions(snapshot: snapshot, prefix: prefix)
        options.keyspaceID = id
        return ScanSequence(database: database, options: options, reverse: reverse)
    }

    // MARK: - Writes

    /// Stores `value` under `key` in this keyspace.
    ///
    /// - Throws: as `Database.put`; `.invalidArgument` once the keyspace was dropped.
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.put(key, value, in: self)
        try database.write(batch, options: options)
    }

    /// Deletes `key` from this keyspace.
    public func delete(_ key: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.delete(key, in: self)
        try database.write(batch, options: options)
    }

    /// Deletes every key in `[from, to)` of this keyspace.
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.deleteRange(from: start, to: end, in: self)
        try database.write(batch, options: options)
    }

    // MARK: - Maintenance

    /// Compacts the keyspace's keys in `[from, to)` (unbounded when `nil`) down to its deepest
    /// level holding them, as `Database.compactRange` does for the default keyspace.
    public func compactRange<From: BytesConvertible, To: BytesConvertible>(from start: From? = [UInt8]?.none, to end: To? = [UInt8]?.none) throws {
        try database.compactRange(
            from: start.map { $0.withUnsafeBytes { Array($0) } }, to: end.map { $0.withUnsafeBytes { Array($0) } }, keyspace: id)
    }

    /// The keyspace's tables in the current version, level by level (level 0 newest first, the
    /// others by key).
    ///
    /// - Throws: `.invalidArgument` once the keyspace was dropped.
    public func tables() throws -> [KeyspaceTable] {
        guard let tree = database.versionSet.currentVersion.tree(id) else {
            throw StrataError.invalidArgument("keyspace \"\(name)\" was dropped")
        }
        return tree.levels.joined().map { file in
            KeyspaceTable(level: file.level, fileNumber: file.fileNumber, fileName: DatabaseFiles.tableName(file.fileNumber), bytes: file.fileSize, entries: file.entryCount)
        }
    }
}

/// One table of a keyspace (`Keyspace.tables()`).
public struct KeyspaceTable: Sendable, Hashable {
    /// The level it is in.
    public var level: Int
    /// Its file number.
    public var fileNumber: UInt64
    /// Its file's name in the database directory.
    public var fileName: String
    /// Its size in bytes.
    public var bytes: UInt64
    /// Its point entries (every version of every key).
    public var entries: UInt64
}

extension WriteBatch {
    /// Adds a put of `value` under `key` in `keyspace`.
    public mutating func put(_ key: some BytesConvertible, _ value: some BytesConvertible, in keyspace: Keyspace) {
        put(key, value, keyspaceID: keyspace.id)
    }

    /// Adds a point delete of `key` in `keyspace`.
    public mutating func delete(_ key: some BytesConvertible, in keyspace: Keyspace) {
        delete(key, keyspaceID: keyspace.id)
    }

    /// Adds a delete of every key in `[from, to)` of `keyspace`.
    public mutating func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, in keyspace: Keyspace) {
        deleteRange(from: start, to: end, keyspaceID: keyspace.id)
    }
}
