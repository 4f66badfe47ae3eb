import Synchronization
import Testing
import Encoding
import Strata
import VFS

/// The `async` API: same results as the synchronous one, and no cooperative-pool thread blocked.
@Suite struct DatabaseAsyncTests {
    @Test func asyncCallsReadAndWriteLikeTheirSynchronousForms() async throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        defer { try? db.close() }
        try await db.put("a", "1")
        try await db.put("b", "2", options: WriteOptions(sync: true))
        var batch = WriteBatch()
        batch.put("c", "3")
        batch.delete("a")
        try await db.write(batch)
        #expect(try await db.get("a") == nil)
        #expect(try await db.get("b", as: String.self) == "2")
        let snapshot = try db.snapshot()
        try await db.delete("b")
        #expect(try await db.get("b", at: snapshot) == Array("2".utf8))
        #expect(try await db.batchGet(["b", "c"]) == [nil, Array("3".utf8)])
        try await db.deleteRange(from: "c", to: "d")
        try await db.flush()
        try await db.compactRange()
        try await db.sync()
        #expect(try await db.get("c") == nil)
        // Bad input fails the same way, before any thread is involved.
        await #expect(throws: StrataError.invalidArgument("empty key")) { try await db.put("", "x") }
    }

    @Test func theAsyncScanReadsInChunksInOrderAndStopsEarly() async throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        defer { try? db.close() }
        for index in 0..<1_000 { try await db.put("k" + String(index).leftPadded(to: 4), String(index)) }
        var scan = db.scan(from: "k0100", to: "k0900")
        scan.chunkEntries = 7
        var seen: [String] = []
        for try await (key, _) in scan { seen.append(String(decoding: key, as: UTF8.self)) }
        #expect(seen == (100..<900).map { "k" + String($0).leftPadded(to: 4) })
        var reversed = db.scan(prefix: "k09", reverse: true)
        reversed.chunkBytes = 1  // one entry per chunk
        var last: [String] = []
        for try await (key, _) in reversed {
            last.append(String(decoding: key, as: UTF8.self))
            if last.count == 3 { break }
        }
        #expect(last == ["k0999", "k0998", "k0997"])
        try db.close()
        var afterClose = db.scan().makeAsyncIterator()
        await #expect(throws: StrataError.self) { _ = try await afterClose.next() }
    }

    /// 64 tasks write with `sync: true` as fast as they can; meanwhile a task on the cooperative
    /// pool ticks every 10 ms. If the writers blocked pool threads (there are only as many as
    /// cores), the ticker would not run until they finished.
    @Test func syncedAsyncWritersDoNotStarveTheCooperativePool() async throws {
        let directory = try TemporaryDirectory()
        var options = testOptions(PosixFileSystem())
        options.writeBufferSize = 1 << 20
        let db = try Database.open(at: directory.path + "/db", options: options)
        defer { try? db.close() }
        let seconds = 1.5
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
        let total = writes.count.load(ordering: .relaxed)
        print("64 synced async writers: \(total) writes, \(db.statistics.walSyncs) syncs in \(seconds) s; ticker \(ticks) ticks, worst gap \(worstGap / 1_000_000) ms")
        #expect(total > 64)
        // The ticker kept running throughout: at least 20 of its 150 possible ticks, and
        // never a pause anywhere near the length of the run.
        #expect(ticks >= 20, "ticker ran \(ticks) times")
        #expect(worstGap < 500_000_000, "ticker paused for \(worstGap / 1_000_000) ms")
    }
}

/// A counter tasks can share.
final class Tally: Sendable {
    let count = Atomic<Int>(0)
}
