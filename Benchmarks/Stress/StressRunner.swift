#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Engine
import Synchronization
import VFS

/// Runs the stress workload: threads doing a random mix of writes and checked reads over a
/// bounded key space, recording every write in the expected state before and after the engine
/// acknowledges it.
final class StressRunner: @unchecked Sendable {
    // @unchecked: the mutable parts are `failures` (a Mutex) and the expected state, whose
    // entries are written under the key locks.
    let database: Database
    let state: ExpectedState
    let locks: KeyLocks
    let keyCount: Int
    let sync: Bool
    let accounts: Int
    let operations = Atomic<UInt64>(0)
    let transfers = Atomic<UInt64>(0)
    let writesInFlight = Atomic<Int>(0)
    let failures = Mutex<[String]>([])

    init(database: Database, state: ExpectedState, locks: KeyLocks, sync: Bool, accounts: Int) {
        self.database = database
        self.state = state
        self.locks = locks
        self.keyCount = state.keyCount
        self.sync = sync
        self.accounts = accounts
    }

    /// Creates the bank accounts, each with the initial balance, in one synced batch — unless
    /// an earlier run did.
    func openAccounts() throws {
        guard accounts > 0, try database.get(StressValues.account(0)) == nil else { return }
        var batch = WriteBatch()
        for index in 0..<accounts { batch.put(StressValues.account(index), String(StressValues.initialBalance)) }
        try database.write(batch, options: WriteOptions(sync: true))
    }

    /// Moves a random amount between two accounts in a synced transaction of a random isolation
    /// level (retried on conflicts; an error after the retries is a failure of the test).
    private func transfer(_ random: inout SplitMix64) throws {
        let from = Int(random.next() % UInt64(accounts))
        var to = Int(random.next() % UInt64(accounts - 1))
        if to >= from { to += 1 }
        let amount = Int(random.next() % 100) + 1
        let isolation = IsolationLevel.allCases[Int(random.next() % 3)]
        let options = TransactionOptions(isolation: isolation, maxRetries: 50, lockTimeout: 2, sync: true)
        writesInFlight.add(1, ordering: .relaxed)
        defer { writesInFlight.subtract(1, ordering: .relaxed) }
        try database.transaction(options) { txn in
            func balance(_ index: Int) throws -> Int {
                let value = isolation == .pessimistic ? try txn.getForUpdate(StressValues.account(index)) : try txn.get(StressValues.account(index))
                return Int(String(decoding: value ?? [], as: UTF8.self)) ?? 0
            }
            let a = try balance(from)
            let b = try balance(to)
            try txn.put(StressValues.account(from), String(a - amount))
            try txn.put(StressValues.account(to), String(b + amount))
        }
        transfers.add(1, ordering: .relaxed)
    }

    /// Runs `threads` workers until `deadline` (monotonic nanoseconds; `.max`: until killed),
    /// plus a heartbeat that records background activity in the expected-state header.
    func run(threads: Int, deadline: UInt64, seed: UInt64) {
        let done = Atomic<Bool>(false)
        let heartbeat = Threads.start { [self] in
            while !done.load(ordering: .relaxed) {
                let activity = database.backgroundActivity
                var flags: UInt32 = 0
                if activity.flushing { flags |= 1 }
                if activity.compacting { flags |= 2 }
                if writesInFlight.load(ordering: .relaxed) > 0 { flags |= 4 }
                state.beat(flags: flags, operations: operations.load(ordering: .relaxed))
                usleep(2_000)
            }
        }
        Threads.run(threads) { [self] thread in
            var random = SplitMix64(seed: seed &+ UInt64(thread) &* 0x9E37_79B9_7F4A_7C15 &+ WallClock.monotonicNanoseconds())
            while WallClock.monotonicNanoseconds() < deadline && failures.withLock({ $0.isEmpty }) {
                do {
                    try step(&random)
                } catch {
                    fail("operation failed: \(error)")
                }
                operations.add(1, ordering: .relaxed)
            }
        }
        done.store(true, ordering: .relaxed)
        heartbeat.join()
    }

    private func fail(_ message: String) {
        failures.withLock { $0.append(message) }
    }

    /// One random operation (roughly db_stress's default mix).
    private func step(_ random: inout SplitMix64) throws {
        if accounts > 1 && random.next() % 10 == 0 { return try transfer(&random) }
        let roll = random.next() % 100
        let key = Int(random.next() % UInt64(keyCount))
        switch roll {
        case 0..<35: try write(keys: [key], deleted: [false], random: &random)
        case 35..<45: try write(keys: [key], deleted: [true], random: &random)
        case 45..<48:
            let end = Swift.min(keyCount, key + 1 + Int(random.next() % 20))
            try deleteRange(key..<end)
        case 48..<58:
            var keys = Set<Int>()
            let count = 2 + Int(random.next() % 7)
            while keys.count < count { keys.insert(Int(random.next() % UInt64(keyCount))) }
            let ordered = keys.sorted()
            try write(keys: ordered, deleted: ordered.map { _ in random.next() % 4 == 0 }, random: &random)
        case 58..<88: try checkGet(key)
        case 88..<96:
            let end = Swift.min(keyCount, key + 1 + Int(random.next() % 30))
            try checkScan(key..<end)
        default:
            try checkScan(key..<(key + 1))
        }
    }

