// strata-async-probe: 64 tasks write with `sync: true` through the async API for SECONDS while a
// task on the cooperative pool ticks every 10 ms; prints what each side managed. Run in a
// process of its own (by DatabaseAsyncTests) so that no other test occupies the cooperative
// pool: the ticker then stalls only if Strata's async calls block pool threads.
//
// Usage: strata-async-probe DIRECTORY [SECONDS]
#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Engine
import Synchronization

/// A counter tasks can share.
final class Tally: Sendable {
    let count = Atomic<Int>(0)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: strata-async-probe DIRECTORY [SECONDS]")
    exit(2)
}
let seconds = arguments.count >= 3 ? Double(arguments[2]) ?? 1.5 : 1.5
var options = Options()
options.writeBufferSize = 1 << 20
let db = try Database.open(at: arguments[1], options: options)
let deadline = WallClock.monotonicNanoseconds() + UInt64(seconds * 1e9)
let writes = Tally()
let ticker = Task { () -> (ticks: Int, worstGap: UInt64) in
    var ticks = 0
    var worst: UInt64 = 0
    var previous = WallClock.monotonicNanoseconds()
    while WallClock.monotonicNanoseconds() < deadline {
        try? await Task.sleep(nanoseconds: 10_000_000)
        let now = WallClock.monotonicNanoseconds()
        worst = max(worst, now - previous)
        previous = now
        ticks += 1
    }
    return (ticks, worst)
}
try await withThrowingTaskGroup(of: Void.self) { group in
    for writer in 0..<64 {
        group.addTask {
            var index = 0
            while WallClock.monotonicNanoseconds() < deadline {
                try await db.put("w\(writer)-\(index)", "value", options: WriteOptions(sync: true))
                writes.count.add(1, ordering: .relaxed)
                index += 1
            }
        }
    }
    try await group.waitForAll()
}
let (ticks, worstGap) = await ticker.value
print("writes=\(writes.count.load(ordering: .relaxed)) syncs=\(db.statistics.walSyncs) ticks=\(ticks) worstGapMs=\(worstGap / 1_000_000)")
try db.close()
