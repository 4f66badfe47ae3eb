import Engine
import StrataTestSupport
import Tables
import Testing
import VFS

/// `strata verify --tables`: the schema-free check of typed tables — counts, index states, and
/// index entries that name records which do not exist (exit 3).
@Suite struct VerifyTablesTests {
    @Test func countsTablesAndFindsEntriesWithoutRecords() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = scratch.path + "/db"
        var options = tableTestOptions(PosixFileSystem())
        options.logger.logLevel = .critical
        var db = try Database.open(at: path, options: options)
        var users = try Table(UserSchema().schema, in: db)
        try users.insert(contentsOf: (0..<50).map { (UInt64($0), User(email: "u\($0)@x", name: "n", age: $0 % 5, tags: $0 % 2 == 0 ? ["even"] : [])) })
        try db.close()

        let healthy = try runTool("strata", ["verify", "--tables", "--db", path])
        #expect(healthy.status == 0, "\(healthy.errors)")
        #expect(healthy.output.contains("table users: 50 records"))
        #expect(healthy.output.contains("index byEmail (unique): 50 entries, ready"))
        #expect(healthy.output.contains("index byTag: 25 entries, ready"))
        #expect(healthy.output.hasSuffix("ok\n"))

        // A record removed behind the table's back leaves its entries naming nothing.
        db = try Database.open(at: path, options: options)
        users = try Table(UserSchema().schema, in: db)
        try db.delete(TableSchema<UInt64, User>.defaultKeyPrefix + "users".orderedKeyBytes + [0x01] + UInt64(4).orderedKeyBytes)
        try db.close()
        let damaged = try runTool("strata", ["verify", "--tables", "--db", path])
        #expect(damaged.status == 3)
        #expect(damaged.output.contains("table users: 49 records"))
        // byEmail, byAge and byTag each keep an entry for record 4.
        #expect(damaged.output.components(separatedBy: "which does not exist").count - 1 == 3, "\(damaged.output)")
        withExtendedLifetime(users) {}
    }
}
