import Engine

// The `async` API of tables: each call runs its synchronous counterpart on the database's
// dedicated threads (as `Database`'s async API does), so reads of tables, commits, `fdatasync`s
// and write stalls never block a thread of Swift's cooperative pool. A task cancelled before its
// call started gets `CancellationError`; a call that started always finishes.

extension Table {
    /// The record under `key` (see `get(_:at:)`), read on a dedicated thread.
    public func get(_ key: Key, at snapshot: Snapshot? = nil) async throws -> Value? {
        try await database.executor.run { try self.get(key, at: snapshot) }
    }

    /// `insert(_:_:)` on a dedicated thread.
    public func insert(_ key: Key, _ value: Value) async throws {
        try await database.executor.run { try self.insert(key, value) }
    }

    /// `insert(contentsOf:batchSize:)` on a dedicated thread.
    public func insert(contentsOf records: [(Key, Value)], batchSize: Int = 1000) async throws {
        try await database.executor.run { try self.insert(contentsOf: records, batchSize: batchSize) }
    }

    /// `upsert(_:_:)` on a dedicated thread.
    @discardableResult
    public func upsert(_ key: Key, _ value: Value) async throws -> Value? {
        try await database.executor.run { try self.upsert(key, value) }
    }

    /// `update(_:_:)` on a dedicated thread (`body` may run more than once).
    @discardableResult
    public func update(_ key: Key, _ body: @escaping @Sendable (inout Value) throws -> Void) async throws -> Value? {
        try await database.executor.run { try self.update(key, body) }
    }

    /// `delete(_:)` on a dedicated thread.
    @discardableResult
    public func delete(_ key: Key) async throws -> Value? {
        try await database.executor.run { try self.delete(key) }
    }

    /// The first record whose `index` value is `value` (see `first(_:equals:at:)`), on a
    /// dedicated thread.
    public func first<IndexKey>(_ index: TableIndex<Value, IndexKey>, equals value: IndexKey, at snapshot: Snapshot? = nil) async throws -> (key: Key, value: Value)? {
        try await database.executor.run { try self.first(index, equals: value, at: snapshot) }
    }

    /// `buildIndexes(batchSize:pauseBetweenBatches:)` on a dedicated thread.
    public func buildIndexes(batchSize: Int = 256, pauseBetweenBatches: Double = 0) async throws {
        try await database.executor.run { try self.buildIndexes(batchSize: batchSize, pauseBetweenBatches: pauseBetweenBatches) }
    }

    /// `verify()` on a dedicated thread.
    public func verify() async throws -> TableVerification {
        try await database.executor.run { try self.verify() }
    }
}

extension Query {
    /// Up to `size` rows and the token for the next page (see `page(size:)`), read on a
    /// dedicated thread — the way to page through a large result from async code.
    public func page(size: Int) async throws -> QueryPage<Key, Value> {
        try await table.database.executor.run { try self.page(size: size) }
    }

    /// Every row (see `collect()`), read on a dedicated thread.
    public func collect() async throws -> [(key: Key, value: Value)] {
        try await table.database.executor.run { try self.collect() }
    }
}
