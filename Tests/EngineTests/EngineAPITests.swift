#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import Strata
import VFS

@Suite struct EngineAPITests {
    func openMemory(_ configure: (inout Options) -> Void = { _ in }) throws -> (Database, MemoryFileSystem) {
        let memory = MemoryFileSystem()
        var options = testOptions(memory)
        configure(&options)
        return (try Database.open(at: "/db", options: options), memory)
    }

    /// `waitForCompactions()` returns once the background threads are idle with nothing left:
    /// no frozen memtable, no level (of any keyspace) scoring 1 or more. After a load that made
    /// many flushes and compactions; in a keyspace too; and in the async form.
    @Test func waitForCompactionsLeavesNoWork() async throws {
        let (db, _) = try openMemory()
        let logs = try await db.keyspace("logs")
        let value = [UInt8](repeating: 7, count: 100)
        for round in 0..<2 {
            for index in 0..<6_000 {
                var batch = WriteBatch()
                batch.put(bytes(String(format: "key%07d", (index * 7_919 + round) % 100_000)), value)
                batch.put(bytes(String(format: "log%07d", index)), value, in: logs)
                try await db.write(batch)
            }
            // Three flushes in a row fill level 0 up to its trigger: a compaction is due or
            // running when the last one returns.
            for flush in 0..<3 {
                for index in 0..<400 { try await db.put(bytes(String(format: "f%d-%d-%05d", round, flush, index)), value) }
                try await db.flush()
            }
            if round == 0 {
                try { () throws in try db.waitForCompactions() }()  // the blocking form
            } else {
                try await db.waitForCompactions()
            }
            let statistics = db.statistics
            #expect(statistics.frozenMemtables == 0)
            #expect(statistics.levels.allSatisfy { $0.score < 1 }, "\(db.property(.levelSummary))")
            #expect(!db.backgroundActivity.flushing && !db.backgroundActivity.compacting)
            #expect(try logs.tables().filter { $0.level == 0 }.count < 3, "level 0 of logs is below its compaction trigger")
        }
        #expect(try await db.get(bytes(String(format: "key%07d", 7_919 % 100_000))) == value)
        try await db.close()
        #expect(throws: StrataError.closed) { try db.waitForCompactions() }
    }

    @Test func badInputGetsTheDocumentedErrorAndTheDatabaseStaysUsable() throws {
        let (db, _) = try openMemory { $0.maxValueSize = 1_000; $0.maxKeySize = 100 }
        #expect(throws: StrataError.invalidArgument("empty key")) { try db.put([], [1]) }
        #expect(throws: StrataError.invalidArgument("empty key")) { try db.get([]) }
        #expect(throws: StrataError.invalidArgument("value of 1001 bytes exceeds maxValueSize 1000")) { try db.put([1], [UInt8](repeating: 0, count: 1_001)) }
        #expect(throws: StrataError.invalidArgument("key of 101 bytes exceeds maxKeySize 100")) { try db.put([UInt8](repeating: 1, count: 101), [1]) }
        #expect(throws: StrataError.invalidArgument("range delete start must sort before its end")) { try db.deleteRange(from: [5], to: [5]) }
        #expect(throws: StrataError.invalidArgument("range delete start must sort before its end")) { try db.deleteRange(from: [6], to: [5]) }
        // A batch with one bad entry writes nothing.
        var batch = WriteBatch()
        batch.put([1], [1])
        batch.put([], [2])
        #expect(throws: StrataError.self) { try db.write(batch) }
        #expect(try db.get([1]) == nil)
        // Still usable.
        try db.put([1], [9])
        #expect(try db.get([1]) == [9])
        try db.close()
        try db.close()  // idempotent
        #expect(throws: StrataError.closed) { try db.put([1], [2]) }
        #expect(throws: StrataError.closed) { try db.get([1]) }
        #expect(throws: StrataError.closed) { try db.snapshot() }
        #expect(throws: StrataError.closed) { try db.flush() }
        #expect(throws: StrataError.closed) { try db.cursor() }
    }

