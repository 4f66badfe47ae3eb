// strata-stress: a db_stress-style workload with an expected state that survives SIGKILL.
// `make crash-test` drives it; see Docs/RELIABILITY.md.
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Encoding
import Engine
import VFS

struct StrataStress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata-stress",
        abstract: "Random concurrent operations checked against an expected state that survives kills.",
        discussion: """
            Without --verify: runs --threads workers for --duration seconds (0: until killed) doing
            puts, deletes, range deletes, atomic batches, and checked gets, scans and snapshot reads.
            With --accounts N, a tenth of the operations are transfers between N bank accounts, in
            transactions (serializable, snapshot or pessimistic at random) committed with sync.
            With --verify: opens the database (recovering it), checks every key against the expected
            state — a key may show its last acknowledged version, or the version being written when
            the process died, nothing else — and that a full scan agrees, checks that the accounts
            still hold exactly the money they started with, then records what it found.
            The last line is `RESULT ...` for scripts. Exit status 1 on any failure.
            """)

    @Option(help: "Database directory.") var db: String
    @Option(help: "Expected-state file (default: <db>.expected).") var state: String?
    @Option(help: "Number of keys.") var keys = 100_000
    @Option(help: "Worker threads.") var threads = 4
    @Option(help: "Seconds to run (0: until killed).") var duration = 0.0
    @Option(help: "1: sync every write.") var sync = 0
    @Option(help: "Random seed (mixed with the clock per run).") var seed: UInt64 = 1
    @Option(name: .customLong("write-buffer-size"), help: "Memtable bytes.") var writeBufferSize = 256 << 10
    @Option(name: .customLong("target-file-size"), help: "Table file bytes.") var targetFileSize: UInt64 = 64 << 10
    @Option(name: .customLong("level-base"), help: "Level-1 target bytes.") var levelBase: UInt64 = 512 << 10
    @Option(help: "Block compression: none, lz4 or zstd.") var compression = "lz4"
    @Option(help: "Bank accounts that synced transactions move money between (0: no transfers).") var accounts = 100
    @Flag(help: "Verify and settle the expected state instead of running the workload.") var verify = false

    func options() throws -> Options {
        var options = Options()
        options.writeBufferSize = writeBufferSize
        options.targetFileSize = targetFileSize
        options.maxBytesForLevelBase = levelBase
        options.level0CompactionTrigger = 2
        options.level0SlowdownTrigger = 8
        options.level0StopTrigger = 12
        options.blockSize = 1024
        options.blockCacheSize = 1 << 20
        options.logger.logLevel = .warning
        switch compression {
        case "none": options.compression = .none
        case "lz4": options.compression = .lz4
        case "zstd": options.compression = .zstd(level: 1)
        default: throw ValidationError("--compression must be none, lz4 or zstd")
        }
        return options
    }

    func run() throws {
        guard keys > 0 && keys <= 10_000_000, threads >= 1 else { throw ValidationError("--keys 1...10000000, --threads ≥ 1") }
        let expected = try ExpectedState(path: state ?? db + ".expected", keyCount: keys)
        if verify {
            try runVerification(expected)
        } else {
            try runWorkload(expected)
        }
    }

    private func runWorkload(_ expected: ExpectedState) throws {
        let database = try Database.open(at: db, options: options())
        let runner = StressRunner(database: database, state: expected, locks: KeyLocks(), sync: sync != 0, accounts: accounts)
        try runner.openAccounts()
        let start = WallClock.monotonicNanoseconds()
        let deadline = duration > 0 ? start + UInt64(duration * 1e9) : .max
        runner.run(threads: threads, deadline: deadline, seed: seed)
        let failures = runner.failures.withLock { $0 }
        try database.close()
        let seconds = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        let operations = runner.operations.load(ordering: .relaxed)
        for failure in failures.prefix(20) { print("FAILURE \(failure)") }
        print("RESULT operations=\(operations) transfers=\(runner.transfers.load(ordering: .relaxed)) seconds=\(String(format2: seconds)) failures=\(failures.count)")
        if !failures.isEmpty { throw ExitCode(1) }
    }

    private func runVerification(_ expected: ExpectedState) throws {
        let openStart = WallClock.monotonicNanoseconds()
        let database = try Database.open(at: db, options: options())
        let openMilliseconds = Double(WallClock.monotonicNanoseconds() - openStart) / 1e6
        var failures: [String] = []
        var present = Set<Int>()
        var resolvedPending = 0
        for key in 0..<keys {
            let acknowledged = expected.acknowledged(key)
            let pending = expected.pending(key)
            let value = try database.get(StressValues.key(key))
            let allowed = pending != 0 ? [acknowledged, pending] : [acknowledged]
            if let problem = StressCheck.mismatch(key: key, value: value, allowed: allowed) {
                failures.append(problem)
                continue
            }
            // Record what survived: the state the key shows (for an absent key, a delete in
            // flight is taken as done — both states read as absent, and the newer version
            // number keeps later writes from reusing it).
            let settled: UInt32
            if let value, let version = StressValues.version(of: value, key: key) {
                settled = version << 1
            } else if pending != 0 && pending & 1 == 1 {
                settled = pending
            } else {
                settled = acknowledged
            }
            if pending != 0 { resolvedPending += 1 }
            expected.settle(key, to: settled)
            if value != nil { present.insert(key) }
        }
        // A full scan must show exactly the keys the point reads found.
        var scanned = 0
        var entries = database.scan().makeIterator()
        while let (key, value) = try entries.next() {
            if key.starts(with: StressValues.accountPrefix) { continue }  // checked below
            scanned += 1
            guard let index = StressValues.index(of: key), index < keys else {
                failures.append("scan: unexpected key \(String(decoding: key, as: UTF8.self))")
                continue
            }
            if !present.contains(index) {
                failures.append("scan: key \(index) is present but a point read found nothing (resurrected?)")
            } else if StressValues.version(of: value, key: index) == nil {
                failures.append("scan: key \(index) has a damaged value")
            }
        }
        if scanned != present.count {
            failures.append("scan returned \(scanned) keys, point reads found \(present.count)")
        }
        // The bank: every transfer is one atomic transaction, so the total never changes.
        var accountCount = 0
        var total = 0
        try database.scan(prefix: StressValues.accountPrefix).forEach { key, value in
            accountCount += 1
            guard let balance = Int(String(decoding: value, as: UTF8.self)) else {
                failures.append("account \(String(decoding: key, as: UTF8.self)) holds a damaged balance")
                return
            }
            total += balance
        }
        if accountCount > 0 && (accountCount != accounts || total != accounts * StressValues.initialBalance) {
            failures.append("accounts: \(accountCount) holding \(total), expected \(accounts) holding \(accounts * StressValues.initialBalance)")
        }
        let recovery = database.recovery
        try database.close()
        for failure in failures.prefix(20) { print("FAILURE \(failure)") }
        print("RESULT verified=\(keys) present=\(present.count) pending=\(resolvedPending) open_ms=\(String(format2: openMilliseconds)) wal_records=\(recovery.records) dropped_bytes=\(recovery.droppedBytes) accounts=\(accountCount) account_total=\(total) failures=\(failures.count)")
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

extension String {
    /// `value` with two decimals.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded()
        let whole = Int(scaled) / 100
        let fraction = abs(Int(scaled) % 100)
        self = "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

StrataStress.main()
