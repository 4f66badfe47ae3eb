import Testing
import Strata
import VFS

/// `Transaction.requireUnchanged(_:since:)`: Redis' WATCH on top of the transaction machinery.
@Suite struct TransactionWatchTests {
    func open() throws -> Database {
        try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
    }

    func isConflict(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch StrataError.transactionConflict {
            return true
        } catch {
            return false
        }
    }

    @Test(arguments: IsolationLevel.allCases)
    func aKeyChangedAfterTheWatchSnapshotFailsAtOnceAndUnchangedKeysPass(isolation: IsolationLevel) throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("watched", "1")
        try db.put("quiet", "1")
        let watch = try db.snapshot()
        try db.put("watched", "2")  // after the watch, before the transaction
        let txn = try db.beginTransaction(TransactionOptions(isolation: isolation))
        try txn.requireUnchanged([Array("quiet".utf8)], since: watch)
        #expect(isConflict { try txn.requireUnchanged([Array("watched".utf8)], since: watch) })
        try txn.rollback()
    }

    @Test(arguments: [IsolationLevel.serializable, .snapshot])
    func aChangeAfterTheCheckFailsTheOptimisticCommit(isolation: IsolationLevel) throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("k", "1")
        let watch = try db.snapshot()
        let txn = try db.beginTransaction(TransactionOptions(isolation: isolation))
        try txn.requireUnchanged([Array("k".utf8)], since: watch)
        try txn.put("other", "x")
        try db.put("k", "2")  // between the check and the commit
        #expect(isConflict { try txn.commit() })
        #expect(try db.get("other") == nil)  // nothing written
    }

    @Test func aPessimisticTransactionLocksTheWatchedKeysUntilItEnds() throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("k", "1")
        let watch = try db.snapshot()
        let txn = try db.beginTransaction(TransactionOptions(isolation: .pessimistic))
        try txn.requireUnchanged([Array("k".utf8)], since: watch)
        // Another pessimistic transaction cannot take the key meanwhile.
        let other = try db.beginTransaction(TransactionOptions(isolation: .pessimistic, lockTimeout: 0.05))
        #expect(throws: StrataError.self) { _ = try other.getForUpdate("k") }
        try other.rollback()
        try txn.put("k", "3")
        try txn.commit()
        #expect(try db.get("k", as: String.self) == "3")
    }

    @Test func aWatchSnapshotNewerThanTheTransactionIsRefused() throws {
        let db = try open()
        defer { try? db.close() }
        let txn = try db.beginTransaction()
        try db.put("k", "1")
        let newer = try db.snapshot()
        #expect(throws: StrataError.self) { try txn.requireUnchanged([Array("k".utf8)], since: newer) }
    }
}
