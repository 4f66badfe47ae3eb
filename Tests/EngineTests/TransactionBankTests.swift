#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Encoding
import Strata
import VFS

/// The bank: 8 threads move money between 100 accounts at random while read-only transactions
/// sum every account; the total never changes and every sum is exact. Runs for
/// `STRATA_BANK_SECONDS` (default 3) per isolation level.
@Suite(.serialized) struct TransactionBankTests {
    static let accounts = 100
    static let initial = 1_000

    static var seconds: Double {
        getenv("STRATA_BANK_SECONDS").flatMap { Double(String(cString: $0)) } ?? 3
    }

    func account(_ index: Int) -> String { "acct:" + String(index).leftPadded(to: 3) }

    /// `nil`: each transfer picks a level at random, so the levels run side by side (pessimistic
    /// locks do not hold optimistic transactions back; commits must still catch every change).
    @Test(arguments: IsolationLevel.allCases.map { Optional($0) } + [nil])
    func moneyIsNeverCreatedOrLost(_ level: IsolationLevel?) throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        defer { try? db.close() }
        var setup = WriteBatch()
        for index in 0..<Self.accounts { setup.put(account(index), String(Self.initial)) }
        try db.write(setup)
        let expectedTotal = Self.accounts * Self.initial

        let deadline = WallClock.monotonicNanoseconds() + UInt64(Self.seconds * 1e9)
        let attempts = Atomic<Int>(0)
        let commits = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let sums = Atomic<Int>(0)
        let wrongSums = Locked<[Int]>([])
        let unexpected = Locked<[String]>([])
        let transfers = (0..<8).map { thread in
            Threads.start {
                var random = SplitMix64(seed: UInt64(thread + 1))
                while WallClock.monotonicNanoseconds() < deadline {
                    let isolation = level ?? IsolationLevel.allCases[Int(random.next() % 3)]
                    let options = TransactionOptions(isolation: isolation, lockTimeout: 0.5)
                    let from = Int(random.next() % UInt64(Self.accounts))
                    var to = Int(random.next() % UInt64(Self.accounts - 1))
                    if to >= from { to += 1 }
                    let amount = Int(random.next() % 50) + 1
                    attempts.add(1, ordering: .relaxed)
                    do {
                        let txn = try db.beginTransaction(options)
                        do {
                            // Pessimistic transfers lock both accounts; optimistic ones read them.
                            let read: (String) throws -> [UInt8]? = isolation == .pessimistic ? { try txn.getForUpdate($0) } : { try txn.get($0) }
                            let a = Int(String(decoding: try read(account(from))!, as: UTF8.self))!
                            let b = Int(String(decoding: try read(account(to))!, as: UTF8.self))!
                            try txn.put(account(from), String(a - amount))
                            try txn.put(account(to), String(b + amount))
                            try txn.commit()
                            commits.add(1, ordering: .relaxed)
                        } catch let error as StrataError {
                            try? txn.rollback()
                            throw error
                        }
                    } catch StrataError.transactionConflict, StrataError.deadlock, StrataError.lockTimeout {
                        failures.add(1, ordering: .relaxed)
                    } catch {
                        unexpected.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        let auditor = Threads.start {
            while WallClock.monotonicNanoseconds() < deadline {
                do {
                    let total = try db.transaction(TransactionOptions(isolation: level ?? .serializable)) { txn -> Int in
                        var total = 0
                        var scan = try txn.scan(prefix: "acct:")
                        while let (_, value) = try scan.next() { total += Int(String(decoding: value, as: UTF8.self))! }
                        return total
                    }
                    sums.add(1, ordering: .relaxed)
                    if total != expectedTotal { wrongSums.withLock { $0.append(total) } }
                } catch {
                    unexpected.withLock { $0.append("auditor: \(error)") }
                }
            }
        }
        for thread in transfers { thread.join() }
        auditor.join()

        var total = 0
        try db.scan(prefix: "acct:").forEach { _, value in total += Int(String(decoding: value, as: UTF8.self))! }
        let statistics = db.statistics
        print("bank \(level.map { "\($0)" } ?? "mixed"): \(attempts.load(ordering: .relaxed)) transfers tried, \(commits.load(ordering: .relaxed)) committed, \(failures.load(ordering: .relaxed)) conflicts/deadlocks/timeouts; \(sums.load(ordering: .relaxed)) audits; lock waits \(statistics.lockWaits), deadlocks \(statistics.deadlocks)")
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0.prefix(3) })")
        #expect(total == expectedTotal)
        #expect(wrongSums.withLock { $0 }.isEmpty, "audits saw totals \(wrongSums.withLock { $0.prefix(5) })")
        #expect(sums.load(ordering: .relaxed) > 0 && commits.load(ordering: .relaxed) > 0)
        #expect(attempts.load(ordering: .relaxed) == commits.load(ordering: .relaxed) + failures.load(ordering: .relaxed))
        let conflicts = Int(statistics.transactionConflicts + statistics.deadlocks + statistics.lockTimeouts)
        #expect(conflicts == failures.load(ordering: .relaxed))
    }
}
