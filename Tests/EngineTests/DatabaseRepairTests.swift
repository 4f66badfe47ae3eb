import Testing
import Encoding
import SSTable
import Strata
import StrataTestSupport
import VFS

@Suite struct DatabaseRepairTests {
    /// Writes that end in tables of several levels and in the log, with overwrites, deletes and a
    /// range delete; returns the expected contents.
    func populate(_ path: String, _ options: Options) throws -> [String: String] {
        let db = try Database.open(at: path, options: options)
        var model: [String: String] = [:]
        for round in 0..<3 {
            for index in 0..<1_500 {
                let key = "k" + String(index).leftPadded(to: 5)
                let value = "r\(round)-\(index)-" + String(repeating: "v", count: 40)
                try db.put(key, value)
                model[key] = value
            }
            for index in stride(from: round, to: 1_500, by: 7) {
                let key = "k" + String(index).leftPadded(to: 5)
                try db.delete(key)
                model[key] = nil
            }
        }
        try db.deleteRange(from: "k00300", to: "k00400")
        for index in 300..<400 { model["k" + String(index).leftPadded(to: 5)] = nil }
        try db.compactRange(from: "k00000", to: "k00500")
        for index in 0..<40 {
            let key = "log" + String(index)
            try db.put(key, "only in the WAL")
            model[key] = "only in the WAL"
        }
        #expect(db.statistics.levels.dropFirst().contains { $0.files > 0 }, "data reached levels below 0")
        try db.close()
        return model
    }

    @Test func repairAfterLosingManifestAndCurrentRecoversEveryKey() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let path = directory.path + "/db"
        let fileSystem = PosixFileSystem()
        let options = testOptions(fileSystem)
        let model = try populate(path, options)
        for name in try fileSystem.listDirectory(path) where name.hasPrefix("MANIFEST-") || name == "CURRENT" {
            try fileSystem.removeFile(path + "/" + name)
        }
        #expect(throws: StrataError.self) { try Database.open(at: path, options: { var o = options; o.createIfMissing = false; return o }()) }

        let report = try Database.repair(at: path, options: options)
        #expect(report.tablesKept == report.tablesFound && report.tablesFound > 0)
        #expect(report.tablesLost.isEmpty)
        #expect(report.walRecords >= 40)
        let db = try Database.open(at: path, options: options)
        defer { try? db.close() }
        var found: [String: String] = [:]
        try db.scan().forEach { key, value in found[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self) }
        #expect(found.count == model.count)
        #expect(found == model)
        #expect(DatabaseVerifier.verifyHealthy(path))
    }

    @Test func repairSetsADamagedTableAsideAndKeepsTheRest() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let path = directory.path + "/db"
        let fileSystem = PosixFileSystem()
        let options = testOptions(fileSystem)
        _ = try populate(path, options)
        let tables = try fileSystem.listDirectory(path).filter { $0.hasSuffix(".sst") }.sorted()
        let victim = path + "/" + tables[tables.count / 2]
        var bytes = try fileSystem.readFile(victim)
        bytes[100] ^= 0x40  // inside the first data block
        try fileSystem.writeFile(victim, bytes, sync: true)
        try fileSystem.removeFile(path + "/CURRENT")

        let report = try Database.repair(at: path, options: options)
        #expect(report.tablesLost.count == 1)
        #expect(report.tablesKept == report.tablesFound - 1)
        #expect(fileSystem.exists(path + "/lost"))
        let db = try Database.open(at: path, options: options)
        #expect(try db.get("log7", as: String.self) == "only in the WAL")
        try db.close()
        #expect(DatabaseVerifier.verifyHealthy(path))
    }

    /// Tables record their keyspace, so a repair puts them back: with the manifest gone the
    /// names come from the tables (a keyspace only the log knows becomes `recovered-<id>`);
    /// with a manifest that still replays, its keyspaces (and their options) are kept.
    @Test(arguments: [false, true])
    func repairPutsEveryKeyspaceBack(keepManifest: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let path = directory.path + "/db"
        let fileSystem = PosixFileSystem()
        let options = testOptions(fileSystem)
        do {
            let db = try Database.open(at: path, options: options)
            let users = try db.keyspace("users", options: KeyspaceOptions(compression: .zstd(level: 2)))
            let events = try db.keyspace("events")
            for index in 0..<300 {
                try db.put("k\(index)", "default")
                try users.put("k\(index)", "users")
            }
            try db.flush()
            // Only in the log: keys of every keyspace, and all of "events".
            try users.put("late", "u")
            try db.put("late", "d")
            try events.put("e1", "only logged")
            try db.close()
        }
        for name in try fileSystem.listDirectory(path) where (!keepManifest && name.hasPrefix("MANIFEST-")) || name == "CURRENT" {
            try fileSystem.removeFile(path + "/" + name)
        }
        let report = try Database.repair(at: path, options: options)
        #expect(report.keyspaces == (keepManifest ? ["events", "users"] : ["recovered-2", "users"]))
        let db = try Database.open(at: path, options: options)
        defer { try? db.close() }
        let users = try db.keyspace("users")
        #expect(try users.scan().collect().count == 301)
        #expect(try users.get("k7", as: String.self) == "users" && users.get("late", as: String.self) == "u")
        #expect(try db.scan().collect().count == 301)
        #expect(try db.get("k7", as: String.self) == "default")
        #expect(try db.keyspace(keepManifest ? "events" : "recovered-2").get("e1", as: String.self) == "only logged")
        if keepManifest {
            // The recorded options survived: the repair's compaction wrote zstd tables.
            let table = try #require(try users.tables().first)
            let properties = try TableReader.open(path: path + "/" + table.fileName, fileNumber: table.fileNumber, fileSystem: fileSystem).properties
            #expect(properties.codec == "zstd(2)" && properties.keyspaceName == "users")
        }
        #expect(DatabaseVerifier.verifyHealthy(path))
    }

    @Test func repairRefusesAnOpenDatabaseAndAnEmptyDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let options = testOptions(PosixFileSystem())
        let db = try Database.open(at: directory.path + "/db", options: options)
        #expect(throws: StrataError.self) { try Database.repair(at: directory.path + "/db", options: options) }
        try db.close()
        try PosixFileSystem().createDirectory(directory.path + "/empty")
        #expect(throws: StrataError.self) { try Database.repair(at: directory.path + "/empty", options: options) }
    }
}
