import Encoding
import WAL

/// An interactive transaction: reads see the database as of the transaction's snapshot plus its
/// own writes; the writes are buffered and committed as one atomic batch (all or nothing, also
/// across a crash). See `Docs/TRANSACTIONS.md`.
///
/// ```swift
/// try db.transaction { txn in
///     let from = Int(try txn.get("acct:a", as: String.self) ?? "0")!
///     let to = Int(try txn.get("acct:b", as: String.self) ?? "0")!
///     try txn.put("acct:a", String(from - 10))
///     try txn.put("acct:b", String(to + 10))
/// }   // commits; retried on a conflict
/// ```
///
/// With `.serializable` (the default) or `.snapshot` isolation nothing is locked while the
/// transaction runs; `commit` checks what it read and wrote against later commits and throws
/// `.transactionConflict` (writing nothing) when something changed. With `.pessimistic`, writes
/// and `getForUpdate` lock their keys until the end.
///
/// Every read and write takes an optional `in:` keyspace (`Keyspace`): one transaction reads and
/// writes any keyspaces of its database and commits them all in one batch; its checks and locks
/// tell the same key of two keyspaces apart.
///
/// Once committed or rolled back, every call throws `.invalidArgument`.
///
/// Thread safety: a transaction may be passed between threads and tasks, but is meant for one
/// at a time; concurrent calls are serialised.
public final class Transaction: Sendable {
    /// The transaction's number (unique within the open database).
    public let id: UInt64
    /// The options it was begun with.
    public let options: TransactionOptions
    /// The snapshot its reads see (besides its own writes).
    public let snapshot: Snapshot

    let database: Database

    struct State {
        var writes = TransactionWrites()
        /// Keys read from the database (serializable), and `getForUpdate` keys (every level).
        var readKeys: Set<TransactionKey> = []
        /// Ranges scanned from the database (serializable); a scan in progress widens its own
        /// entry as it reads.
        var readRanges: [TransactionRange] = []
        /// Keys locked (pessimistic), by their lock names (`TransactionKey.lockName`).
        var locked: [[UInt8]] = []
        var lockedSet: Set<TransactionKey> = []
        /// Keys locked, as keys (what the commit checks once more).
        var lockedKeys: [TransactionKey] = []
        /// Savepoints: the number of buffered writes at each.
        var savepoints: [Int] = []
        var finished = false
    }

    let state = Locked(State())

    init(database: Database, id: UInt64, options: TransactionOptions, snapshot: Snapshot) {
        self.database = database
        self.id = id
        self.options = options
        self.snapshot = snapshot
    }

    deinit {
        // An abandoned transaction gives its locks back (a rollback).
        let locked = state.withLock { state -> [[UInt8]] in
            guard !state.finished else { return [] }
            state.finished = true
            return state.locked
        }
        if options.isolation == .pessimistic { database.lockTable.unlock(locked, for: id) }
    }

    // MARK: - Reading

