#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Encoding
import Strata
import VFS

/// The transaction API, the anomalies each isolation level prevents, and pessimistic locking.
@Suite struct TransactionTests {
    func open() throws -> Database {
        try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
    }

    @Test func readsSeeTheSnapshotAndTheTransactionsOwnWrites() throws {
        let db = try open()
        defer { try? db.close() }
        for key in ["a", "b", "c", "d"] { try db.put(key, key.uppercased()) }
        let txn = try db.beginTransaction()
        try db.put("a", "changed outside")  // after the snapshot: not seen
        try txn.put("b", "mine")
        try txn.delete("c")
        try txn.put("e", "new")
        #expect(try txn.get("a", as: String.self) == "A")
        #expect(try txn.get("b", as: String.self) == "mine")
        #expect(try txn.get("c") == nil)
        var scan = try txn.scan()
        var seen: [String] = []
        while let (key, value) = try scan.next() { seen.append("\(String(decoding: key, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))") }
        #expect(seen == ["a=A", "b=mine", "d=D", "e=new"])
        var reverse = try txn.scan(from: "b", to: "e", reverse: true)
        var backwards: [String] = []
        while let (key, _) = try reverse.next() { backwards.append(String(decoding: key, as: UTF8.self)) }
        #expect(backwards == ["d", "b"])
        try txn.deleteRange(from: "a", to: "c")
        #expect(try txn.get("b") == nil && txn.get("a") == nil)
        try txn.put("a", "after the range delete")
        #expect(try txn.get("a", as: String.self) == "after the range delete")
        // Not visible outside before the commit.
        #expect(try db.get("e") == nil)
        // It read "a"… but then wrote it itself, so only a write-write check on "a" remains, and
        // "a" was changed outside after the snapshot: the serializable commit conflicts.
        #expect(throws: StrataError.self) { try txn.commit() }
        #expect(try db.get("e") == nil)
    }

    @Test func commitIsAtomicAndAFinishedTransactionRefusesEverything() throws {
        let db = try open()
        defer { try? db.close() }
        let txn = try db.beginTransaction()
        for index in 0..<100 { try txn.put("k\(index)", "v\(index)") }
        try txn.commit()
        #expect(try db.scan(prefix: "k").collect().count == 100)
        let ended = StrataError.invalidArgument("the transaction has already ended")
        #expect(throws: ended) { try txn.get("k1") }
        #expect(throws: ended) { try txn.put("x", "y") }
        #expect(throws: ended) { try txn.commit() }
        #expect(throws: ended) { try txn.rollback() }
        let rolledBack = try db.beginTransaction()
        try rolledBack.put("never", "written")
        try rolledBack.rollback()
        #expect(try db.get("never") == nil)
        #expect(throws: ended) { try rolledBack.scan() }
        let statistics = db.statistics
        #expect(statistics.transactionCommits == 1 && statistics.transactionRollbacks == 1)
    }

    @Test func savepointsUndoTheWritesAfterThem() throws {
        let db = try open()
        defer { try? db.close() }
        let txn = try db.beginTransaction(TransactionOptions(isolation: .snapshot))
        try txn.put("a", "1")
        try txn.setSavepoint()
        try txn.put("b", "2")
        try txn.setSavepoint()
        try txn.delete("a")
        try txn.rollbackToSavepoint()
        #expect(try txn.get("a", as: String.self) == "1" && txn.get("b", as: String.self) == "2")
        try txn.rollbackToSavepoint()
        #expect(try txn.get("b") == nil)
        #expect(throws: StrataError.self) { try txn.rollbackToSavepoint() }
        try txn.commit()
        #expect(try db.get("a", as: String.self) == "1" && db.get("b") == nil)
    }

    @Test func badInputIsRefusedWithoutEndingTheTransaction() throws {
        let db = try open()
        defer { try? db.close() }
        let txn = try db.beginTransaction()
        #expect(throws: StrataError.invalidArgument("empty key")) { try txn.put("", "x") }
        #expect(throws: StrataError.self) { try txn.deleteRange(from: "b", to: "a") }
        #expect(throws: StrataError.self) { try txn.get([UInt8](repeating: 1, count: 70_000)) }
        #expect(throws: StrataError.self) { try db.beginTransaction(TransactionOptions(maxRetries: -1)) }
        try txn.put("ok", "1")
        try txn.commit()
        #expect(try db.get("ok") != nil)
    }

    /// Two on-call doctors each check that the other is on call, then go off call.
    func writeSkew(_ isolation: IsolationLevel) throws -> (committed: Int, db: Database) {
        let db = try open()
        try db.put("doctor:alice", "on")
        try db.put("doctor:bob", "on")
        let alice = try db.beginTransaction(TransactionOptions(isolation: isolation))
        let bob = try db.beginTransaction(TransactionOptions(isolation: isolation))
        func onCall(_ txn: Transaction) throws -> Int {
            try ["doctor:alice", "doctor:bob"].filter { try txn.get($0, as: String.self) == "on" }.count
        }
        #expect(try onCall(alice) == 2 && onCall(bob) == 2)
        try alice.put("doctor:alice", "off")
        try bob.put("doctor:bob", "off")
        var committed = 0
        for txn in [alice, bob] {
            do {
                try txn.commit()
                committed += 1
            } catch StrataError.transactionConflict {}
        }
        return (committed, db)
    }

