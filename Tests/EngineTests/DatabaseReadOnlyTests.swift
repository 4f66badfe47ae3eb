import Synchronization
import Testing
import Encoding
import Strata
import StrataTestSupport
import VFS

/// Every file in `directory`, with its bytes (sorted by name).
func directoryContents(_ directory: String, _ fileSystem: any FileSystem) throws -> [String: [UInt8]] {
    var contents: [String: [UInt8]] = [:]
    for name in try fileSystem.listDirectory(directory) where !fileSystem.isDirectory(directory + "/" + name) {
        contents[name] = try fileSystem.readFile(directory + "/" + name)
    }
    return contents
}

@Suite struct DatabaseReadOnlyTests {
    @Test func aReadOnlyOpenReadsEverythingAndChangesNoByte() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let path = directory.path + "/db"
        let fileSystem = PosixFileSystem()
        var options = testOptions(fileSystem)
        let writer = try Database.open(at: path, options: options)
        for index in 0..<3_000 { try writer.put("k" + String(index).leftPadded(to: 5), "v\(index)") }
        try writer.deleteRange(from: "k00100", to: "k00200")
        try writer.flush()
        for index in 0..<50 { try writer.put("late" + String(index), "in the log only") }
        try writer.close()
        let before = try directoryContents(path, fileSystem)

        options.readOnly = true
        let reader = try Database.open(at: path, options: options)
        #expect(reader.isReadOnly)
        #expect(try reader.get("k00050", as: String.self) == "v50")
        #expect(try reader.get("k00150") == nil)
        #expect(try reader.get("late7", as: String.self) == "in the log only")
        #expect(try reader.scan().collect().count == 3_000 - 100 + 50)
        #expect(reader.recovery.records > 0)
        #expect(reader.statistics.isReadOnly)
        let refused = StrataError.readOnly(reason: "the database was opened read-only")
        #expect(throws: refused) { try reader.put("x", "y") }
        #expect(throws: refused) { try reader.delete("x") }
        #expect(throws: refused) { try reader.flush() }
        #expect(throws: refused) { try reader.compactRange() }
        try reader.close()
        #expect(try directoryContents(path, fileSystem) == before)

        // A read-only open never creates a database.
        #expect(throws: StrataError.self) { try Database.openReadOnly(at: directory.path + "/missing", options: options) }
    }

    /// A writer keeps rewriting ten keys in one batch each round, with tiny buffers so flushes,
    /// compactions and garbage collection run all the time; read-only opens beside it always see
    /// one round's ten keys, and never an older round than the previous open saw.
    @Test func aReadOnlyOpenBesideAWriterSeesAConsistentState() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let path = directory.path + "/db"
        var options = testOptions(PosixFileSystem())
        options.writeBufferSize = 8 << 10
        let writer = try Database.open(at: path, options: options)
        try writer.put("seed", "0")
        let stop = Atomic<Bool>(false)
        let rounds = Atomic<Int>(0)
        let writerFailed = Atomic<Bool>(false)
        let thread = Threads.start {
            var round = 0
            while !stop.load(ordering: .relaxed) {
                round += 1
                var batch = WriteBatch()
                for key in 0..<10 { batch.put("key\(key)", String(round).leftPadded(to: 8) + String(repeating: "x", count: 200)) }
                guard (try? writer.write(batch)) != nil else {
                    writerFailed.store(true, ordering: .relaxed)
                    return
                }
                rounds.store(round, ordering: .relaxed)
            }
        }
        // Whatever happens below, the writer stops before the directory goes away.
        defer {
            stop.store(true, ordering: .relaxed)
            thread.join()
            try? writer.close()
        }
        var opens = 0
        var lastRound = 0
        let deadline = WallClock.monotonicNanoseconds() + 2_000_000_000
        while WallClock.monotonicNanoseconds() < deadline {
            let reader = try Database.openReadOnly(at: path, options: options)
            let values = try (0..<10).map { try reader.get("key\($0)", as: String.self) }
            try reader.close()
            opens += 1
            guard let first = values[0] else { continue }  // before the first round
            #expect(values.allSatisfy { $0 == first }, "a read-only open saw half a batch")
            let round = Int(first.prefix(8)) ?? -1
            #expect(round >= lastRound, "round went back from \(lastRound) to \(round)")
            lastRound = round
        }
        stop.store(true, ordering: .relaxed)
        thread.join()
        let written = rounds.load(ordering: .relaxed)
        let failed = writerFailed.load(ordering: .relaxed)
        #expect(!failed, "the writer's write failed")
        print("read-only opens beside a writer: \(opens) opens, writer reached round \(written), last round seen \(lastRound)")
        #expect(opens >= 5 && lastRound > 0)
    }
}