    @Test func openingRefusesWhatIsNotADatabase() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/home")
        try memory.writeFile("/home/notes.txt", [1], sync: true)
        try memory.writeFile("/file", [1], sync: true)
        var options = testOptions(memory)
        let notEmpty = #expect(throws: StrataError.self) { try Database.open(at: "/home", options: options) }
        #expect(notEmpty == .invalidArgument("/home is not a Strata database and not empty (holds notes.txt)"))
        let isFile = #expect(throws: StrataError.self) { try Database.open(at: "/file", options: options) }
        #expect(isFile == .invalidArgument("/file exists and is not a directory"))
        options.createIfMissing = false
        let missing = #expect(throws: StrataError.self) { try Database.open(at: "/nothing", options: options) }
        #expect(missing == .invalidArgument("/nothing holds no database (no CURRENT file) and createIfMissing is off"))
        options.createIfMissing = true
        let db = try Database.open(at: "/fresh", options: options)
        try db.close()
        options.errorIfExists = true
        #expect(throws: StrataError.invalidArgument("a database already exists in /fresh")) { try Database.open(at: "/fresh", options: options) }
        var bad = testOptions(memory)
        bad.writeBufferSize = 10
        #expect(throws: StrataError.invalidArgument("writeBufferSize must be at least 4 KiB")) { try Database.open(at: "/x", options: bad) }
    }

    @Test func aSecondOpenIsLockedOut() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        var options = Options()
        options.logger.logLevel = .critical
        let db = try Database.open(at: directory.path, options: options)
        let error = #expect(throws: StrataError.self) { try Database.open(at: directory.path, options: options) }
        guard case .locked? = error else { Issue.record("\(String(describing: error))"); return }
        try db.close()
        let again = try Database.open(at: directory.path, options: options)
        try again.close()
    }

    @Test func snapshotsSeeAFrozenViewAcrossFlushesAndCompactions() throws {
        let (db, _) = try openMemory()
        try db.put(bytes("a"), bytes("1"))
        try db.put(bytes("b"), bytes("1"))
        let snapshot = try db.snapshot()
        try db.put(bytes("a"), bytes("2"))
        try db.delete(bytes("b"))
        try db.deleteRange(from: bytes("c"), to: bytes("z"))
        try db.put(bytes("d"), bytes("2"))
        for round in 0..<3 {
            #expect(try db.get(bytes("a"), at: snapshot) == bytes("1"), "round \(round)")
            #expect(try db.get(bytes("b"), at: snapshot) == bytes("1"))
            #expect(try db.get(bytes("d"), at: snapshot) == nil)
            #expect(try db.get(bytes("a")) == bytes("2"))
            #expect(try db.get(bytes("b")) == nil)
            #expect(try db.get(bytes("d")) == bytes("2"))
            #expect(try db.scan(at: snapshot).collect().map(\.key) == [bytes("a"), bytes("b")])
            if round == 0 { try db.flush() } else { try db.compactRange() }
        }
        try db.close()
    }

    @Test func cursorsHonourBoundsInBothDirections() throws {
        let (db, _) = try openMemory()
        for index in stride(from: 0, to: 100, by: 2) { try db.put(bytes("k" + String(index).leftPadded(to: 3)), bytes("\(index)")) }
        try db.flush()
        for index in stride(from: 1, to: 100, by: 2) { try db.put(bytes("k" + String(index).leftPadded(to: 3)), bytes("\(index)")) }
        let cursor = try db.cursor(ReadOptions(from: bytes("k010"), to: bytes("k020")))
        try cursor.seekToFirst()
        var keys: [String] = []
        while cursor.isValid {
            keys.append(String(decoding: cursor.key, as: UTF8.self))
            try cursor.next()
        }
        #expect(keys == (10..<20).map { "k" + String($0).leftPadded(to: 3) })
        try cursor.seekToLast()
        #expect(String(decoding: cursor.key, as: UTF8.self) == "k019")
        try cursor.prev()
        #expect(String(decoding: cursor.key, as: UTF8.self) == "k018")
        try cursor.next()
        try cursor.next()
        #expect(!cursor.isValid)
        try cursor.seek(to: bytes("k0155"))
        #expect(String(decoding: cursor.key, as: UTF8.self) == "k016")
        try cursor.seekForPrev(to: bytes("k0155"))
        #expect(String(decoding: cursor.key, as: UTF8.self) == "k015")
        try cursor.seek(to: bytes("a"))
        #expect(String(decoding: cursor.key, as: UTF8.self) == "k010")
        try cursor.seekForPrev(to: bytes("z"))
        #expect(String(decoding: cursor.key, as: UTF8.self) == "k019")
        #expect(cursor.withCurrent { key, value in Array(key) + Array(value) } == bytes("k01919"))
        let reversed = try db.scan(from: bytes("k090"), reverse: true).collect().map { String(decoding: $0.key, as: UTF8.self) }
        #expect(reversed == (90..<100).reversed().map { "k" + String($0).leftPadded(to: 3) })
        var asynchronous: [String] = []
        var iterator = db.scan(to: bytes("k003")).makeIterator()
        while let (key, _) = try iterator.next() { asynchronous.append(String(decoding: key, as: UTF8.self)) }
        #expect(asynchronous == ["k000", "k001", "k002"])
        try db.close()
    }

    @Test func batchesAreAtomicAndStatisticsCountThem() throws {
        let (db, _) = try openMemory()
        var batch = WriteBatch()
        batch.put("x", "1")
        batch.put("y", "2")
        batch.delete("x")
        batch.deleteRange(from: "a", to: "b")
        try db.write(batch, options: WriteOptions(sync: true))
        #expect(try db.get(bytes("x")) == nil)
        #expect(try db.get(bytes("y")) == bytes("2"))
        let statistics = db.statistics
        #expect(statistics.puts == 2 && statistics.deletes == 1 && statistics.rangeDeletes == 1)
        #expect(statistics.batches == 1 && statistics.walSyncs == 1)
        #expect(db.property(.levelSummary).contains("L0"))
        #expect(db.property(.statistics).contains("puts"))
        try db.close()
    }

    @Test func aBackgroundFailureMakesTheDatabaseReadOnlyAndAReopenRecoversEverything() throws {
        let memory = MemoryFileSystem()
        let faulty = FaultInjectionFileSystem(wrapping: memory)
        let db = try Database.open(at: "/db", options: testOptions(faulty))
        for index in 0..<200 { try db.put(bytes("k\(index)"), bytes("v\(index)"), options: WriteOptions(sync: true)) }
        faulty.inject(.init(.write, pathContains: ".sst", persistent: true))
        for index in 200..<2_000 {
            do { try db.put(bytes("k\(index)"), bytes("v\(index)")) } catch { break }
        }
        // The flush fails: every later write reports read-only.
        var readOnly: StrataError? = nil
        for _ in 0..<200 {
            do { try db.put(bytes("later"), bytes("x")); try db.flush() } catch let error as StrataError {
                readOnly = error
                break
            }
        }
        guard case .readOnly? = readOnly else { Issue.record("expected read-only, got \(String(describing: readOnly))"); return }
        #expect(try db.get(bytes("k5")) == bytes("v5"))  // reads still work
        try? db.close()
        faulty.clearFaults()
        let reopened = try Database.open(at: "/db", options: testOptions(memory))
        for index in 0..<200 { #expect(try reopened.get(bytes("k\(index)")) == bytes("v\(index)")) }
        try reopened.close()
    }
}
