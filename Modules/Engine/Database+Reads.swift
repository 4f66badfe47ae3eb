#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Manifest

// The public read API. The read path behind it is in Database+ReadPath.swift.

extension Database {
    /// The value of `key` in the latest data, or `nil` when it has none.
    ///
    /// Blocks the calling thread when the lookup reads a table from disk; from Swift
    /// concurrency use the `async` overload.
    ///
    /// - Throws: `.invalidArgument` for an empty or oversized key; `.closed`; `.corruption` or
    ///   `.io` when a table cannot be read.
    @inlinable
    public func get(_ key: some BytesConvertible) throws -> [UInt8]? {
        try key.withUnsafeBytes { try get(rawKey: $0, snapshot: nil) }
    }

    /// The value of `key` as of `snapshot`.
    @inlinable
    public func get(_ key: some BytesConvertible, at snapshot: Snapshot) throws -> [UInt8]? {
        try key.withUnsafeBytes { try get(rawKey: $0, snapshot: snapshot) }
    }

    /// The value of `key` (as of `snapshot`, or the latest data), decoded as `Value`:
    /// `try db.get("user:1", as: String.self)`.
    ///
    /// - Throws: as `get(_:)`; `.invalidArgument` when the stored bytes are not a valid `Value`
    ///   (a `String` that is not UTF-8).
    @inlinable
    public func get<Value: BytesDecodable>(_ key: some BytesConvertible, as type: Value.Type, at snapshot: Snapshot? = nil) throws -> Value? {
        let bytes = try key.withUnsafeBytes { try get(rawKey: $0, snapshot: snapshot) }
        return try bytes.map { try Value(strataBytes: $0) }
    }

    /// The value of `key` under `options`: its snapshot, after waiting for its `minSequence`
    /// (bounds do not apply to a point read).
    ///
    /// - Throws: as `get(_:)`; `.timedOut` when `minSequence` was not applied in time.
    public func get(_ key: some BytesConvertible, options: ReadOptions) throws -> [UInt8]? {
        if let minimum = options.minSequence { try waitForSequence(minimum, timeout: options.minSequenceTimeout) }
        return try key.withUnsafeBytes { try get(rawKey: $0, snapshot: options.snapshot) }
    }

    /// Waits until the database has applied `sequence` (`latestSequence` reaches it): on a
    /// replica, until it has caught up that far with the primary.
    ///
    /// - Throws: `.timedOut` after `timeout` seconds; `.closed`.
    public func waitForSequence(_ sequence: UInt64, timeout: Double) throws {
        try checkOpen()
        let deadline = WallClock.monotonicNanoseconds() + UInt64(max(timeout, 0) * 1e9)
        var pause: UInt32 = 100
        while lastSequence.load(ordering: .acquiring) < sequence {
            try checkOpen()
            guard WallClock.monotonicNanoseconds() < deadline else {
                throw StrataError.timedOut(
                    reason: "sequence \(sequence) was not applied within \(timeout) s (the database is at \(lastSequence.load(ordering: .acquiring)))")
            }
            // Replicas apply in batches every poll: a short, growing pause is enough.
            usleep(pause)
            pause = min(pause * 2, 5_000)
        }
    }

    /// The values of many keys read at one consistent point (`snapshot`, or the latest data when
    /// the call starts), in the order of `keys`; `nil` for a key with no value.
    ///
    /// - Throws: as `get(_:)`, for the first key that fails.
    public func batchGet<Key: BytesConvertible>(_ keys: [Key], at snapshot: Snapshot? = nil) throws -> [[UInt8]?] {
        try batchGet(keys, at: snapshot, keyspace: KeyspaceDescriptor.defaultID)
    }

    /// `batchGet(_:at:)` in keyspace `keyspace` (0: the default one): one read view for all keys.
    func batchGet<Key: BytesConvertible>(_ keys: [Key], at snapshot: Snapshot?, keyspace: UInt32) throws -> [[UInt8]?] {
        try checkOpen()
        let view = try readView(at: snapshot, keyspace: keyspace)
        return try keys.map { key in try key.withUnsafeBytes { try get(rawKey: $0, in: view) } }
    }

    /// A snapshot of the latest data. Reads at it see exactly what was acknowledged before this
    /// call. Released when the last reference to it goes.
    ///
    /// On a replica the snapshot also holds the tables and memtables it reads (the replica
    /// installs the primary's newer tables meanwhile), so it pins their memory and local files.
    public func snapshot() throws -> Snapshot {
        try checkOpen()
        if isReplica { return Snapshot(pinning: wholeReadView(at: nil), list: snapshots) }
        return Snapshot(latest: { lastSequence.load(ordering: .acquiring) }, list: snapshots)
    }

    /// A cursor over the keys, honouring the options' snapshot and bounds. Call a seek first.
    ///
    /// A cursor reads on the calling thread (and may block on table reads); for Swift
    /// concurrency, `scan` gives an `AsyncSequence` that reads on dedicated threads.
    public func cursor(_ options: ReadOptions = ReadOptions()) throws -> Cursor {
        try checkOpen()
        if let minimum = options.minSequence { try waitForSequence(minimum, timeout: options.minSequenceTimeout) }
        return try Cursor(database: self, options: options)
    }

    /// The entries with keys in `[from, to)` (unbounded when `nil`), in key order or reversed.
    ///
    /// ```swift
    /// for try await (key, value) in db.scan(from: "a", to: "b") { … }   // async, back-pressured
    /// try db.scan(prefix: "user:").forEach { key, value in … }          // synchronous
    /// ```
    @inlinable
    public func scan<From: BytesConvertible, To: BytesConvertible>(
        from lowerBound: From? = [UInt8]?.none, to upperBound: To? = [UInt8]?.none, at snapshot: Snapshot? = nil, reverse: Bool = false
    ) -> ScanSequence {
        ScanSequence(database: self, options: ReadOptions(snapshot: snapshot, from: lowerBound, to: upperBound), reverse: reverse)
    }

    /// The entries whose keys start with `prefix`, in key order or reversed.
    public func scan(prefix: some BytesConvertible, at snapshot: Snapshot? = nil, reverse: Bool = false) -> ScanSequence {
        let start = prefix.withUnsafeBytes { Array($0) }
        return ScanSequence(
            database: self, options: ReadOptions(snapshot: snapshot, from: start.isEmpty ? nil : start, to: KeyRange.prefixEnd(start)),
            reverse: reverse)
    }
}
