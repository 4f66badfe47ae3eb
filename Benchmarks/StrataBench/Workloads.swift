import Encoding
import Engine
import Synchronization
import VFS

/// What one benchmark thread has to work with.
struct WorkerContext {
    let database: Database
    let config: WorkloadConfig
    let keys: KeyFormatter
    let stats: ThreadStats
    var random: SplitMix64
    let values: ValueGenerator
    /// Next key index for inserts of new keys (YCSB D and E), shared by the threads.
    let insertCounter: InsertCounter
}

/// The next key index YCSB's inserts use, shared by the threads of one benchmark.
final class InsertCounter: Sendable {
    let next: Atomic<UInt64>

    init(start: UInt64) {
        next = Atomic(start)
    }
}

/// The operation each benchmark runs per thread. Each function does the measured work of one
/// thread; the runner times it and merges the threads.
enum Workloads {
    enum KeyOrder { case sequential, random }

    /// fillseq, fillrandom, overwrite, fillsync, deleteseq, deleterandom: `count` writes in
    /// batches of `--batch_size`.
    static func write(_ context: inout WorkerContext, order: KeyOrder, count: Int, delete: Bool, sync: Bool) throws {
        let config = context.config
        let num = UInt64(config.num)
        let options = WriteOptions(sync: sync, durability: config.durability)
        var key = context.keys.makeBuffer()
        var batch = WriteBatch()
        var written = 0
        while written < count {
            batch.removeAll()
            let entries = min(config.batchSize, count - written)
            for entry in 0..<entries {
                let index = order == .sequential ? UInt64(written + entry) : context.random.next() % num
                context.keys.format(index, into: &key)
                if delete {
                    batch.delete(key)
                } else {
                    batch.put(key, context.values.next(config.valueSize))
                    context.stats.bytes += config.keySize + config.valueSize
                }
            }
            try context.database.write(batch, options: options)
            written += entries
            context.stats.done(entries)
        }
    }

    /// readrandom and readmissing: point lookups of uniformly random keys (readmissing looks
    /// up keys with a `.` appended, which never exist).
    static func readRandom(_ context: inout WorkerContext, missing: Bool) throws {
        let num = UInt64(context.config.num)
        var key = context.keys.makeBuffer()
        if missing { key.append(UInt8(ascii: ".")) }
        for _ in 0..<context.config.readCount {
            let index = context.random.next() % num
            if missing {
                key.removeLast()
                context.keys.format(index, into: &key)
                key.append(UInt8(ascii: "."))
            } else {
                context.keys.format(index, into: &key)
            }
            context.stats.lookups += 1
            if let value = try context.database.get(key) {
                context.stats.found += 1
                context.stats.bytes += key.count + value.count
            }
            context.stats.done()
        }
    }

    /// readseq and readreverse: one cursor over the whole database, up to `--reads` entries.
    static func readSequential(_ context: inout WorkerContext, reverse: Bool) throws {
        let cursor = try context.database.cursor()
        if reverse { try cursor.seekToLast() } else { try cursor.seekToFirst() }
        var remaining = context.config.readCount
        while cursor.isValid && remaining > 0 {
            context.stats.bytes += cursor.withCurrent { key, value in key.count + value.count }
            if reverse { try cursor.prev() } else { try cursor.next() }
            remaining -= 1
            context.stats.done()
        }
    }

    /// seekrandom: a new cursor per operation (as db_bench does, so each seek sees the latest
    /// data), seek to a random key, then `--seek_nexts` steps forward.
    static func seekRandom(_ context: inout WorkerContext) throws {
        let num = UInt64(context.config.num)
        var key = context.keys.makeBuffer()
        for _ in 0..<context.config.readCount {
            context.keys.format(context.random.next() % num, into: &key)
            let cursor = try context.database.cursor()
            try cursor.seek(to: key)
            context.stats.lookups += 1
            if cursor.isValid {
                if cursor.withCurrent({ found, _ in found.elementsEqual(key) }) { context.stats.found += 1 }
                context.stats.bytes += cursor.withCurrent { key, value in key.count + value.count }
                var steps = context.config.seekNexts
                while steps > 0 {
                    try cursor.next()
                    guard cursor.isValid else { break }
                    context.stats.bytes += cursor.withCurrent { key, value in key.count + value.count }
                    steps -= 1
                }
            }
            context.stats.done()
        }
    }

