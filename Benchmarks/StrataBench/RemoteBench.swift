#if canImport(Dispatch)
import Dispatch
#endif
import Encoding
import Engine
import Server
import StrataTool
import Synchronization
import VFS

/// `strata-bench --server HOST:PORT`: the workloads through strata-server, `--threads` clients
/// at once, each with a connection of its own and one call in flight. Prints the same lines as
/// the in-process runs (micros/op per client, ops/sec overall; `--histogram=1` for percentiles).
final class RemoteBenchRunner: Sendable {
    /// The benchmarks that run through the network.
    static let known = ["fillseq", "fillrandom", "overwrite", "fillbatch", "readrandom", "readmissing", "seekrandom", "flush", "compact"]

    let flags: BenchFlags
    let client: StrataClient.Configuration

    init(flags: BenchFlags, server: String, tokenFile: String?) throws {
        self.flags = flags
        var client = StrataClient.Configuration(address: server)
        client.token = try tokenFile.map { try BearerToken.load(file: $0) }
        self.client = client
    }

    func run() throws {
        let names = flags.benchmarks.split(separator: ",").map { String($0).trimmingCharacters() }.filter { !$0.isEmpty }
        for name in names where !RemoteBenchRunner.known.contains(name) {
            throw BenchError("'\(name)' does not run with --server (these do: \(RemoteBenchRunner.known.joined(separator: ",")))")
        }
        print("Strata:      strata-bench through strata-server at \(client.address)")
        print("Keys:        \(flags.keySize) bytes each")
        print("Values:      \(flags.valueSize) bytes each")
        print("Entries:     \(flags.num)")
        print("Clients:     \(flags.threads) (a connection each, one call in flight)")
        print(String(repeating: "-", count: 48))
        for (index, name) in names.enumerated() {
            let result = try blocking { try await self.runBenchmark(name, index: index) }
            print(result.line)
            if let text = result.histogramText { print(text) }
        }
        print(cFormat("Peak RSS (this client): %.1f MB", Double(ResourceUsage.peakResidentBytes()) / 1_048_576.0))
    }

    /// One benchmark: every client connects, then runs its share while timed.
    private func runBenchmark(_ name: String, index: Int) async throws -> BenchResult {
        let flags = self.flags
        let clients = (name == "flush" || name == "compact") ? 1 : flags.threads
        let stats = (0..<clients).map { _ in ThreadStats(histogram: flags.histogram.value, progress: nil) }
        let seedBase = flags.seed &* 0x9E37_79B9 &+ UInt64(index) << 32
        let configuration = client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (number, threadStats) in stats.enumerated() {
                group.addTask {
                    try await StrataClient.withClient(configuration) { client in
                        _ = try await client.healthStatus()  // connect before the clock starts
                        var worker = RemoteWorker(
                            client: client, flags: flags, stats: threadStats,
                            random: SplitMix64(seed: seedBase &+ UInt64(number) &* 7919 &+ 1),
                            values: ValueGenerator(seed: seedBase &+ UInt64(number) &+ 0xABCD, compressionRatio: flags.compressionRatio, largestValue: flags.valueSize))
                        threadStats.begin()
                        defer { threadStats.end() }
                        try await worker.run(name)
                    }
                }
            }
            try await group.waitForAll()
        }
        return BenchResult(name: name, threads: stats, reportFound: name.hasPrefix("read") || name == "seekrandom")
    }

    /// Runs `body` on the cooperative pool and waits for it on this (main) thread.
    private func blocking<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) throws -> Result {
        let outcome = Mutex<Swift.Result<Result, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let value = try await body()
                outcome.withLock { $0 = .success(value) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0 }!.get()
    }
}

/// One client's loop.
struct RemoteWorker {
    let client: StrataClient
    let flags: BenchFlags
    let stats: ThreadStats
    var random: SplitMix64
    let values: ValueGenerator

    mutating func run(_ name: String) async throws {
        let keys = KeyFormatter(keySize: flags.keySize)
        let num = UInt64(flags.num)
        let sync = flags.sync.value
        switch name {
        case "fillseq", "fillrandom", "overwrite", "fillbatch":
            let sequential = name == "fillseq" || name == "fillbatch"
            let count = sequential ? flags.num : flags.writeCount
            var written = 0
            while written < count {
                let entries = min(flags.batchSize, count - written)
                if entries == 1 {
                    let index = sequential ? UInt64(written) : random.next() % num
                    try await client.put(keys.key(index), Array(values.next(flags.valueSize)), sync: sync)
                } else {
                    var batch = WriteBatch()
                    for entry in 0..<entries {
                        let index = sequential ? UInt64(written + entry) : random.next() % num
                        batch.put(keys.key(index), Array(values.next(flags.valueSize)))
                    }
                    try await client.write(batch, sync: sync)
                }
                stats.bytes += entries * (flags.keySize + flags.valueSize)
                written += entries
                stats.done(entries)
            }
        case "readrandom", "readmissing":
            for _ in 0..<flags.readCount {
                var key = keys.key(random.next() % num)
                if name == "readmissing" { key.append(UInt8(ascii: ".")) }
                stats.lookups += 1
                if let value = try await client.get(key) {
                    stats.found += 1
                    stats.bytes += key.count + value.count
                }
                stats.done()
            }
        case "seekrandom":
            // A seek and --seek_nexts more entries: one Scan call with a limit.
            let limit = flags.seekNexts + 1
            for _ in 0..<flags.readCount {
                let key = keys.key(random.next() % num)
                let counted = ScanTally()
                try await client.scan(from: key, limit: limit) { entryKey, value in
                    counted.state.withLock {
                        if $0.entries == 0 { $0.found = entryKey == key }
                        $0.entries += 1
                        $0.bytes += entryKey.count + value.count
                    }
                    return true
                }
                let (_, bytes, found) = counted.state.withLock { $0 }
                stats.lookups += 1
                if found { stats.found += 1 }
                stats.bytes += bytes
                stats.done()
            }
        case "flush":
            try await client.flush()
            stats.done()
        case "compact":
            try await client.compactRange()
            stats.done()
        default:
            throw BenchError("unknown benchmark \(name)")
        }
    }
}

/// What one remote seek saw (its callback may run on any thread of the pool).
final class ScanTally: Sendable {
    let state = Mutex<(entries: Int, bytes: Int, found: Bool)>((0, 0, false))
}
