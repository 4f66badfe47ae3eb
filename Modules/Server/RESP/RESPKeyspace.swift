import Encoding
import Strata
import Synchronization

/// How RESP writes are made durable, after Redis' `appendfsync`.
public enum RESPFsync: String, Sendable, CaseIterable {
    /// Every write is synced before its reply (`WriteOptions.sync`); concurrent writers share
    /// syncs through group commit.
    case always
    /// Writes reach the log (they survive a crash of the process) and the log is synced once a
    /// second: a power failure loses at most about a second of acknowledged writes.
    case everysec
    /// Writes reach the log; syncing is left to the operating system.
    case no
}

/// The RESP front door's data in a database: every key lives under `prefix` (so RESP data never
/// mixes with what gRPC clients write elsewhere), every value is an `ExpiringValue`, and the
/// time comes from `now` (Unix milliseconds; tests substitute a manual clock).
///
/// Thread safety: every member may be used from any thread; the methods block on the engine.
final class RESPKeyspace: Sendable {
    /// Keys written through RESP are stored under these two bytes.
    static let prefix: [UInt8] = [0x00, 0x52]

    let database: Database
    let now: @Sendable () -> UInt64
    let fsync: RESPFsync
    /// Serialises read-modify-write commands on the same keys (their transactions then
    /// conflict only with writers that take no lock: blind writes and other clients).
    let locks = RESPKeyLocks()
    /// Bumped by FLUSHDB/FLUSHALL: a WATCH taken before it fails its EXEC (a range delete is
    /// invisible to per-key checks).
    let flushEpoch = Atomic<UInt64>(0)

    init(database: Database, fsync: RESPFsync, now: @escaping @Sendable () -> UInt64) {
        self.database = database
        self.fsync = fsync
        self.now = now
    }

    var writeOptions: WriteOptions { WriteOptions(sync: fsync == .always) }

    /// The engine key of RESP key `key`.
    static func storageKey(_ key: [UInt8]) -> [UInt8] {
        var bytes = prefix
        bytes.reserveCapacity(prefix.count + key.count)
        bytes.append(contentsOf: key)
        return bytes
    }

    /// The RESP key of engine key `key` (which starts with `prefix`).
    static func userKey(_ storageKey: [UInt8]) -> [UInt8] { Array(storageKey.dropFirst(prefix.count)) }

    /// The value of a stored entry, or `nil` when it expired by `now`.
    static func live(_ stored: [UInt8]?, now: UInt64) throws -> RESPValue? {
        guard let stored else { return nil }
        let (payload, expiresAt) = try ExpiringValue.decode(stored)
        if let expiresAt, expiresAt <= now { return nil }
        return RESPValue(payload: Array(payload), expiresAt: expiresAt)
    }

    /// Runs `body` as one atomic read-modify-write of `keys`: their locks held (sorted, so two
    /// commands never deadlock), inside a snapshot-isolation transaction that retries when a
    /// writer without the lock changed a key it read.
    func atomically<Result>(_ keys: [[UInt8]], _ body: (RESPTransactionStorage) throws -> Result) throws -> Result {
        let held = locks.lock(keys)
        defer { locks.unlock(held) }
        let options = TransactionOptions(isolation: .snapshot, maxRetries: 1000, sync: fsync == .always)
        return try database.transaction(options) { transaction in
            try body(RESPTransactionStorage(transaction: transaction, now: now()))
        }
    }
}

/// A live RESP value: its payload and expiry (Unix milliseconds).
struct RESPValue: Equatable {
    var payload: [UInt8]
    var expiresAt: UInt64?
}

/// Where a command reads and writes: straight to the database, or inside a transaction.
protocol RESPStorage {
    /// The time the command runs at (Unix milliseconds); fixed for one command.
    var now: UInt64 { get }
    /// The live value of `key`, `nil` when absent or expired.
    func read(_ key: [UInt8]) throws -> RESPValue?
    /// Stores `value` under `key`.
    func write(_ key: [UInt8], _ value: RESPValue) throws
    /// Removes `key`.
    func remove(_ key: [UInt8]) throws
}

/// Reads and writes inside a transaction (read-modify-write commands and MULTI/EXEC). Reads go
/// through `getForUpdate`, so a change by another writer makes the commit conflict.
struct RESPTransactionStorage: RESPStorage {
    let transaction: Transaction
    let now: UInt64

    func read(_ key: [UInt8]) throws -> RESPValue? {
        try RESPKeyspace.live(transaction.getForUpdate(RESPKeyspace.storageKey(key)), now: now)
    }

    func write(_ key: [UInt8], _ value: RESPValue) throws {
        try transaction.put(RESPKeyspace.storageKey(key), ExpiringValue.encode(value.payload, expiresAt: value.expiresAt))
    }

    func remove(_ key: [UInt8]) throws {
        try transaction.delete(RESPKeyspace.storageKey(key))
    }
}

/// Reads from the latest data and collects writes into one batch, written when a read needs
/// them or the caller calls `commit()` — so a pipeline of SETs costs one commit. Used for
/// reads and blind writes; not `Sendable` (one connection's worker uses it).
final class RESPDirectStorage: RESPStorage {
    let keyspace: RESPKeyspace
    private(set) var now: UInt64
    private var pending = WriteBatch()
    /// Bytes of keys and values collected so far.
    private(set) var pendingBytes = 0

    init(keyspace: RESPKeyspace) {
        self.keyspace = keyspace
        self.now = keyspace.now()
    }

    /// Moves the command time forward (called before each command).
    func tick() { now = keyspace.now() }

    /// Reads the latest data. The session commits collected writes before any command that
    /// reads, so a read never misses a write of its own pipeline.
    func read(_ key: [UInt8]) throws -> RESPValue? {
        try RESPKeyspace.live(keyspace.database.get(RESPKeyspace.storageKey(key)), now: now)
    }

    func write(_ key: [UInt8], _ value: RESPValue) throws {
        pending.put(RESPKeyspace.storageKey(key), ExpiringValue.encode(value.payload, expiresAt: value.expiresAt))
        pendingBytes += key.count + value.payload.count + 16
    }

    func remove(_ key: [UInt8]) throws {
        pending.delete(RESPKeyspace.storageKey(key))
        pendingBytes += key.count + 16
    }

    /// Writes the collected writes (one atomic batch).
    func commit() throws {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = WriteBatch()
        pendingBytes = 0
        try keyspace.database.write(batch, options: keyspace.writeOptions)
    }
}

/// Locks over RESP keys, each key hashed to one of `stripes` slots. A command takes all its
/// slots at once (waiting until none is held), so two commands never deadlock.
final class RESPKeyLocks: Sendable {
    private let held = Monitor<Set<Int>>([])
    private let stripes: Int

    init(stripes: Int = 4096) { self.stripes = stripes }

    /// Locks the slots of `keys`; returns them for `unlock`.
    func lock(_ keys: [[UInt8]]) -> [Int] {
        let slots = Set(keys.map(slot))
        held.wait(until: { $0.isDisjoint(with: slots) }) { $0.formUnion(slots) }
        return Array(slots)
    }

    /// Unlocks slots `lock` returned.
    func unlock(_ slots: [Int]) {
        held.withLock { $0.subtract(slots) }
        held.broadcast()
    }

    private func slot(_ key: [UInt8]) -> Int {
        // FNV-1a.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(stripes))
    }
}
