#if canImport(Glibc)
import Glibc
#endif
import Encoding
import StrataTool
import Engine
import Synchronization
import VFS

/// Runs the benchmarks named by `--benchmarks` in order against one database, printing one
/// db_bench line per benchmark and the resource figures at the end.
final class BenchRunner {
    /// Every benchmark `strata-bench` knows.
    static let known: [String] = [
        "fillseq", "fillrandom", "overwrite", "fillsync", "fillbatch", "deleteseq", "deleterandom",
        "readrandom", "readmissing", "readseq", "readreverse", "seekrandom", "readwhilewriting",
        "compact", "flush", "ycsba", "ycsbb", "ycsbc", "ycsbd", "ycsbe", "ycsbf", "randomtransaction",
        "replicalag", "replicareadrandom", "reopen",
    ]

    let flags: BenchFlags
    let path: String
    var database: Database?
    /// The read replica of `replicalag` and `replicareadrandom` (opened on first use).
    var replica: Database?
    /// Engine statistics of databases already closed (fresh fills reopen the database).
    private var closedTotals = EngineTotals()

    init(flags: BenchFlags) {
        self.flags = flags
        if let db = flags.db {
            path = db
        } else {
            let temporary = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
            path = "\(temporary)/strata-bench-\(getuid())/dbbench"
        }
    }

    /// Runs everything; throws on the first engine error.
    func run() throws {
        let names = flags.benchmarks.split(separator: ",").map { String($0).trimmingCharacters() }.filter { !$0.isEmpty }
        for name in names where !BenchRunner.known.contains(name) {
            throw BenchError("unknown benchmark '\(name)' (known: \(BenchRunner.known.joined(separator: ",")))")
        }
        printHeader()
        if !flags.useExistingDB.value { try destroyDatabase() }
        database = try Database.open(at: path, options: flags.options())

        for (index, name) in names.enumerated() {
            if name == "replicalag" {
                print(try replicaLag())
                fflush(nil)
                continue
            }
            if name == "reopen" {
                print(try reopen())
                fflush(nil)
                continue
            }
            var onReplica = false
            var fresh = false
            var reportFound = false
            var concurrentWriter = false
            let readers = flags.readCount
            let num = flags.num
            let writes = flags.writeCount
            let sync = flags.sync.value
            let body: @Sendable (inout WorkerContext) throws -> Void
            var total = num * flags.threads
            switch name {
            case "fillseq":
                fresh = true
                body = { try Workloads.write(&$0, order: .sequential, count: num, delete: false, sync: sync) }
            case "fillrandom":
                fresh = true
                total = writes * flags.threads
                body = { try Workloads.write(&$0, order: .random, count: writes, delete: false, sync: sync) }
            case "fillbatch":
                fresh = true
                body = { try Workloads.write(&$0, order: .sequential, count: num, delete: false, sync: sync) }
            case "overwrite":
                total = writes * flags.threads
                body = { try Workloads.write(&$0, order: .random, count: writes, delete: false, sync: sync) }
            case "fillsync":
                fresh = true
                total = max(1, num / 1000) * flags.threads
                body = { try Workloads.write(&$0, order: .random, count: max(1, num / 1000), delete: false, sync: true) }
            case "deleteseq":
                body = { try Workloads.write(&$0, order: .sequential, count: num, delete: true, sync: sync) }
            case "deleterandom":
                total = writes * flags.threads
                body = { try Workloads.write(&$0, order: .random, count: writes, delete: true, sync: sync) }
            case "readrandom", "readmissing":
                reportFound = true
                total = readers * flags.threads
                let missing = name == "readmissing"
                body = { try Workloads.readRandom(&$0, missing: missing) }
            case "readseq", "readreverse":
                total = readers * flags.threads
                let reverse = name == "readreverse"
                body = { try Workloads.readSequential(&$0, reverse: reverse) }
            case "seekrandom":
                reportFound = true
                total = readers * flags.threads
                body = { try Workloads.seekRandom(&$0) }
            case "readwhilewriting":
                reportFound = true
                concurrentWriter = true
                total = readers * flags.threads
                body = { try Workloads.readRandom(&$0, missing: false) }
            case "compact":
                total = 1
                body = { context in
                    guard context.stats.operations == 0 else { return }
                    try context.database.compactRange()
                    context.stats.done()
                }
            case "flush":
                total = 1
                body = { context in
                    try context.database.flush()
                    context.stats.done()
                }
            case "randomtransaction":
                total = readers * flags.threads
                body = { try Workloads.randomTransaction(&$0) }
            case "replicareadrandom":
                reportFound = true
                onReplica = true
                total = readers * flags.threads
                body = { try Workloads.readRandom(&$0, missing: false) }
            default:  // ycsba ... ycsbf
                reportFound = true
                total = readers * flags.threads
                let workload = name.last!
                let zipfian = ScrambledZipfian(itemCount: UInt64(num))
                body = { try Workloads.ycsb(&$0, workload: workload, zipfian: zipfian) }
            }
            if fresh {
                if flags.useExistingDB.value {
                    print("\(name.padRight(12)) : skipped (--use_existing_db is true)")
                    continue
                }
                try reopenFresh()
            }
            // compact and flush are one operation for the whole database, not per thread.
            let threads = (name == "compact" || name == "flush") ? 1 : flags.threads
            // replicareadrandom reads the replica, caught up with the primary first.
            let primary = database
            if onReplica { database = try caughtUpReplica() }
            defer { database = primary }
            let result = try runThreads(
                name: name, benchmarkIndex: index, threads: threads, total: total,
                reportFound: reportFound, concurrentWriter: concurrentWriter, body: body)
            print(result.line)
            if let text = result.histogramText { print(text) }
            if name == "randomtransaction" { print(try Workloads.verifyTransactionSets(database!, sets: flags.transactionSets)) }
            fflush(nil)
        }
        printSummary()
        try replica?.close()
        try database?.close()
    }

