#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Strata
import Testing
import VFS

/// `Options.warmUpTablesOnOpen`: after a restart the tables are opened in the background, so
/// reads find them open.
@Suite struct TableWarmUpTests {
    /// A closed database of a few dozen tables over several levels.
    func makeDatabase(at path: String, options: Options) throws -> Int {
        let database = try Database.open(at: path, options: options)
        let value = String(repeating: "w", count: 200)
        for index in 0..<8000 { try database.put("key\(index)", "\(index)\(value)") }
        try database.flush()
        let tables = database.statistics.levels.reduce(0) { $0 + $1.files }
        try database.close()
        return tables
    }

    @Test func aWarmedUpDatabaseOpensNoTableOnItsFirstReads() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        // Inline background work: no compaction changes the tables while they are counted.
        var options = testOptions(PosixFileSystem(), background: false)
        options.compression = .none
        let tables = try makeDatabase(at: path, options: options)
        #expect(tables > 20)

        // Cold: nothing is open until reads open tables.
        let cold = try Database.open(at: path, options: options)
        #expect(cold.statistics.tableOpens == 0 && cold.statistics.tablesWarmedUp == 0)
        for index in stride(from: 0, to: 8000, by: 7) { _ = try cold.get("key\(index)") }
        #expect(cold.statistics.tableOpens > 0)
        try cold.close()

        // Warm: every table is opened in the background; the same reads open none.
        options.warmUpTablesOnOpen = true
        let warm = try Database.open(at: path, options: options)
        #expect(eventually(10) { warm.statistics.tablesWarmedUp == UInt64(tables) })
        let opened = warm.statistics.tableOpens
        #expect(opened == UInt64(tables))
        for index in stride(from: 0, to: 8000, by: 7) {
            #expect(try warm.get("key\(index)", as: String.self)?.hasPrefix("\(index)w") == true)
        }
        #expect(warm.statistics.tableOpens == opened, "the reads found every table open")
        try warm.close()
        withExtendedLifetime(directory) {}
    }

    @Test func theWarmUpStopsAtMaxOpenFiles() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db"
        // Inline background work: no compaction changes the tables while they are counted.
        var options = testOptions(PosixFileSystem(), background: false)
        options.compression = .none
        let tables = try makeDatabase(at: path, options: options)
        options.maxOpenFiles = 10
        options.warmUpTablesOnOpen = true
        #expect(tables > 20)
        let database = try Database.open(at: path, options: options)
        #expect(eventually(10) { database.statistics.tablesWarmedUp == 10 })
        usleep(200_000)
        #expect(database.statistics.tablesWarmedUp == 10)
        #expect(try database.get("key7999", as: String.self)?.hasPrefix("7999") == true)
        try database.close()
        withExtendedLifetime(directory) {}
    }
}
