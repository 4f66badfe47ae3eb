#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Encoding
import Strata
import StrataTestSupport
import VFS

@Suite struct DatabaseCheckpointTests {
    /// Threads keep rewriting ten keys per batch while checkpoints are taken: every checkpoint
    /// opens to one round's ten keys.
    @Test func aCheckpointUnderConcurrentWritesOpensToAConsistentState() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        var options = testOptions(PosixFileSystem())
        options.writeBufferSize = 16 << 10
        let db = try Database.open(at: directory.path + "/db", options: options)
        let stop = Atomic<Bool>(false)
        let writers = (0..<2).map { writer in
            Threads.start {
                var round = 0
                while !stop.load(ordering: .relaxed) {
                    round += 1
                    var batch = WriteBatch()
                    for key in 0..<10 { batch.put("w\(writer)-key\(key)", "\(round)") }
                    try! db.write(batch)
                }
            }
        }
        var checkpoints: [String] = []
        for index in 0..<5 {
            usleep(100_000)
            let target = directory.path + "/checkpoint\(index)"
            let report = try db.checkpoint(to: target)
            #expect(report.tables > 0 || index == 0)
            checkpoints.append(target)
        }
        stop.store(true, ordering: .relaxed)
        for writer in writers { writer.join() }
        try db.close()
        for target in checkpoints {
            let copy = try Database.open(at: target, options: options)
            for writer in 0..<2 {
                let values = try (0..<10).map { try copy.get("w\(writer)-key\($0)", as: String.self) }
                #expect(Set(values).count == 1, "checkpoint \(target) holds half a batch: \(values)")
            }
            // The copy is an ordinary database: it takes writes and reopens.
            try copy.put("after", "checkpoint")
            try copy.close()
            #expect(DatabaseVerifier.verifyHealthy(target))
        }
        // A checkpoint directory must be new or empty.
        let reopened = try Database.open(at: directory.path + "/db", options: options)
        #expect(throws: StrataError.self) { try reopened.checkpoint(to: checkpoints[0]) }
        try reopened.close()
    }

    @Test func aReadOnlyOpenCheckpointsItsInMemoryLogToo() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let options = testOptions(PosixFileSystem())
        let db = try Database.open(at: directory.path + "/db", options: options)
        for index in 0..<200 { try db.put("k\(index)", "v\(index)") }
        try db.flush()
        for index in 200..<260 { try db.put("k\(index)", "v\(index)") }  // log only
        try db.close()
        let reader = try Database.openReadOnly(at: directory.path + "/db", options: options)
        let report = try reader.checkpoint(to: directory.path + "/copy")
        try reader.close()
        let copy = try Database.open(at: directory.path + "/copy", options: options)
        defer { try? copy.close() }
        #expect(try copy.scan().collect().count == 260)
        #expect(try copy.get("k259", as: String.self) == "v259")
        #expect(copy.statistics.lastSequence == report.lastSequence.rawValue)
    }
}

extension DatabaseVerifier {
    /// Whether `verify` finds no damage.
    static func verifyHealthy(_ path: String) -> Bool {
        (try? verify(path: path).isHealthy) ?? false
    }
}