    /// The YCSB core workloads over `--num` loaded records, `--reads` operations per thread:
    /// A 50% read / 50% update; B 95/5; C read only; D 95% read of recent inserts / 5% insert;
    /// E 95% short scan (1...100 entries) / 5% insert; F 50% read / 50% read-modify-write.
    /// Keys are chosen with YCSB's scrambled Zipfian (D: the "latest" distribution).
    static func ycsb(_ context: inout WorkerContext, workload: Character, zipfian: ScrambledZipfian) throws {
        let config = context.config
        let database = context.database
        var key = context.keys.makeBuffer()
        var batch = WriteBatch()
        let readPercent: UInt64 = switch workload {
        case "a", "f": 50
        case "b", "d": 95
        case "c": 100
        default: 95
        }
        func update() throws {
            batch.removeAll()
            batch.put(key, context.values.next(config.valueSize))
            try database.write(batch)
            context.stats.bytes += config.keySize + config.valueSize
        }
        func insert() throws {
            let index = context.insertCounter.next.add(1, ordering: .relaxed).oldValue
            context.keys.format(index, into: &key)
            try update()
        }
        func read() throws {
            context.stats.lookups += 1
            if let value = try database.get(key) {
                context.stats.found += 1
                context.stats.bytes += key.count + value.count
            }
        }
        for _ in 0..<config.readCount {
            let isRead = context.random.next() % 100 < readPercent
            switch workload {
            case "d":
                if isRead {
                    // Latest: the most recent inserts are the most popular.
                    let newest = context.insertCounter.next.load(ordering: .relaxed)
                    let back = zipfian.zipfian.next(&context.random) % newest
                    context.keys.format(newest - 1 - back, into: &key)
                    try read()
                } else {
                    try insert()
                }
            case "e":
                if isRead {
                    context.keys.format(zipfian.next(&context.random), into: &key)
                    let length = 1 + Int(context.random.next() % 100)
                    let cursor = try database.cursor()
                    try cursor.seek(to: key)
                    var scanned = 0
                    while cursor.isValid && scanned < length {
                        context.stats.bytes += cursor.withCurrent { key, value in key.count + value.count }
                        scanned += 1
                        try cursor.next()
                    }
                    context.stats.lookups += 1
                    if scanned > 0 { context.stats.found += 1 }
                } else {
                    try insert()
                }
            default:
                context.keys.format(zipfian.next(&context.random), into: &key)
                if isRead {
                    try read()
                } else if workload == "f" {
                    try read()
                    try update()
                } else {
                    try update()
                }
            }
            context.stats.done()
        }
    }
}

extension Workloads {
    /// randomtransaction, as db_bench's: each operation is one transaction that picks a random
    /// key in each of `--transaction_sets` sets (keys `SSSS<number>`, in a shuffled set order),
    /// reads it (`getForUpdate` half of the time) and adds the same random amount to each.
    /// Conflicts, deadlocks and timeouts abort the transaction (counted, not retried). With
    /// neither `--transaction_db` nor `--optimistic_transaction_db`, plain reads and one batch.
    static func randomTransaction(_ context: inout WorkerContext) throws {
        let config = context.config
        let num = UInt64(config.num)
        let options = TransactionOptions(isolation: config.isolation ?? .snapshot, maxRetries: 0, lockTimeout: config.lockTimeout, sync: config.sync)
        var order = Array(0..<config.transactionSets)
        for _ in 0..<config.readCount {
            let increment = context.random.next() % 100 + 1
            for index in order.indices.reversed() {  // shuffle the set order
                order.swapAt(index, Int(context.random.next() % UInt64(index + 1)))
            }
            context.stats.lookups += 1
            do {
                if config.isolation != nil {
                    let txn = try context.database.beginTransaction(options)
                    do {
                        for set in order {
                            let key = transactionKey(set: set, number: context.random.next() % num)
                            let value = context.random.next() % 2 == 0 ? try txn.getForUpdate(key) : try txn.get(key)
                            let current = value.flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
                            try txn.put(key, String(current + increment))
                        }
                        try txn.commit()
                    } catch {
                        try? txn.rollback()
                        throw error
                    }
                } else {
                    var batch = WriteBatch()
                    for set in order {
                        let key = transactionKey(set: set, number: context.random.next() % num)
                        let current = try context.database.get(key).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
                        batch.put(key, String(current + increment))
                    }
                    try context.database.write(batch, options: WriteOptions(sync: config.sync))
                }
                context.stats.found += 1
            } catch StrataError.transactionConflict, StrataError.deadlock, StrataError.lockTimeout {
                // An abort, as db_bench counts them.
            }
            context.stats.done()
        }
    }

    /// `SSSS<number>`: the set as four digits, then the number in decimal (db_bench's keys).
    static func transactionKey(set: Int, number: UInt64) -> [UInt8] {
        Array((String(set + 1).leftPadded(to: 4) + String(number)).utf8)
    }

    /// Checks what randomtransaction promises: every transaction added the same amount to one
    /// key of each set, so the sets' sums are equal. (Only exact without plain batches racing.)
    static func verifyTransactionSets(_ database: Database, sets: Int) throws -> String {
        var sums: [UInt64] = []
        for set in 0..<sets {
            var sum: UInt64 = 0
            try database.scan(prefix: String(set + 1).leftPadded(to: 4)).forEach { _, value in
                sum &+= UInt64(String(decoding: value, as: UTF8.self)) ?? 0
            }
            sums.append(sum)
        }
        guard Set(sums).count <= 1 else {
            throw BenchError("randomtransaction verification failed: the sets' sums differ: \(sums)")
        }
        return "randomtransaction verified: \(sets) sets, each summing to \(sums.first ?? 0)"
    }
}
