import Encoding
import WAL

// The `async` forms of the keyspace API: each runs its synchronous counterpart on the database's
// dedicated threads, like `Database`'s (creating or dropping a keyspace writes the manifest and,
// with an object store, uploads a checkpoint; reads and writes block as the database's do).

extension Database {
    /// Opens or creates keyspace `name` (see `keyspace(_:options:)`) on a dedicated thread.
    public func keyspace(_ name: String, options keyspaceOptions: KeyspaceOptions? = nil) async throws -> Keyspace {
        try await executor.run { try self.keyspace(name, options: keyspaceOptions) }
    }

    /// Drops keyspace `name` (see `dropKeyspace(_:)`) on a dedicated thread.
    public func dropKeyspace(_ name: String) async throws {
        try await executor.run { try self.dropKeyspace(name) }
    }
}

extension Keyspace {
    /// The value of `key` (see `get(_:)`), read on a dedicated thread.
    public func get(_ key: some BytesConvertible) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await database.executor.run { try self.get(key) }
    }

    /// The value of `key` as of `snapshot` (see `get(_:at:)`), read on a dedicated thread.
    public func get(_ key: some BytesConvertible, at snapshot: Snapshot) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await database.executor.run { try self.get(key, at: snapshot) }
    }

    /// The values of `keys` at one moment (see `batchGet(_:at:)`), read on a dedicated thread.
    public func batchGet<Key: BytesConvertible>(_ keys: [Key], at snapshot: Snapshot? = nil) async throws -> [[UInt8]?] {
        let keys = keys.map { $0.withUnsafeBytes { Array($0) } }
        return try await database.executor.run { try self.batchGet(keys, at: snapshot) }
    }

    // Writes build their batch here and go through `Database.write(_:options:) async`: one
    // path for every async write (its limits are checked before a thread is involved).

    /// Stores `value` under `key` (see `put(_:_:options:)`) on a dedicated thread.
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, options: WriteOptions = WriteOptions()) async throws {
        var batch = WriteBatch()
        batch.put(key, value, in: self)
        try await database.write(batch, options: options)
    }

    /// Deletes `key` (see `delete(_:options:)`) on a dedicated thread.
    public func delete(_ key: some BytesConvertible, options: WriteOptions = WriteOptions()) async throws {
        var batch = WriteBatch()
        batch.delete(key, in: self)
        try await database.write(batch, options: options)
    }

    /// Deletes `[from, to)` (see `deleteRange(from:to:options:)`) on a dedicated thread.
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, options: WriteOptions = WriteOptions()) async throws {
        var batch = WriteBatch()
        batch.deleteRange(from: start, to: end, in: self)
        try await database.write(batch, options: options)
    }

    /// Compacts the keyspace's `[from, to)` (see `compactRange(from:to:)`) on a dedicated thread.
    public func compactRange<From: BytesConvertible, To: BytesConvertible>(from start: From? = [UInt8]?.none, to end: To? = [UInt8]?.none) async throws {
        let low = start.map { $0.withUnsafeBytes { Array($0) } }
        let high = end.map { $0.withUnsafeBytes { Array($0) } }
        try await database.executor.run { try self.compactRange(from: low, to: high) }
    }
}
