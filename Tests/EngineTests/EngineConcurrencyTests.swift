#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Encoding
import Strata
import VFS

@Suite struct EngineConcurrencyTests {
    /// 4 writers and 4 readers with background flushes and compactions: readers iterating a
    /// snapshot see a stable view, and the final content is exactly the acknowledged writes.
    /// Runs 3 s in CI; `STRATA_CONCURRENCY_SECONDS=10 swift test --filter EngineConcurrency` runs
    /// it for longer.
    @Test func writersReadersAndBackgroundWorkAgree() throws {
        let memory = MemoryFileSystem()
        let db = try Database.open(at: "/db", options: testOptions(memory))
        let seconds = getenv("STRATA_CONCURRENCY_SECONDS").flatMap { Double(String(cString: $0)) } ?? 3.0
        let deadline = WallClock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        let lastAcknowledged = Locked<[Int]>([Int](repeating: -1, count: 4))
        let problems = Locked<[String]>([])
        let readerPasses = Atomic<Int>(0)
        Threads.run(8) { role in
            do {
                if role < 4 {
                    // Writer `role` owns keys "w{role}-{0..199}"; every write records its round.
                    var round = 0
                    while WallClock.monotonicNanoseconds() < deadline {
                        var batch = WriteBatch()
                        for key in 0..<5 { batch.put(Array("w\(role)-\((round * 5 + key) % 200)".utf8), Array("\(round)".utf8)) }
                        try db.write(batch, options: WriteOptions(sync: round % 50 == 0))
                        lastAcknowledged.withLock { $0[role] = round }
                        round += 1
                    }
                } else {
                    // Reader: iterate one snapshot twice; the two passes must be identical.
                    while WallClock.monotonicNanoseconds() < deadline {
                        let snapshot = try db.snapshot()
                        let first = try db.scan(at: snapshot).collect()
                        let second = try db.scan(at: snapshot, reverse: true).collect()
                        if first.count != second.count || !zip(first, second.reversed()).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) {
                            problems.withLock { $0.append("reader \(role): snapshot view changed between passes") }
                        }
                        for entry in first.prefix(50) {
                            if try db.get(entry.key, at: snapshot) != entry.value {
                                problems.withLock { $0.append("reader \(role): get disagrees with scan at the same snapshot") }
                            }
                        }
                        readerPasses.add(1, ordering: .relaxed)
                    }
                }
            } catch {
                problems.withLock { $0.append("thread \(role): \(error)") }
            }
        }
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(5) })")
        // The final content: for each writer and key, the value of the last round that wrote it.
        let last = lastAcknowledged.withLock { $0 }
        var expected: [[UInt8]: [UInt8]] = [:]
        for writer in 0..<4 where last[writer] >= 0 {
            for round in 0...last[writer] {
                for key in 0..<5 { expected[Array("w\(writer)-\((round * 5 + key) % 200)".utf8)] = Array("\(round)".utf8) }
            }
        }
        let actual = try db.scan().collect()
        #expect(actual.count == expected.count)
        #expect(actual.allSatisfy { expected[$0.key] == $0.value })
        let statistics = db.statistics
        print("concurrency: \(last.map { $0 + 1 }) batches per writer, \(readerPasses.load(ordering: .relaxed)) reader passes, \(statistics.flushes) flushes, levels \(statistics.levels.map(\.files)), \(statistics.writeGroups) groups for \(statistics.batches) batches")
        try db.close()
    }
}