    @Test func writeSkewHappensUnderSnapshotIsolationOnlyAndNeverUnderSerializable() throws {
        let (snapshotCommits, snapshotDB) = try writeSkew(.snapshot)
        #expect(snapshotCommits == 2)  // both went off call: the anomaly snapshot isolation allows
        #expect(try snapshotDB.get("doctor:alice", as: String.self) == "off" && snapshotDB.get("doctor:bob", as: String.self) == "off")
        try snapshotDB.close()
        let (serializableCommits, serializableDB) = try writeSkew(.serializable)
        #expect(serializableCommits == 1)
        #expect(serializableDB.statistics.transactionConflicts == 1)
        try serializableDB.close()
    }

    @Test func aPhantomInAScannedRangeConflictsUnderSerializable() throws {
        let db = try open()
        defer { try? db.close() }
        for index in 0..<3 { try db.put("order:\(index)", "open") }
        let counter = try db.beginTransaction()
        var scan = try counter.scan(prefix: "order:")
        var count = 0
        while try scan.next() != nil { count += 1 }
        #expect(count == 3)
        try counter.put("summary", "\(count) open orders")
        try db.put("order:9", "open")  // a phantom in the scanned range
        #expect(throws: StrataError.self) { try counter.commit() }
        #expect(try db.get("summary") == nil)

        // A write outside the scanned range, or past where a limited scan stopped, does not.
        let partial = try db.beginTransaction()
        var limited = try partial.scan(prefix: "order:")
        _ = try limited.next()  // reads order:0 only
        try partial.put("summary", "first order seen")
        try db.put("order:5", "open")  // beyond what the scan read
        try db.put("unrelated", "x")
        try partial.commit()
        #expect(try db.get("summary", as: String.self) == "first order seen")
    }

    @Test func aLostUpdateConflictsUnderBothOptimisticLevels() throws {
        for isolation in [IsolationLevel.snapshot, .serializable] {
            let db = try open()
            try db.put("counter", "0")
            let first = try db.beginTransaction(TransactionOptions(isolation: isolation))
            let second = try db.beginTransaction(TransactionOptions(isolation: isolation))
            let a = Int(try first.get("counter", as: String.self)!)!
            let b = Int(try second.get("counter", as: String.self)!)!
            try first.put("counter", String(a + 1))
            try second.put("counter", String(b + 1))
            try first.commit()
            #expect(throws: StrataError.self) { try second.commit() }
            #expect(try db.get("counter", as: String.self) == "1")
            try db.close()
        }
    }

    /// Conflict checks read only tables newer than the snapshot and skip the lookups when
    /// nothing committed since it: a change that a flush or a compaction moved into a table
    /// is still found, under every isolation level; a transaction with no commit after its
    /// snapshot commits.
    @Test func aChangeMovedIntoATableStillConflicts() throws {
        for isolation in IsolationLevel.allCases {
            for compact in [false, true] {
                let db = try open()
                for index in 0..<50 { try db.put("old\(index)", "x") }
                try db.put("counter", "0")
                try db.flush()  // the key's first version and its neighbours are in a table
                let txn = try db.beginTransaction(TransactionOptions(isolation: isolation))
                let value = Int(try txn.getForUpdate("counter").map { String(decoding: $0, as: UTF8.self) } ?? "0")!
                if isolation == .pessimistic {
                    // The lock is taken: the plain write below must make the commit conflict.
                    try txn.put("counter", String(value + 1))
                }
                try db.put("counter", "5")
                try db.flush()
                if compact { try db.compactRange(from: "a", to: "z") }
                if isolation != .pessimistic { try txn.put("counter", String(value + 1)) }
                #expect(throws: StrataError.self, "\(isolation), compacted \(compact)") { try txn.commit() }
                #expect(try db.get("counter", as: String.self) == "5")
                // Nothing committed after this one's snapshot: it commits without lookups.
                let quiet = try db.beginTransaction(TransactionOptions(isolation: isolation))
                _ = try quiet.getForUpdate("counter")
                try quiet.put("counter", "6")
                try quiet.commit()
                #expect(try db.get("counter", as: String.self) == "6")
                try db.close()
            }
        }
    }