    /// The value of `key` (in `keyspace`, the default keyspace when `nil`) as the transaction
    /// sees it: its own latest write, else the database at its snapshot. Under `.serializable`
    /// the key is remembered and checked at commit.
    ///
    /// - Throws: `.invalidArgument` after commit or rollback, for a bad key, or for a keyspace of
    ///   another database or one dropped; as `Database.get`.
    public func get(_ key: some BytesConvertible, in keyspace: Keyspace? = nil) throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        let space = try keyspaceID(keyspace)
        switch try ownAnswer(for: key, keyspace: space) {
        case .value(let value): return value
        case .deleted: return nil
        case .untouched: break
        }
        let value = try key.withUnsafeBytes { try database.get(rawKey: $0, snapshot: snapshot, keyspace: space) }
        if options.isolation == .serializable { state.withLock { _ = $0.readKeys.insert(TransactionKey(key, keyspace: space)) } }
        return value
    }

    /// The value of `key` decoded as `Value` (see `get(_:in:)`).
    public func get<Value: BytesDecodable>(_ key: some BytesConvertible, as type: Value.Type, in keyspace: Keyspace? = nil) throws -> Value? {
        try get(key, in: keyspace).map { try Value(strataBytes: $0) }
    }

    /// Reads `key` (in `keyspace`, the default keyspace when `nil`) for update. Pessimistic:
    /// locks it first (waiting at most `lockTimeout`) — if a commit changed the key after the
    /// transaction's snapshot, the lock request fails with `.transactionConflict` instead (the
    /// value it would read is not the one its snapshot saw); once locked, no other commit can
    /// change it. Optimistic: reads at the snapshot and checks the key at commit under either
    /// isolation level, so a read-modify-write through `getForUpdate` never loses an update,
    /// even under `.snapshot`.
    ///
    /// - Throws: as `get`; `.lockTimeout`, `.deadlock` or `.transactionConflict` (pessimistic).
    public func getForUpdate(_ key: some BytesConvertible, in keyspace: Keyspace? = nil) throws -> [UInt8]? {
        let key = key.withUnsafeBytes { Array($0) }
        let space = try keyspaceID(keyspace)
        try checkActive()
        let tracked = TransactionKey(key, keyspace: space)
        if options.isolation == .pessimistic {
            try lock(tracked)
        } else {
            state.withLock { _ = $0.readKeys.insert(tracked) }
        }
        switch try ownAnswer(for: key, keyspace: space) {
        case .value(let value): return value
        case .deleted: return nil
        case .untouched: break
        }
        return try key.withUnsafeBytes { try database.get(rawKey: $0, snapshot: snapshot, keyspace: space) }
    }

    /// Requires that no commit changed any of `keys` (in `keyspace`, the default keyspace when
    /// `nil`) after the older snapshot `since` — Redis' `WATCH`: take a snapshot when the keys
    /// are watched, and begin the transaction that acts on them later. Checked now (throwing at
    /// once when a key already changed) and again at commit: pessimistic transactions lock the
    /// keys, optimistic ones check them at commit like keys read with `getForUpdate`.
    ///
    /// Range deletes are not seen by this check (it looks at each key's newest point entry).
    ///
    /// - Throws: `.transactionConflict` when a key changed after `since`; `.invalidArgument`
    ///   when `since` is newer than the transaction's own snapshot; as `getForUpdate`.
    public func requireUnchanged(_ keys: [[UInt8]], since: Snapshot, in keyspace: Keyspace? = nil) throws {
        try checkActive()
        let space = try keyspaceID(keyspace)
        guard since.sequence <= snapshot.sequence else {
            throw StrataError.invalidArgument("requireUnchanged: the snapshot \(since.sequence.rawValue) is newer than the transaction's \(snapshot.sequence.rawValue)")
        }
        for key in keys {
            try checkKey(key)
            let tracked = TransactionKey(key, keyspace: space)
            if options.isolation == .pessimistic {
                try lock(tracked)
            } else {
                state.withLock { _ = $0.readKeys.insert(tracked) }
            }
            if try database.changed(key, after: since.sequence.rawValue, keyspace: space) {
                database.counters.transactionConflicts.add(1, ordering: .relaxed)
                throw StrataError.transactionConflict(reason: "key \(tracked.printable) changed after the watched snapshot")
            }
        }
    }

    /// The entries with keys in `[from, to)` (of `keyspace`, the default keyspace when `nil`) as
    /// the transaction sees them: the database at its snapshot merged with its own writes, in
    /// key order (or reversed). Under `.serializable` the part of the range actually read is
    /// remembered and checked at commit.
    ///
    /// Reads on the calling thread; the scan is fixed when it is created (later writes of the
    /// transaction are not seen by it).
    public func scan<From: BytesConvertible, To: BytesConvertible>(
        from start: From? = [UInt8]?.none, to end: To? = [UInt8]?.none, in keyspace: Keyspace? = nil, reverse: Bool = false
    ) throws -> TransactionScan {
        try checkActive()
        let space = try keyspaceID(keyspace)
        let low = start.map { $0.withUnsafeBytes { Array($0) } }
        let high = end.map { $0.withUnsafeBytes { Array($0) } }
        var readOptions = ReadOptions(snapshot: snapshot, from: low, to: high)
        readOptions.keyspaceID = space
        let cursor = try database.cursor(readOptions)
        let (keys, writes) = state.withLock { ($0.writes.pointKeys(from: low, to: high, keyspace: space), $0.writes) }
        let tracked = options.isolation == .serializable ? state.withLock { state -> Int in
            state.readRanges.append(TransactionRange(keyspace: space, from: low ?? [], to: low ?? []))  // nothing read yet
            return state.readRanges.count - 1
        } : nil
        return TransactionScan(
            transaction: self, cursor: cursor, writes: writes, keyspace: space, ownKeys: keys, from: low, to: high, reverse: reverse, trackedRange: tracked)
    }

    /// The entries whose keys start with `prefix` (see `scan(from:to:in:reverse:)`).
    public func scan(prefix: some BytesConvertible, in keyspace: Keyspace? = nil, reverse: Bool = false) throws -> TransactionScan {
        let start = prefix.withUnsafeBytes { Array($0) }
        return try scan(from: start.isEmpty ? nil : start, to: KeyRange.prefixEnd(start), in: keyspace, reverse: reverse)
    }

    // MARK: - Writing

    /// Buffers a put of `value` under `key` (in `keyspace`, the default keyspace when `nil`;
    /// pessimistic: locks the key first, refusing with `.transactionConflict` a key changed
    /// after the snapshot, as `getForUpdate` does).
    ///
    /// - Throws: `.invalidArgument` for an empty or oversized key or value, or after the end;
    ///   `.lockTimeout`, `.deadlock` or `.transactionConflict` (pessimistic).
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, in keyspace: Keyspace? = nil) throws {
        let key = key.withUnsafeBytes { Array($0) }
        let value = value.withUnsafeBytes { Array($0) }
        let space = try keyspaceID(keyspace)
        try checkKey(key)
        guard value.count <= database.options.maxValueSize else {
            throw StrataError.invalidArgument("value of \(value.count) bytes exceeds maxValueSize \(database.options.maxValueSize)")
        }
        try checkActive()
        if options.isolation == .pessimistic { try lock(TransactionKey(key, keyspace: space)) }
        try buffer(.put(key: key, value: value, keyspace: space))
    }

    /// Buffers a delete of `key` (in `keyspace`; pessimistic: locks the key first).
    public func delete(_ key: some BytesConvertible, in keyspace: Keyspace? = nil) throws {
        let key = key.withUnsafeBytes { Array($0) }
        let space = try keyspaceID(keyspace)
        try checkKey(key)
        try checkActive()
        if options.isolation == .pessimistic { try lock(TransactionKey(key, keyspace: space)) }
        try buffer(.delete(key: key, keyspace: space))
    }

    /// Buffers a delete of every key in `[from, to)` (of `keyspace`). The range counts as
    /// written: a commit of any key in it after the snapshot makes this transaction conflict
    /// (at every isolation level; pessimistic transactions do not lock ranges).
    ///
    /// - Throws: `.invalidArgument` when `from >= to` or a bound is empty or oversized.
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, in keyspace: Keyspace? = nil) throws {
        let low = start.withUnsafeBytes { Array($0) }
        let high = end.withUnsafeBytes { Array($0) }
        let space = try keyspaceID(keyspace)
        try checkKey(low)
        try checkKey(high)
        guard BytewiseComparator.compare(low, high) < 0 else {
            throw StrataError.invalidArgument("range delete start must sort before its end")
        }
        try checkActive()
        try buffer(.deleteRange(from: low, to: high, keyspace: space))
    }

    // MARK: - Savepoints and the end

    /// Marks the current state of the transaction's writes; `rollbackToSavepoint()` returns to it.
    /// Savepoints nest.
    public func setSavepoint() throws {
        try checkActive()
        state.withLock { $0.savepoints.append($0.writes.operations.count) }
    }

    /// Undoes every write since the most recent savepoint and removes that savepoint. Keys read
    /// and locks taken since then are kept (a conflict stays a conflict; locks are released at
    /// the end).
    ///
    /// - Throws: `.invalidArgument` when there is no savepoint, or after the end.
    public func rollbackToSavepoint() throws {
        try checkActive()
        try state.withLock { state in
            guard let count = state.savepoints.popLast() else {
                throw StrataError.invalidArgument("no savepoint to roll back to")
            }
            state.writes.truncate(to: count)
        }
    }

    /// Discards every write and releases the locks. Idempotent only in the sense that a second
    /// call throws `.invalidArgument`.
    public func rollback() throws {
        let locked = try state.withLock { state -> [[UInt8]] in
            guard !state.finished else { throw StrataError.invalidArgument("the transaction has already ended") }
            state.finished = true
            return state.locked
        }
        if options.isolation == .pessimistic { database.lockTable.unlock(locked, for: id) }
        database.counters.transactionRollbacks.add(1, ordering: .relaxed)
    }

    /// Commits: checks the transaction against later commits (optimistic levels) and writes its
    /// writes as one atomic batch. The transaction ends whatever the outcome.
    ///
    /// - Parameter sync: make the commit durable against power loss before returning (`nil`:
    ///   the options' `sync`, else `Options.syncWrites`).
    /// - Throws: `.transactionConflict` (nothing written) when something it read or wrote
    ///   changed after its snapshot, or a keyspace it used was dropped; `.invalidArgument` after
    ///   the end; as `Database.write`.
    public func commit(sync: Bool? = nil) throws {
        let (writes, readKeys, readRanges, locked, lockedKeys) = try state.withLock { state in
            guard !state.finished else { throw StrataError.invalidArgument("the transaction has already ended") }
            state.finished = true
            return (state.writes, state.readKeys, state.readRanges, state.locked, state.lockedKeys)
        }
        defer { if options.isolation == .pessimistic { database.lockTable.unlock(locked, for: id) } }
        if options.isolation == .pessimistic && database.lockTable.isExpired(id) {
            database.counters.transactionConflicts.add(1, ordering: .relaxed)
            throw StrataError.transactionConflict(reason: "the transaction expired and its locks were taken")
        }
        var checks = TransactionChecks(snapshot: snapshot.sequence.rawValue)
        // Optimistic levels check every key read or written, each once.
        let readOrWritten = { Array(readKeys) + writes.writtenKeys.lazy.filter { !readKeys.contains($0) } }
        switch options.isolation {
        case .serializable:
            checks.keys = readOrWritten()
            checks.ranges = readRanges + writes.deletedRanges
        case .snapshot:
            checks.keys = readOrWritten()
            checks.ranges = writes.deletedRanges
        case .pessimistic:
            // Locked keys were unchanged since the snapshot when they were locked, and no other
            // pessimistic transaction can change them while locked — but plain writes and
            // optimistic transactions take no locks, so the keys are checked once more here.
            checks.keys = lockedKeys
            checks.ranges = writes.deletedRanges
        }
        do {
            try database.commit(writes.batch, checks: checks, sync: sync ?? options.sync)
        } catch let error as StrataError {
            if case .transactionConflict = error { database.counters.transactionConflicts.add(1, ordering: .relaxed) }
            throw error
        }
        database.counters.transactionCommits.add(1, ordering: .relaxed)
    }

    // MARK: - Internal

    func checkActive() throws {
        try database.checkOpen()
        let finished = state.withLock { $0.finished }
        if finished { throw StrataError.invalidArgument("the transaction has already ended") }
        if options.isolation == .pessimistic && database.lockTable.isExpired(id) {
            throw StrataError.transactionConflict(reason: "the transaction expired and its locks were taken")
        }
    }

    /// The id of `keyspace` (0 for `nil`, the default keyspace).
    ///
    /// - Throws: `.invalidArgument` for a keyspace of another database.
    private func keyspaceID(_ keyspace: Keyspace?) throws -> UInt32 {
        guard let keyspace else { return 0 }
        guard keyspace.database === database else {
            throw StrataError.invalidArgument("keyspace \"\(keyspace.name)\" belongs to another database")
        }
        return keyspace.id
    }

    private func checkKey(_ key: [UInt8]) throws {
        guard !key.isEmpty else { throw StrataError.invalidArgument("empty key") }
        guard key.count <= database.options.maxKeySize else {
            throw StrataError.invalidArgument("key of \(key.count) bytes exceeds maxKeySize \(database.options.maxKeySize)")
        }
    }

    private func ownAnswer(for key: [UInt8], keyspace: UInt32) throws -> TransactionWrites.Answer {
        try checkKey(key)
        try checkActive()
        return state.withLock { $0.writes.answer(for: key, keyspace: keyspace) }
    }

    private func buffer(_ operation: TransactionWrites.Operation) throws {
        let limit = database.options.maxBatchSize
        try state.withLock { state in
            state.writes.append(operation)
            // The commit is one log record: refuse to grow past what one can hold.
            if state.writes.batchBytes > limit {
                state.writes.truncate(to: state.writes.operations.count - 1)
                throw StrataError.invalidArgument("the transaction's writes exceed maxBatchSize \(limit)")
            }
        }
    }

    private func lock(_ key: TransactionKey) throws {
        let held = state.withLock { $0.lockedSet.contains(key) }
        guard !held else { return }
        let name = key.lockName
        do {
            let taken = try database.lockTable.lock(
                name, for: id, timeout: options.lockTimeout, detectDeadlocks: options.deadlockDetection,
                onWait: { database.counters.lockWaits.add(1, ordering: .relaxed) })
            guard taken else { return }
            // The transaction reads at its snapshot: a key changed since then would be written
            // over a value it did not see (a lost update). Refuse, as RocksDB does with a
            // snapshot, and let the lock go again (a later request checks again).
            let changed: Bool
            do {
                changed = try database.changed(key.bytes, after: snapshot.sequence.rawValue, keyspace: key.keyspace)
            } catch {
                database.lockTable.unlock([name], for: id, forgetting: false)
                throw error
            }
            if changed {
                database.lockTable.unlock([name], for: id, forgetting: false)
                database.counters.transactionConflicts.add(1, ordering: .relaxed)
                throw StrataError.transactionConflict(reason: "key \(key.printable) changed after the transaction's snapshot")
            }
            state.withLock { state in
                state.locked.append(name)
                state.lockedSet.insert(key)
                state.lockedKeys.append(key)
            }
        } catch let error as StrataError {
            switch error {
            case .deadlock: database.counters.deadlocks.add(1, ordering: .relaxed)
            case .lockTimeout: database.counters.lockTimeouts.add(1, ordering: .relaxed)
            default: break
            }
            throw error
        }
    }

    /// Widens the serializable read range `index` to cover what a scan has read so far.
    func recordScanned(_ index: Int, from: [UInt8]?, to: [UInt8]?) {
        state.withLock { state in
            guard index < state.readRanges.count else { return }
            state.readRanges[index].from = from ?? []
            state.readRanges[index].to = to
        }
    }
}

/// What a commit must check, in the commit leader, against everything committed after the
/// transaction's snapshot.
struct TransactionChecks: Sendable {
    /// The transaction's snapshot.
    var snapshot: UInt64
    /// Keys whose newest version must not be newer than the snapshot.
    var keys: [TransactionKey] = []
    /// Ranges in which no version may be newer.
    var ranges: [TransactionRange] = []

    var isEmpty: Bool { keys.isEmpty && ranges.isEmpty }
}
