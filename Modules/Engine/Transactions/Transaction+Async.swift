import Encoding

// The `async` forms of the transaction API: each runs its synchronous counterpart on the
// database's dedicated threads, so a lock wait, a table read or a commit's fsync never blocks a
// thread of Swift's cooperative pool.

extension Transaction {
    /// The value of `key` as the transaction sees it (see `get(_:in:)`), read on a dedicated thread.
    public func get(_ key: some BytesConvertible, in keyspace: Keyspace? = nil) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await database.executor.run { try self.get(key, in: keyspace) }
    }

    /// Reads `key` for update (see `getForUpdate(_:in:)`); a lock wait happens on a dedicated thread.
    public func getForUpdate(_ key: some BytesConvertible, in keyspace: Keyspace? = nil) async throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        return try await database.executor.run { try self.getForUpdate(key, in: keyspace) }
    }

    /// Buffers a put (see `put(_:_:in:)`); a pessimistic lock wait happens on a dedicated thread.
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, in keyspace: Keyspace? = nil) async throws {
        let key = key.withUnsafeBytes { Array($0) }
        let value = value.withUnsafeBytes { Array($0) }
        try await database.executor.run { try self.put(key, value, in: keyspace) }
    }

    /// Buffers a delete (see `delete(_:in:)`).
    public func delete(_ key: some BytesConvertible, in keyspace: Keyspace? = nil) async throws {
        let key = key.withUnsafeBytes { Array($0) }
        try await database.executor.run { try self.delete(key, in: keyspace) }
    }

    /// Buffers a range delete (see `deleteRange(from:to:in:)`).
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, in keyspace: Keyspace? = nil) async throws {
        let low = start.withUnsafeBytes { Array($0) }
        let high = end.withUnsafeBytes { Array($0) }
        try await database.executor.run { try self.deleteRange(from: low, to: high, in: keyspace) }
    }

    /// Up to `limit` entries of `[from, to)` (of `keyspace`) as the transaction sees them (see
    /// `scan(from:to:in:reverse:)`), read on a dedicated thread.
    public func entries(
        from start: [UInt8]?, to end: [UInt8]?, in keyspace: Keyspace? = nil, reverse: Bool = false, limit: Int = .max
    ) async throws -> [(key: [UInt8], value: [UInt8])] {
        try await database.executor.run {
            var scan = try self.scan(from: start, to: end, in: keyspace, reverse: reverse)
            var entries: [(key: [UInt8], value: [UInt8])] = []
            while entries.count < limit, let entry = try scan.next() { entries.append(entry) }
            return entries
        }
    }

    /// Commits (see `commit(sync:)`); the wait for the commit group happens on a dedicated thread.
    public func commit(sync: Bool? = nil) async throws {
        try await database.executor.run { try self.commit(sync: sync) }
    }
}
