#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Engine
import ObjectStoreS3
import Synchronization
import VFS

// replicalag and replicareadrandom: a read replica of the benchmark database, following its
// object store (--object_store) from a directory next to it.
extension BenchRunner {
    /// The replica, opened (bootstrapped from the store) on first use; its open and first read
    /// are timed and printed.
    func openedReplica() throws -> Database {
        if let replica { return replica }
        guard let objectStore = flags.objectStore else { throw BenchError("replica benchmarks need --object_store") }
        let directory = path + "-replica"
        TemporaryDirectory.removeTree(directory)
        var options = try flags.options()
        options.objectStore = nil
        options.replicaPollInterval = max(flags.replicaPollMilliseconds / 1000, 0.05)
        let started = WallClock.monotonicNanoseconds()
        let opened = try Database.openReplica(objectStore: try ObjectStoreURL.open(objectStore, endpoint: flags.s3Endpoint), at: directory, options: options)
        let openSeconds = Double(WallClock.monotonicNanoseconds() - started) / 1e9
        _ = try opened.get(flags.workload.num > 0 ? KeyFormatter(keySize: flags.keySize).key(0) : [0])
        let firstRead = Double(WallClock.monotonicNanoseconds() - started) / 1e9
        print("replica      : bootstrapped in \(String(format: "%.2f", openSeconds)) s, first read after \(String(format: "%.2f", firstRead)) s (sequence \(opened.latestSequence.rawValue))")
        replica = opened
        return opened
    }

    /// The replica, once it has applied everything the primary acknowledged so far.
    func caughtUpReplica() throws -> Database {
        let replica = try openedReplica()
        guard let primary = database else { return replica }
        try primary.waitUntilStored()
        try replica.waitForSequence(primary.latestSequence.rawValue, timeout: 600)
        return replica
    }

    /// The primary writes `--writes` random keys at `--writes_per_second`; a watcher notes when
    /// each write becomes visible on the replica. Prints the lag percentiles.
    func replicaLag() throws -> String {
        guard let primary = database else { throw BenchError("no database") }
        let replica = try caughtUpReplica()
        let count = max(1, flags.writeCount)
        let rate = max(flags.writesPerSecond, 1)
        // (sequence, acknowledged at): appended by the writer, consumed by the watcher.
        let written = Mutex<[(UInt64, UInt64)]>([])
        let writerDone = Atomic<Bool>(false)
        let lags = Mutex<[Double]>([])
        let keys = KeyFormatter(keySize: flags.keySize)
        let num = UInt64(max(1, flags.num))
        let valueSize = flags.valueSize
        let failure = Mutex<String?>(nil)
        let started = WallClock.monotonicNanoseconds()
        Threads.run(2) { thread in
            if thread == 0 {
                var random = SplitMix64(seed: 42)
                let value = [UInt8](repeating: 0x61, count: valueSize)
                for index in 0..<count {
                    let due = started + UInt64(Double(index) / rate * 1e9)
                    while true {
                        let now = WallClock.monotonicNanoseconds()
                        guard now < due else { break }
                        if due - now > 200_000 { usleep(UInt32((due - now - 100_000) / 1000)) } else { sched_yield() }
                    }
                    do {
                        try primary.put(keys.key(random.next() % num), value)
                    } catch {
                        failure.withLock { $0 = "\(error)" }
                        break
                    }
                    let acknowledged = WallClock.monotonicNanoseconds()
                    let sequence = primary.latestSequence.rawValue
                    written.withLock { $0.append((sequence, acknowledged)) }
                }
                writerDone.store(true, ordering: .releasing)
            } else {
                var next = 0
                let deadline = { WallClock.monotonicNanoseconds() + 120_000_000_000 }()
                while WallClock.monotonicNanoseconds() < deadline {
                    let applied = replica.latestSequence.rawValue
                    let now = WallClock.monotonicNanoseconds()
                    let (seen, total) = written.withLock { records -> ([Double], Int) in
                        var seen: [Double] = []
                        while next < records.count && records[next].0 <= applied {
                            seen.append(Double(now - records[next].1) / 1e6)
                            next += 1
                        }
                        return (seen, records.count)
                    }
                    if !seen.isEmpty { lags.withLock { $0 += seen } }
                    if writerDone.load(ordering: .acquiring) && next == total { return }
                    usleep(200)
                }
            }
        }
        if let failure = failure.withLock({ $0 }) { throw BenchError("replicalag: \(failure)") }
        let elapsed = Double(WallClock.monotonicNanoseconds() - started) / 1e9
        let sorted = lags.withLock { $0 }.sorted()
        guard !sorted.isEmpty else { return "replicalag   : no write became visible on the replica" }
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
        let format = { (value: Double) in String(format: "%.1f", value) }
        return "replicalag   : \(sorted.count) writes at \(Int(Double(count) / elapsed))/s (target \(Int(rate))/s); "
            + "visible on the replica after p50 \(format(percentile(0.5))) ms, p99 \(format(percentile(0.99))) ms, max \(format(sorted.last!)) ms "
            + "(upload interval \(Int(flags.walUploadIntervalMilliseconds)) ms, poll \(Int(flags.replicaPollMilliseconds)) ms)"
    }
}
