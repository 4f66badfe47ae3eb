#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Strata
import Testing
import VFS

/// `Options.maxMemtableAge`: a quiet database flushes what it holds once it is old enough, so a
/// recovery has little or nothing to replay.
@Suite struct MemtableAgeTests {
    @Test func anOldMemtableIsFlushedAndARecoveryReplaysNothing() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        var options = testOptions(PosixFileSystem())
        options.writeBufferSize = 64 << 20
        options.maxMemtableAge = 0.2
        let database = try Database.open(at: path, options: options)
        for index in 0..<10 { try database.put("key\(index)", "value\(index)") }
        #expect(database.statistics.levels[0].files == 0, "a few small writes do not fill the memtable")
        #expect(eventually(10) { database.statistics.ageFlushes >= 1 && database.statistics.levels[0].files == 1 && database.statistics.frozenMemtables == 0 })
        // An empty memtable is never flushed for its age: nothing happens while the database idles.
        let settled = database.statistics
        usleep(600_000)
        #expect(database.statistics.ageFlushes == settled.ageFlushes && database.statistics.flushes == settled.flushes)
        #expect(try database.get("key7", as: String.self) == "value7")
        try database.close()

        let reopened = try Database.open(at: path, options: options)
        #expect(reopened.recovery.records == 0, "the flushed writes need no replay")
        #expect(try reopened.get("key9", as: String.self) == "value9")
        try reopened.close()
        withExtendedLifetime(directory) {}
    }

    @Test func withoutTheOptionASmallMemtableStays() throws {
        let directory = try TemporaryDirectory()
        var options = testOptions(PosixFileSystem())
        options.writeBufferSize = 64 << 20
        let database = try Database.open(at: directory.path + "/db", options: options)
        try database.put("key", "value")
        usleep(500_000)
        #expect(database.statistics.ageFlushes == 0 && database.statistics.levels[0].files == 0)
        try database.close()
        withExtendedLifetime(directory) {}
    }

    @Test func theAgeIsValidated() throws {
        let directory = try TemporaryDirectory()
        var options = testOptions(PosixFileSystem())
        options.maxMemtableAge = 0
        #expect(throws: StrataError.invalidArgument("maxMemtableAge must be between 0.01 seconds and a year")) {
            _ = try Database.open(at: directory.path + "/db", options: options)
        }
        withExtendedLifetime(directory) {}
    }
}
