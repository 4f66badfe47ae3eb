import Synchronization
import Testing
import Encoding
import Strata
import StrataTestSupport
import VFS

/// The `async` API: same results as the synchronous one, and no cooperative-pool thread blocked.
@Suite struct DatabaseAsyncTests {
    @Test func asyncCallsReadAndWriteLikeTheirSynchronousForms() async throws {
        let db = try await Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
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
        let db = try await Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
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
        try await db.close()
        var afterClose = db.scan().makeAsyncIterator()
        await #expect(throws: StrataError.self) { _ = try await afterClose.next() }
    }

    /// 64 tasks write with `sync: true` as fast as they can; meanwhile a task on the cooperative
    /// pool ticks every 10 ms. If the writers blocked pool threads (there are only as many as
    /// cores), the ticker would not run until they finished. It runs in a child process
    /// (`strata-async-probe`): other tests of this run block the pool with synchronous work.
    @Test func syncedAsyncWritersDoNotStarveTheCooperativePool() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let probe = try ChildProcess(Products.path("strata-async-probe"), [directory.path + "/db", "1.5"])
        let result = probe.finish()
        #expect(result.status == 0, "\(result.errors)")
        print("64 synced async writers: \(result.output)")
        var figures: [String: Int] = [:]
        for field in result.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = field.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { figures[String(parts[0])] = value }
        }
        #expect((figures["writes"] ?? 0) > 64)
        // The ticker kept running throughout: at least 20 of its 150 possible ticks, and never a
        // pause anywhere near the length of the run.
        #expect((figures["ticks"] ?? 0) >= 20, "\(result.output)")
        #expect((figures["worstGapMs"] ?? 10_000) < 500, "\(result.output)")
    }
}