    /// Runs `body` on `threads` threads (plus one writer for readwhilewriting) and merges the
    /// measuring threads' stats.
    private func runThreads(
        name: String, benchmarkIndex: Int, threads: Int, total: Int, reportFound: Bool, concurrentWriter: Bool,
        body: @escaping @Sendable (inout WorkerContext) throws -> Void
    ) throws -> BenchResult {
        let database = database!
        let flags = flags
        let config = flags.workload
        let progress = ProgressBar(total: UInt64(max(1, total / threads)), label: name.padRight(12))
        let stats = (0..<threads).map { ThreadStats(histogram: flags.histogram.value, progress: $0 == 0 ? progress : nil) }
        let writerStats = ThreadStats(histogram: false, progress: nil)
        let failure = Mutex<String?>(nil)
        let readersDone = Atomic<Int>(0)
        let counter = InsertCounter(start: UInt64(flags.num))
        let keys = KeyFormatter(keySize: flags.keySize)
        let seedBase = flags.seed &* 0x9E37_79B9 &+ UInt64(benchmarkIndex) << 32
        Threads.run(threads + (concurrentWriter ? 1 : 0)) { thread in
            let isWriter = thread == threads
            var context = WorkerContext(
                database: database, config: config, keys: keys, stats: isWriter ? writerStats : stats[thread],
                random: SplitMix64(seed: seedBase &+ UInt64(thread) &* 7919 &+ 1),
                values: ValueGenerator(seed: seedBase &+ UInt64(thread) &+ 0xABCD, compressionRatio: flags.compressionRatio, largestValue: flags.valueSize),
                insertCounter: counter)
            do {
                if isWriter {
                    // readwhilewriting's writer: random overwrites until every reader is done.
                    while readersDone.load(ordering: .acquiring) < threads {
                        try Workloads.write(&context, order: .random, count: 100, delete: false, sync: flags.sync.value)
                    }
                    return
                }
                context.stats.begin()
                defer {
                    context.stats.end()
                    readersDone.add(1, ordering: .releasing)
                }
                try body(&context)
            } catch {
                failure.withLock { if $0 == nil { $0 = "\(name): \(error)" } }
                readersDone.add(threads, ordering: .releasing)
            }
        }
        if let message = failure.withLock({ $0 }) { throw BenchError(message) }
        return BenchResult(name: name, threads: stats, reportFound: reportFound)
    }

