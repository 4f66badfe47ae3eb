/// How a transaction is isolated from concurrent writes. See `Docs/TRANSACTIONS.md` for the
/// anomalies each level prevents.
public enum IsolationLevel: String, Sendable, CaseIterable {
    /// Optimistic serializable snapshot isolation: no locks while running; at commit, every key
    /// read, every range scanned and every key written is checked against everything committed
    /// after the transaction's snapshot (plain writes included). Any change → a conflict.
    case serializable
    /// Optimistic snapshot isolation: only the keys written (and `getForUpdate` keys) are
    /// checked at commit, so there are no lost updates, but write skew is possible.
    case snapshot
    /// Pessimistic: writes and `getForUpdate` take per-key locks held until commit or rollback;
    /// waits time out (`lockTimeout`) and deadlocks are detected at once.
    case pessimistic
}

/// Options of one transaction.
public struct TransactionOptions: Sendable {
    /// The isolation level. Default `.serializable`.
    public var isolation: IsolationLevel
    /// How often `Database.transaction(_:_:)` runs the body again after a conflict, a deadlock
    /// or a lock timeout, before it throws the error. Default 10.
    public var maxRetries: Int
    /// The longest a pessimistic lock request waits (seconds). Default 1.
    public var lockTimeout: Double
    /// Detect deadlocks when a pessimistic lock request would wait. Default `true`.
    public var deadlockDetection: Bool
    /// A pessimistic transaction that has held locks for longer than this (seconds) can have
    /// them taken by a waiting transaction; it then fails with `.transactionConflict` at its
    /// next call or at commit. `nil` (the default): locks are held until commit or rollback.
    public var expiration: Double?
    /// Whether the commit is synced (`WriteOptions.sync`); `nil` uses `Options.syncWrites`.
    public var sync: Bool?

    /// Creates options.
    public init(
        isolation: IsolationLevel = .serializable, maxRetries: Int = 10, lockTimeout: Double = 1,
        deadlockDetection: Bool = true, expiration: Double? = nil, sync: Bool? = nil
    ) {
        self.isolation = isolation
        self.maxRetries = maxRetries
        self.lockTimeout = lockTimeout
        self.deadlockDetection = deadlockDetection
        self.expiration = expiration
        self.sync = sync
    }

    /// Checks the options.
    func validate() throws {
        guard maxRetries >= 0 else { throw StrataError.invalidArgument("maxRetries must not be negative") }
        guard lockTimeout >= 0 && lockTimeout.isFinite else { throw StrataError.invalidArgument("lockTimeout must be a non-negative number of seconds") }
        if let expiration, !(expiration > 0 && expiration.isFinite) { throw StrataError.invalidArgument("expiration must be a positive number of seconds") }
    }
}
