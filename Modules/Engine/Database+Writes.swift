import Encoding
import WAL

// The public write API. The commit path behind it is in Database+CommitPath.swift.

extension Database {
    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// Blocks the calling thread until the write is logged (and synced, when asked), including
    /// any write stall; from Swift concurrency use the `async` overload.
    ///
    /// - Throws: `.invalidArgument` for an empty or oversized key or value; `.readOnly` after a
    ///   background failure or in a read-only open; `.closed`; `.io` when the log cannot be
    ///   written.
    @inlinable
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        try key.withUnsafeBytes { key in try value.withUnsafeBytes { value in try put(rawKey: key, rawValue: value, options: options) } }
    }

    /// Deletes `key` (deleting a missing key is not an error).
    @inlinable
    public func delete(_ key: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        try key.withUnsafeBytes { key in try delete(rawKey: key, options: options) }
    }

    /// Deletes every key in `[from, to)`.
    ///
    /// - Throws: `.invalidArgument` when `from >= to` or a bound is empty or oversized.
    @inlinable
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        var batch = WriteBatch()
        batch.deleteRange(from: start, to: end)
        try write(batch, options: options)
    }

    /// Deletes every key that starts with `prefix`.
    ///
    /// - Throws: `.invalidArgument` for an empty prefix or one of only `0xFF` bytes (no key
    ///   bounds such a range from above; delete it with `deleteRange(from:to:)` or a scan).
    public func deleteRange(prefix: some BytesConvertible, options: WriteOptions = WriteOptions()) throws {
        let start = prefix.withUnsafeBytes { Array($0) }
        guard !start.isEmpty, let end = KeyRange.prefixEnd(start) else {
            throw StrataError.invalidArgument("deleteRange(prefix:) needs a prefix with a byte other than 0xFF")
        }
        try deleteRange(from: start, to: end, options: options)
    }

    /// Applies `batch` atomically: all of its entries or none, also across a crash.
    ///
    /// - Throws: `.invalidArgument` (nothing is written) when any entry is invalid or the batch is
    ///   larger than `maxBatchSize`; otherwise as `put`.
    public func write(_ batch: WriteBatch, options: WriteOptions = WriteOptions()) throws {
        try checkWritable()
        try batch.validate(batchLimits)
        guard !batch.isEmpty else { return }
        if !batch.summary.keyspaces.isEmpty { try checkKeyspacesExist(batch.summary.keyspaces) }
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.write(batch, sync: options.sync ?? self.options.syncWrites))
        if options.durability == .objectStore { try waitUntilStored() }
    }

    /// Makes every write acknowledged so far durable against power loss (one `fdatasync` of the
    /// log, ordered after every queued write).
    public func sync() throws {
        try checkWritable()
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.sync)
    }

    // MARK: - Internal

    @usableFromInline
    func put(rawKey key: UnsafeRawBufferPointer, rawValue value: UnsafeRawBufferPointer, options: WriteOptions) throws {
        var batch = WriteBatch()
        batch.put(key, value)
        try write(batch, options: options)
    }

    @usableFromInline
    func delete(rawKey key: UnsafeRawBufferPointer, options: WriteOptions) throws {
        var batch = WriteBatch()
        batch.delete(key)
        try write(batch, options: options)
    }
}