    private func printHeader() {
        let rawPerEntry = flags.keySize + flags.valueSize
        let compressedValue = Int(Double(flags.valueSize) * flags.compressionRatio + 0.5)
        print("Strata:      strata-bench (db_bench-compatible)")
        print("Keys:        \(flags.keySize) bytes each")
        print("Values:      \(flags.valueSize) bytes each (\(compressedValue) bytes after compression)")
        print("Entries:     \(flags.num)")
        print(cFormat("RawSize:     %.1f MB (estimated)", Double(rawPerEntry * flags.num) / 1_048_576.0))
        print("Compression: \(flags.compressionType); write buffer \(flags.writeBufferSize) bytes; block cache \(flags.cacheSize) bytes; bloom bits \(flags.bloomBits); threads \(flags.threads); table reads \(flags.mmapRead.value ? "mapped" : "pread")")
        print("Database:    \(path)")
        print(String(repeating: "-", count: 48))
        fflush(nil)
    }

    private func printSummary() {
        guard let database else { return }
        if flags.stats.value {
            print(database.property(.levelSummary))
            print(database.property(.statistics))
        }
        var totals = closedTotals
        totals.add(database.statistics)
        let megabytes = { (bytes: UInt64) in cFormat("%.1f MB", Double(bytes) / 1_048_576.0) }
        print(cFormat("Peak RSS: %.1f MB", Double(ResourceUsage.peakResidentBytes()) / 1_048_576.0))
        if let written = ResourceUsage.storageBytesWritten() {
            print("Storage bytes written: \(megabytes(UInt64(written))) (/proc/self/io write_bytes)")
        }
        let amplification = totals.userBytes == 0 ? 0 : Double(totals.flushBytes + totals.compactionBytes) / Double(totals.userBytes)
        print("Engine bytes written: user \(megabytes(totals.userBytes)), WAL \(megabytes(totals.walBytes)), flush \(megabytes(totals.flushBytes)), compaction \(megabytes(totals.compactionBytes))"
            + cFormat("; write amplification %.2f ((flush + compaction) / user)", amplification))
        fflush(nil)
    }

    /// `reopen`: closes the database and opens it again (a restart), timing the open, then waits
    /// `--reopen_wait_ms` (traffic arriving a moment after a restart) — so the benchmarks after
    /// it show the first reads after a restart, with or without `--warm_up_tables`.
    private func reopen() throws -> String {
        if let database {
            closedTotals.add(database.statistics)
            try database.close()
            self.database = nil
        }
        let started = WallClock.monotonicNanoseconds()
        let reopened = try Database.open(at: path, options: flags.options())
        let openMilliseconds = Double(WallClock.monotonicNanoseconds() - started) / 1e6
        database = reopened
        if flags.reopenWaitMilliseconds > 0 { usleep(UInt32(flags.reopenWaitMilliseconds * 1000)) }
        let statistics = reopened.statistics
        return "reopen       : opened in \(cFormat("%.1f", openMilliseconds)) ms, then waited \(flags.reopenWaitMilliseconds) ms; "
            + "\(statistics.tablesWarmedUp) tables warmed up, \(statistics.levels.reduce(0) { $0 + $1.files }) in the version"
    }

    private func reopenFresh() throws {
        if let database {
            closedTotals.add(database.statistics)
            try database.close()
            self.database = nil
        }
        try destroyDatabase()
        database = try Database.open(at: path, options: flags.options())
    }

    /// Removes the benchmark database, refusing to touch a directory that is not one.
    private func destroyDatabase() throws {
        let fileSystem = PosixFileSystem()
        guard fileSystem.exists(path) else { return }
        let names = try fileSystem.listDirectory(path)
        guard names.isEmpty || names.contains("CURRENT") || names.contains("LOCK") else {
            throw BenchError("\(path) exists and is not a Strata database; refusing to delete it")
        }
        TemporaryDirectory.removeTree(path)
    }
}

/// Engine byte counters summed over every database instance of a run.
struct EngineTotals {
    var userBytes: UInt64 = 0
    var walBytes: UInt64 = 0
    var flushBytes: UInt64 = 0
    var compactionBytes: UInt64 = 0

    mutating func add(_ statistics: Statistics) {
        userBytes += statistics.userBytesWritten
        walBytes += statistics.walBytesWritten
        flushBytes += statistics.flushBytesWritten
        compactionBytes += statistics.compactionBytesWritten
    }
}

/// A benchmark failure, printed as one line.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimmingCharacters() -> String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