    /// Puts or deletes `keys` in one atomic batch.
    private func write(keys: [Int], deleted: [Bool], random: inout SplitMix64) throws {
        try locks.withLocks(keys) {
            var batch = WriteBatch()
            for (key, isDelete) in zip(keys, deleted) {
                let next = ExpectedState.next(after: state.acknowledged(key), deleted: isDelete)
                state.begin(key, next)
                if isDelete {
                    batch.delete(StressValues.key(key))
                } else {
                    batch.put(StressValues.key(key), StressValues.value(key: key, version: next >> 1))
                }
            }
            writesInFlight.add(1, ordering: .relaxed)
            defer { writesInFlight.subtract(1, ordering: .relaxed) }
            // On an error the pending states stay: the write may or may not have happened.
            try database.write(batch, options: WriteOptions(sync: sync))
            for key in keys { state.commit(key) }
        }
    }

    private func deleteRange(_ range: Range<Int>) throws {
        try locks.withLocks(range) {
            for key in range { state.begin(key, ExpectedState.next(after: state.acknowledged(key), deleted: true)) }
            writesInFlight.add(1, ordering: .relaxed)
            defer { writesInFlight.subtract(1, ordering: .relaxed) }
            try database.deleteRange(from: StressValues.key(range.lowerBound), to: StressValues.key(range.upperBound), options: WriteOptions(sync: sync))
            for key in range { state.commit(key) }
        }
    }

    /// Under the key's lock no write is in flight, so the read must show exactly the
    /// acknowledged state.
    private func checkGet(_ key: Int) throws {
        try locks.withLocks([key]) {
            let value = try database.get(StressValues.key(key))
            if let problem = StressCheck.mismatch(key: key, value: value, allowed: [state.acknowledged(key)]) {
                fail("get: \(problem)")
            }
        }
    }

    /// Takes a snapshot while holding the range's locks (so the expected states are exactly
    /// those at the snapshot), then scans the range at the snapshot outside the locks, while
    /// other threads keep writing.
    private func checkScan(_ range: Range<Int>) throws {
        let (snapshot, expected) = try locks.withLocks(range) {
            (try database.snapshot(), range.map { state.acknowledged($0) })
        }
        var seen = Set<Int>()
        var entries = database.scan(from: StressValues.key(range.lowerBound), to: StressValues.key(range.upperBound), at: snapshot).makeIterator()
        while let (key, value) = try entries.next() {
            guard let index = StressValues.index(of: key), range.contains(index) else {
                fail("scan of \(range): key \(String(decoding: key, as: UTF8.self)) outside the range")
                return
            }
            seen.insert(index)
            if let problem = StressCheck.mismatch(key: index, value: value, allowed: [expected[index - range.lowerBound]]) {
                fail("scan at snapshot: \(problem)")
            }
        }
        for index in range where !seen.contains(index) {
            if let problem = StressCheck.mismatch(key: index, value: nil, allowed: [expected[index - range.lowerBound]]) {
                fail("scan at snapshot: \(problem)")
            }
        }
        if range.count == 1, let key = range.first {
            let value = try database.get(StressValues.key(key), at: snapshot)
            if let problem = StressCheck.mismatch(key: key, value: value, allowed: [expected[0]]) {
                fail("get at snapshot: \(problem)")
            }
        }
    }
}

/// Comparing what the database returned for a key with the states it may have.
enum StressCheck {
    /// `nil` when `value` (nil: absent) shows one of the `allowed` states; otherwise why not.
    /// A 0 in `allowed` means "never written" (pass a pending state only when there is one).
    static func mismatch(key: Int, value: [UInt8]?, allowed: [UInt32]) -> String? {
        if let value {
            guard let version = StressValues.version(of: value, key: key) else {
                return "key \(key): damaged or foreign value of \(value.count) bytes"
            }
            if allowed.contains(version << 1) { return nil }
            return "key \(key): found v\(version), expected \(allowed.map(StressValues.describe).joined(separator: " or "))"
        }
        if allowed.contains(where: { $0 == 0 || $0 & 1 == 1 }) { return nil }
        return "key \(key): absent, expected \(allowed.map(StressValues.describe).joined(separator: " or "))"
    }
}