    @Test func theClosureAPIRetriesConflictsAndRollsBackOnThrow() throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("n", "0")
        var runs = 0
        let result = try db.transaction { txn -> Int in
            runs += 1
            let value = Int(try txn.get("n", as: String.self)!)! + 1
            if runs == 1 { try db.put("n", "10") }  // a concurrent change: the first run conflicts
            try txn.put("n", String(value))
            return value
        }
        #expect(runs == 2 && result == 11)
        #expect(try db.get("n", as: String.self) == "11")
        #expect(db.statistics.transactionRetries == 1)
        struct Abandon: Error {}
        #expect(throws: Abandon.self) {
            try db.transaction { txn in
                try txn.put("n", "never")
                throw Abandon()
            }
        }
        #expect(try db.get("n", as: String.self) == "11")
        // Retries are bounded.
        var attempts = 0
        #expect(throws: StrataError.self) {
            try db.transaction(TransactionOptions(maxRetries: 2)) { txn in
                attempts += 1
                _ = try txn.get("n")
                try db.put("n", "bump \(attempts)")
                try txn.put("n", "mine")
            }
        }
        #expect(attempts == 3)
    }

    @Test func pessimisticDeadlockPicksOneVictimWellBeforeTheTimeout() throws {
        let db = try open()
        defer { try? db.close() }
        let options = TransactionOptions(isolation: .pessimistic, lockTimeout: 5)
        let a = try db.beginTransaction(options)
        let b = try db.beginTransaction(options)
        _ = try a.getForUpdate("x")
        _ = try b.getForUpdate("y")
        let outcomes = Locked<[String: String]>([:])
        let start = WallClock.monotonicNanoseconds()
        let threads = [("a", a, "y"), ("b", b, "x")].map { name, txn, key in
            Threads.start {
                do {
                    _ = try txn.getForUpdate(key)
                    try txn.put(key, "by \(name)")
                    try txn.commit()
                    outcomes.withLock { $0[name] = "committed" }
                } catch let error as StrataError {
                    outcomes.withLock { $0[name] = "\(error)" }
                    try? txn.rollback()
                } catch {}
            }
        }
        for thread in threads { thread.join() }
        let seconds = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        let results = outcomes.withLock { $0 }
        #expect(results.values.filter { $0 == "committed" }.count == 1, "\(results)")
        let victim = results.values.first { $0 != "committed" } ?? ""
        #expect(victim.hasPrefix("deadlock:") && victim.contains("x") && victim.contains("y"), "\(victim)")
        #expect(seconds < 1, "took \(seconds) s with a 5 s lock timeout")
        #expect(db.statistics.deadlocks == 1)
    }

    @Test func aPessimisticLockWaitTimesOutAndAnExpiredHolderLosesItsLocks() throws {
        let db = try open()
        defer { try? db.close() }
        let holder = try db.beginTransaction(TransactionOptions(isolation: .pessimistic))
        try holder.put("x", "held")
        let waiter = try db.beginTransaction(TransactionOptions(isolation: .pessimistic, lockTimeout: 0.2))
        let start = WallClock.monotonicNanoseconds()
        #expect(throws: StrataError.self) { try waiter.put("x", "waiter") }
        let waited = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        #expect(waited >= 0.19 && waited < 2, "\(waited)")
        #expect(db.statistics.lockTimeouts == 1)
        // The waiter is still usable after a timeout.
        try waiter.put("y", "fine")
        try waiter.commit()
        try holder.commit()
        #expect(try db.get("x", as: String.self) == "held")

        let expiring = try db.beginTransaction(TransactionOptions(isolation: .pessimistic, expiration: 0.1))
        try expiring.put("z", "expiring")
        let taker = try db.beginTransaction(TransactionOptions(isolation: .pessimistic, lockTimeout: 5))
        try taker.put("z", "taker")  // waits until the holder expires, then takes the lock
        try taker.commit()
        #expect(throws: StrataError.self) { try expiring.commit() }
        #expect(try db.get("z", as: String.self) == "taker")
    }

    @Test func aPessimisticLockOnAKeyChangedAfterTheSnapshotConflicts() throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("k", "old")
        try db.put("other", "1")
        let txn = try db.beginTransaction(TransactionOptions(isolation: .pessimistic))
        try db.put("k", "new")  // after the snapshot, before the lock
        #expect(try txn.get("k", as: String.self) == "old")  // a plain read sees the snapshot
        // Locking it would let the transaction write over a value it never saw: refused.
        #expect(throws: StrataError.self) { try txn.getForUpdate("k") }
        #expect(throws: StrataError.self) { try txn.put("k", "lost update") }
        // An unchanged key locks and reads normally.
        #expect(try txn.getForUpdate("other") == Array("1".utf8))
        try txn.rollback()
        // Through the closure API the conflict is retried with a new snapshot.
        try db.transaction(TransactionOptions(isolation: .pessimistic)) { txn in
            let value = try txn.getForUpdate("k").map { String(decoding: $0, as: UTF8.self) } ?? ""
            try txn.put("k", value + "+1")
        }
        #expect(try db.get("k", as: String.self) == "new+1")
    }

    @Test func aPlainWriteToALockedKeyMakesThePessimisticCommitConflict() throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("k", "1")
        let txn = try db.beginTransaction(TransactionOptions(isolation: .pessimistic))
        let value = Int(String(decoding: try txn.getForUpdate("k")!, as: UTF8.self))!
        try db.put("k", "100")  // plain writes take no locks
        try txn.put("k", String(value + 1))
        #expect(throws: StrataError.self) { try txn.commit() }
        #expect(try db.get("k", as: String.self) == "100")
    }
}
