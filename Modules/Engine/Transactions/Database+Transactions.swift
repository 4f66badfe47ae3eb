#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding
import WAL

extension Database {
    /// Begins a transaction reading at a snapshot of the latest data. End it with `commit` or
    /// `rollback` (an abandoned transaction is rolled back when its last reference goes).
    ///
    /// - Throws: `.invalidArgument` for bad options; `.readOnly` in a read-only open; `.closed`.
    public func beginTransaction(_ options: TransactionOptions = TransactionOptions()) throws -> Transaction {
        try options.validate()
        try checkWritable()
        let id = nextTransactionID.add(1, ordering: .relaxed).oldValue
        if options.isolation == .pessimistic { lockTable.register(id, expiration: options.expiration) }
        return Transaction(database: self, id: id, options: options, snapshot: try snapshot())
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws, and
    /// runs it again — in a new transaction, after a short random backoff — when the commit
    /// conflicts or a lock request deadlocks or times out, up to `options.maxRetries` times
    /// (then throws that error). The body may therefore run more than once: keep side effects
    /// outside the database out of it.
    ///
    /// ```swift
    /// let balance = try db.transaction { txn -> Int in
    ///     let value = Int(try txn.get("acct:a", as: String.self) ?? "0")! + 10
    ///     try txn.put("acct:a", String(value))
    ///     return value
    /// }
    /// ```
    ///
    /// - Returns: what `body` returned in the run that committed.
    public func transaction<Result>(_ options: TransactionOptions = TransactionOptions(), _ body: (Transaction) throws -> Result) throws -> Result {
        var attempt = 0
        while true {
            let transaction = try beginTransaction(options)
            do {
                let result = try body(transaction)
                try transaction.commit()
                return result
            } catch let error as StrataError where Database.isRetryable(error) && attempt < options.maxRetries {
                try? transaction.rollback()
                attempt += 1
                counters.transactionRetries.add(1, ordering: .relaxed)
                Database.backoff(attempt)
            } catch {
                try? transaction.rollback()
                throw error
            }
        }
    }

    /// Whether a transaction failing with `error` may succeed when run again.
    static func isRetryable(_ error: StrataError) -> Bool {
        switch error {
        case .transactionConflict, .deadlock, .lockTimeout: return true
        default: return false
        }
    }

    /// Sleeps a random time that grows with `attempt` (up to about 10 ms), so that transactions
    /// that conflicted do not collide again in lockstep.
    static func backoff(_ attempt: Int) {
        let ceiling = min(10_000, 50 << min(attempt, 8))
        usleep(UInt32.random(in: UInt32(ceiling / 2)...UInt32(ceiling)))
    }

    /// Logs and applies a transaction's batch after checking `checks` (in the commit leader).
    func commit(_ batch: WriteBatch, checks: TransactionChecks, sync: Bool?) throws {
        try checkWritable()
        try batch.validate(batchLimits)
        // A transaction that wrote nothing serializes at its snapshot: nothing to check.
        guard !batch.isEmpty else { return }
        if !batch.summary.keyspaces.isEmpty { try checkKeyspacesExist(batch.summary.keyspaces) }
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        let commit = TransactionCommit(batch: batch, checks: checks, sync: sync ?? options.syncWrites)
        try queue.submit(.transaction(commit))
        if let reason = commit.refusal { throw StrataError.transactionConflict(reason: reason) }
    }

    /// The first thing in `checks` that changed after its snapshot, in words; `nil` when nothing
    /// did: the writes of earlier members of the same commit group (`groupWrites`), then every
    /// version of the keys and ranges in the latest data. Leader only.
    func conflict(_ checks: TransactionChecks, groupWrites: GroupWrites? = nil) throws -> String? {
        if let groupWrites, let reason = groupWrites.conflict(with: checks) { return reason }
        let usesNamedKeyspaces = checks.keys.contains { $0.keyspace != 0 } || checks.ranges.contains { $0.keyspace != 0 }
        if usesNamedKeyspaces {
            // A keyspace dropped since the transaction used it refuses the transaction (a drop
            // takes no sequence number, so the shortcut below would not see it) instead of
            // failing the whole group.
            let version = versionSet.currentVersion
            for key in checks.keys where version.tree(key.keyspace) == nil { return "keyspace \(key.keyspace) was dropped during the transaction" }
            for range in checks.ranges where version.tree(range.keyspace) == nil { return "keyspace \(range.keyspace) was dropped during the transaction" }
        }
        // Nothing committed after the snapshot (the leader is the only writer of sequences, and
        // every earlier group is applied): no key can have changed, and there is nothing to look up.
        // A bulk load in one thread commits every transaction this way.
        guard checks.snapshot < lastSequence.load(ordering: .acquiring) else { return nil }
        do {
            return try newerVersion(checks)
        } catch StrataError.invalidArgument(let reason) where usesNamedKeyspaces {
            // Dropped while being checked.
            return reason
        }
    }

    /// The first key or range of `checks` with a version newer than its snapshot, in words.
    private func newerVersion(_ checks: TransactionChecks) throws -> String? {
        for key in checks.keys {
            if try changed(key.bytes, after: checks.snapshot, keyspace: key.keyspace) {
                return "key \(key.printable) changed after the transaction's snapshot"
            }
        }
        guard !checks.ranges.isEmpty else { return nil }
        var cursors: [UInt32: Cursor] = [:]
        for range in checks.ranges {
            if cursors[range.keyspace] == nil {
                var options = ReadOptions()
                options.keyspaceID = range.keyspace
                cursors[range.keyspace] = try Cursor(database: self, options: options)
            }
            if try cursors[range.keyspace]!.hasChange(above: checks.snapshot, from: range.from, to: range.to) {
                return "a key in \(range.printable) changed after the transaction's snapshot"
            }
        }
        return nil
    }
}
