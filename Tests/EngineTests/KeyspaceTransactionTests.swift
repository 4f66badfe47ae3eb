import Synchronization
import Testing
import Encoding
import Strata
import VFS

/// Transactions over several keyspaces: one atomic commit, and checks and locks that tell the
/// same key of two keyspaces apart.
@Suite struct KeyspaceTransactionTests {
    @Test func aTransactionReadsAndWritesSeveralKeyspacesAndCommitsThemTogether() throws {
        let memory = MemoryFileSystem()
        let db = try Database.open(at: "/db", options: testOptions(memory))
        let accounts = try db.keyspace("accounts")
        let audit = try db.keyspace("audit")
        try accounts.put("a", "100")
        try db.put("a", "default")
        let txn = try db.beginTransaction()
        #expect(try txn.get("a", as: String.self, in: accounts) == "100")
        #expect(try txn.get("a", as: String.self) == "default")
        try txn.put("a", "90", in: accounts)
        try txn.put("a→b", "10", in: audit)
        try txn.delete("a")
        // Its own writes, per keyspace, in reads and scans.
        #expect(try txn.get("a", as: String.self, in: accounts) == "90")
        #expect(try txn.get("a", in: audit) == nil)
        #expect(try txn.get("a") == nil)
        var scan = try txn.scan(in: audit)
        #expect(try scan.next()?.key == bytes("a→b"))
        #expect(try scan.next() == nil)
        // Nothing is visible before the commit...
        #expect(try accounts.get("a", as: String.self) == "100" && audit.get("a→b") == nil)
        try txn.commit()
        // ...and everything after it.
        #expect(try accounts.get("a", as: String.self) == "90")
        #expect(try audit.get("a→b", as: String.self) == "10")
        #expect(try db.get("a") == nil)
        try db.close()
        let reopened = try Database.open(at: "/db", options: testOptions(memory))
        #expect(try reopened.keyspace("audit").get("a→b", as: String.self) == "10")
        try reopened.close()

        let other = try Database.open(at: "/other", options: testOptions(memory))
        let foreign = try other.keyspace("accounts")
        let db2 = try Database.open(at: "/db", options: testOptions(memory))
        #expect(throws: StrataError.self) { try db2.beginTransaction().put("x", "y", in: foreign) }
        try db2.close()
        try other.close()
    }

    @Test func theSameKeyInTwoKeyspacesDoesNotConflictButInOneItDoes() throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        let left = try db.keyspace("left")
        let right = try db.keyspace("right")
        for isolation in [IsolationLevel.serializable, .snapshot] {
            try left.put("k", "0")
            try right.put("k", "0")
            let first = try db.beginTransaction(TransactionOptions(isolation: isolation))
            _ = try first.getForUpdate("k", in: left)
            try first.put("k", "1", in: left)
            try right.put("k", "changed")  // another keyspace: no conflict
            try db.put("k", "changed")  // the default keyspace: no conflict either
            try first.commit()
            let second = try db.beginTransaction(TransactionOptions(isolation: isolation))
            _ = try second.getForUpdate("k", in: left)
            try second.put("k", "2", in: left)
            try left.put("k", "changed")  // the same keyspace: conflict
            #expect(throws: StrataError.self) { try second.commit() }
            #expect(try left.get("k", as: String.self) == "changed")
        }
        // A range read in one keyspace conflicts with a phantom there only.
        let counter = try db.beginTransaction()
        var scan = try counter.scan(prefix: "order:", in: left)
        while try scan.next() != nil {}
        try counter.put("summary", "0 orders")
        try right.put("order:1", "x")
        try counter.commit()
        let again = try db.beginTransaction()
        var rescan = try again.scan(prefix: "order:", in: left)
        while try rescan.next() != nil {}
        try again.put("summary", "0 orders")
        try left.put("order:1", "x")
        #expect(throws: StrataError.self) { try again.commit() }
        // Range deletes in one group: a transaction's range delete in one keyspace does not
        // meet a plain write of another.
        let deleting = try db.beginTransaction()
        try deleting.deleteRange(from: "a", to: "z", in: right)
        try left.put("m", "1")
        try deleting.commit()
        #expect(try right.get("k") == nil && left.get("m") != nil)
        try db.close()
    }

    @Test func pessimisticLocksAreTakenPerKeyspace() throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        let a = try db.keyspace("a")
        let b = try db.keyspace("b")
        let options = TransactionOptions(isolation: .pessimistic, lockTimeout: 0.05)
        let holder = try db.beginTransaction(options)
        try holder.put("k", "1", in: a)
        let other = try db.beginTransaction(options)
        try other.put("k", "2", in: b)  // another keyspace's key: not locked
        try other.put("k", "3")  // nor is the default keyspace's
        #expect(throws: StrataError.self) { try other.put("k", "4", in: a) }  // this one is held
        try other.commit()
        try holder.commit()
        #expect(try a.get("k", as: String.self) == "1")
        #expect(try b.get("k", as: String.self) == "2")
        #expect(try db.get("k", as: String.self) == "3")
        try db.close()
    }

    @Test func aKeyspaceDroppedDuringATransactionRefusesItsCommitAlone() throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        let doomed = try db.keyspace("doomed")
        let txn = try db.beginTransaction()
        try txn.put("x", "1", in: doomed)
        let reader = try db.beginTransaction()
        _ = try reader.get("y", in: doomed)
        try reader.put("z", "1")
        try db.dropKeyspace("doomed")
        #expect(throws: StrataError.self) { try txn.commit() }
        #expect(throws: StrataError.self) { try reader.commit() }
        // The database goes on.
        try db.put("after", "ok")
        #expect(try db.get("after", as: String.self) == "ok")
        #expect(try db.keyspace("doomed").get("x") == nil)
        try db.close()
    }

    /// Transfers between accounts spread over two keyspaces, from 4 threads with retries: the
    /// total over both keyspaces never changes.
    @Test func concurrentTransfersAcrossKeyspacesPreserveTheTotal() throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        let spaces = try [db.keyspace("east"), db.keyspace("west")]
        for space in spaces {
            for account in 0..<8 { try space.put("acct\(account)", "100") }
        }
        let failures = Atomic<Int>(0)
        let threads = (0..<4).map { thread in
            Threads.start {
                var random = SplitMix64(seed: UInt64(thread) &+ 99)
                for _ in 0..<150 {
                    let from = (spaces[Int(random.next() % 2)], "acct\(random.next() % 8)")
                    let to = (spaces[Int(random.next() % 2)], "acct\(random.next() % 8)")
                    do {
                        try db.transaction { txn in
                            let a = Int(try txn.get(from.1, as: String.self, in: from.0)!)!
                            let b = Int(try txn.get(to.1, as: String.self, in: to.0)!)!
                            if from.0 === to.0 && from.1 == to.1 { return }
                            try txn.put(from.1, String(a - 1), in: from.0)
                            try txn.put(to.1, String(b + 1), in: to.0)
                        }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        for thread in threads { thread.join() }
        var total = 0
        for space in spaces {
            for (_, value) in try space.scan().collect() { total += Int(String(decoding: value, as: UTF8.self))! }
        }
        #expect(total == 1_600)
        #expect(failures.load(ordering: .relaxed) == 0)
        try db.close()
    }
}
