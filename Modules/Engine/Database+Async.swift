import Encoding
import ObjectStore
import WAL

// The `async` API. Each call runs its synchronous counterpart on the database's dedicated
// threads (`Options.asyncThreads`), so that file reads, `fdatasync`s and write stalls never block
// a thread of Swift's cooperative pool. Which calls block, and where:
//
// | call | synchronous form blocks on | async form |
// |---|---|---|
// | get, batchGet | table reads (page faults, `pread`) | dedicated thread |
// | put, delete, deleteRange, write, sync | the commit queue, WAL writes, `fdatasync`, write stalls | dedicated thread |
// | scan | table reads per step | chunks on a dedicated thread |
// | flush, compactRange | the whole flush / compaction | dedicated thread |
// | open, close | recovery, the store's restore and final uploads | a new thread |
// | snapshot, cursor creation, statistics | nothing (memory only) | — (call directly) |
//
// A task cancelled before its call started gets `CancellationError`; a call that started
// always finishes (a write is never half-applied).

extension Database {
    /// The value of `key` in the latest data (`nil` when it has none), read on a dedicated thread.
    public func get(_ key: some BytesConvertible) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await executor.run { try self.get(key) }
    }

    /// The value of `key` under `options` (snapshot, `minSequence`), read — and waited for — on
    /// a dedicated thread.
    public func get(_ key: some BytesConvertible, options: ReadOptions) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await executor.run { try self.get(key, options: options) }
    }

    /// Waits, on a dedicated thread, until the database has applied `sequence` (see
    /// `waitForSequence(_:timeout:)`).
    public func waitForSequence(_ sequence: UInt64, timeout: Double) async throws {
        try await executor.run { try self.waitForSequence(sequence, timeout: timeout) }
    }

    /// Applies what the store holds now, on a dedicated thread (a replica only; see
    /// `catchUp()`).
    public func catchUp() async throws {
        try await executor.run { try self.catchUp() }
    }

    /// Opens a read replica on a thread of its own (see `openReplica(objectStore:at:options:)`).
    public static func openReplica(objectStore: any ObjectStore, at path: String, options: Options = Options()) async throws -> Database {
        try await Threads.run { try Database.openReplica(objectStore: objectStore, at: path, options: options) }
    }

    /// Promotes a replica to writer on a thread of its own (see `promote(options:)`).
    public func promote(options: Options? = nil) async throws -> Database {
        try await Threads.run { try self.promote(options: options) }
    }

    /// The value of `key` as of `snapshot`, read on a dedicated thread.
    public func get(_ key: some BytesConvertible, at snapshot: Snapshot) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await executor.run { try self.get(key, at: snapshot) }
    }

    /// The value of `key` decoded as `Value`, read on a dedicated thread.
    public func get<Value: BytesDecodable & Sendable>(_ key: some BytesConvertible, as type: Value.Type, at snapshot: Snapshot? = nil) async throws -> Value? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await executor.run { try self.get(key, as: type, at: snapshot) }
    }

    /// The values of many keys at one consistent point, read on a dedicated thread.
    public func batchGet<Key: BytesConvertible>(_ keys: [Key], at snapshot: Snapshot? = nil) async throws -> [[UInt8]?] {
        let keys = keys.map { $0.withUnsafeBytes { Array($0) } }
        return try await executor.run { try self.batchGet(keys, at: snapshot) }
    }

    /// Stores `value` under `key`; returns once the write is logged (and synced, when asked).
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, options: WriteOptions = WriteOptions()) async throws {
        var batch = WriteBatch()
        batch.put(key, value)
        try await write(batch, options: options)
    }

    /// Deletes `key`.
    public func delete(_ key: some BytesConvertible, options: WriteOptions = WriteOptions()) async throws {
        var batch = WriteBatch()
        batch.delete(key)
        try await write(batch, options: options)
    }

    /// Deletes every key in `[from, to)`.
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, options: WriteOptions = WriteOptions()) async throws {
        var batch = WriteBatch()
        batch.deleteRange(from: start, to: end)
        try await write(batch, options: options)
    }

    /// Applies `batch` atomically; returns once it is logged (and synced, when asked).
    public func write(_ batch: WriteBatch, options: WriteOptions = WriteOptions()) async throws {
        try batch.validate(batchLimits)  // cheap, and fails before a thread is involved
        try await executor.run { try self.write(batch, options: options) }
    }

    /// Makes every write acknowledged so far durable against power loss.
    public func sync() async throws {
        try await executor.run { try self.sync() }
    }

    /// Writes every memtable to a level-0 table and waits until it is done.
    public func flush() async throws {
        try await executor.run { try self.flush() }
    }

    /// Compacts the keys in `[from, to)` (unbounded when `nil`), on a dedicated thread.
    public func compactRange<From: BytesConvertible, To: BytesConvertible>(from start: From? = [UInt8]?.none, to end: To? = [UInt8]?.none) async throws {
        let low = start.map { $0.withUnsafeBytes { Array($0) } }
        let high = end.map { $0.withUnsafeBytes { Array($0) } }
        try await executor.run { try self.compactRange(from: low, to: high) }
    }

    /// Waits on a thread of its own until the background work has caught up (see
    /// `waitForCompactions()`), so the wait holds no cooperative-pool thread.
    public func waitForCompactions() async throws {
        try await Threads.run { try self.waitForCompactions() }
    }

    /// Opens (or creates) the database in `path` on a thread of its own (see
    /// `open(at:options:)`): recovery, and with an object store the restore and the epoch claim,
    /// block; this form keeps them off the cooperative pool.
    public static func open(at path: String, options: Options = Options()) async throws -> Database {
        try await Threads.run { try Database.open(at: path, options: options) }
    }

    /// Closes the database (see `close()`) on a thread of its own: the final log sync and, with an
    /// object store, the last uploads block.
    public func close() async throws {
        try await Threads.run { try self.close() }
    }

    /// Waits, on a dedicated thread, until every write acknowledged so far is in the object
    /// store (see `waitUntilStored()`).
    public func waitUntilStored() async throws {
        try await executor.run { try self.waitUntilStored() }
    }
}
