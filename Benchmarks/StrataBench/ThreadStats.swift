#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Histogram
import StrataTool

/// What one benchmark thread did: operations, bytes, hits, its time span, and (with
/// `--histogram=1`) every operation's latency. Owned by its thread until the run ends.
final class ThreadStats: @unchecked Sendable {
    // @unchecked: each instance is mutated by one thread only, and read after that thread
    // has been joined (the join orders the accesses).
    var operations = 0
    var bytes = 0
    var found = 0
    /// Lookups attempted (for the "(F of N found)" message).
    var lookups = 0
    var start: UInt64 = 0
    var finish: UInt64 = 0
    private var lastOperation: UInt64 = 0
    private(set) var histogram: Histogram<UInt64>?
    /// Whether latencies are recorded (checked per operation instead of the optional
    /// histogram, which would be copied to test it).
    private let timing: Bool
    /// Thread 0's progress bar (`ProgressBar` draws only when stderr is a terminal).
    private var progress: ProgressBar?

    /// Creates the stats of one thread; `progress` is given to thread 0 only.
    init(histogram: Bool, progress: ProgressBar?) {
        // 1 ns ... 1 hour at three significant digits: about 500 KB per thread.
        self.histogram = histogram ? Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three) : nil
        self.timing = histogram
        self.progress = progress
    }

    /// Marks the start of the measured work.
    func begin() {
        start = WallClock.monotonicNanoseconds()
        lastOperation = start
    }

    /// Records `count` finished operations (a batch counts its entries); with a histogram the
    /// time since the previous call is one latency sample, as db_bench measures it.
    @inline(__always)
    func done(_ count: Int = 1) {
        operations += count
        if timing {
            let now = WallClock.monotonicNanoseconds()
            _ = histogram!.record(now &- lastOperation)
            lastOperation = now
        }
        if progress != nil, operations & 1023 < count { progress!.update(UInt64(operations)) }
    }

    /// Marks the end of the measured work.
    func end() {
        finish = WallClock.monotonicNanoseconds()
        progress?.finish()
    }
}

/// The merged result of one benchmark, printed in db_bench's format.
struct BenchResult {
    let name: String
    let operations: Int
    let bytes: Int
    /// Wall-clock seconds from the first thread's start to the last thread's end.
    let elapsed: Double
    /// Sum of every thread's own duration (micros/op is per thread, as in db_bench).
    let threadSeconds: Double
    let message: String
    let histogram: Histogram<UInt64>?

    /// Merges the threads of one run; `found` messages are added for lookups.
    init(name: String, threads: [ThreadStats], reportFound: Bool) {
        self.name = name
        operations = threads.reduce(0) { $0 + $1.operations }
        bytes = threads.reduce(0) { $0 + $1.bytes }
        let start = threads.map(\.start).min() ?? 0
        let finish = threads.map(\.finish).max() ?? 0
        elapsed = Double(finish &- start) / 1e9
        threadSeconds = threads.reduce(0.0) { $0 + Double($1.finish &- $1.start) / 1e9 }
        let found = threads.reduce(0) { $0 + $1.found }
        let lookups = threads.reduce(0) { $0 + $1.lookups }
        if name == "randomtransaction" {
            message = "( transactions:\(found) aborts:\(lookups - found))"
        } else {
            message = reportFound ? "(\(found) of \(lookups) found)" : ""
        }
        var merged: Histogram<UInt64>? = nil
        for thread in threads {
            guard let histogram = thread.histogram else { continue }
            if merged == nil { merged = histogram } else { merged!.add(histogram) }
        }
        histogram = merged
    }

    /// The db_bench line:
    /// `fillrandom   :       4.806 micros/op 208077 ops/sec 4.806 seconds 1000000 operations;   23.0 MB/s (F of N found)`.
    var line: String {
        let done = max(operations, 1)
        let seconds = max(elapsed, 1e-9)
        var extra = ""
        if bytes > 0 { extra = cFormat("%6.1f MB/s", Double(bytes) / 1_048_576.0 / seconds) }
        if !message.isEmpty { extra += extra.isEmpty ? message : " " + message }
        return name.padRight(12)
            + cFormat(" : %11.3f micros/op %ld ops/sec %.3f seconds %ld operations;", threadSeconds * 1e6 / Double(done), Int(Double(operations) / seconds), elapsed, operations)
            + (extra.isEmpty ? "" : " " + extra)
    }

    /// The latency summary printed after the line with `--histogram=1`, in microseconds.
    var histogramText: String? {
        guard let histogram, histogram.totalCount > 0 else { return nil }
        func micros(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1000.0 }
        return "Microseconds per op:\n"
            + cFormat("Count: %ld Average: %.4f  StdDev: %.2f\n", Int(histogram.totalCount), histogram.mean / 1000.0, histogram.stdDeviation / 1000.0)
            + cFormat("Min: %.3f  Median: %.3f  Max: %.3f\n", micros(histogram.min), micros(histogram.median), micros(histogram.max))
            + cFormat("Percentiles: P50: %.2f P95: %.2f P99: %.2f P99.9: %.2f max: %.2f\n",
                      micros(histogram.valueAtPercentile(50)), micros(histogram.valueAtPercentile(95)),
                      micros(histogram.valueAtPercentile(99)), micros(histogram.valueAtPercentile(99.9)), micros(histogram.max))
    }
}
