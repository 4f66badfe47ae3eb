import Engine
import StrataTestSupport
import Tables
import Testing
import VFS

/// Index entries in a keyspace of their own: where they go, what the table records, tables
/// whose entries predate index keyspaces, a dropped index keyspace, and entries no table claims.
@Suite struct IndexKeyspaceTests {
    func open(_ fileSystem: MemoryFileSystem) throws -> Database {
        try Database.open(at: "/db", options: tableTestOptions(fileSystem))
    }

    /// The key under which the table `users` records its index keyspace (Docs/formats/tables.md).
    func placementKey(table: String = "users") -> [UInt8] {
        TableSchema<UInt64, User>.defaultKeyPrefix + table.orderedKeyBytes + [0x00] + "entries-keyspace".orderedKeyBytes
    }

    func fill(_ users: Table<UInt64, User>, count: Int) throws {
        try users.insert(contentsOf: (0..<count).map { (UInt64($0), User(email: "u\($0)@x", name: "n\($0 % 5)", age: $0 % 9, tags: ["t\($0 % 4)"])) })
    }

    /// By default the entries go to "<keyspace>.indexes": the records' keyspace holds records,
    /// index states and the placement; queries, verify, explain and the schema-free check read
    /// the entries there.
    @Test func entriesGoToTheIndexKeyspace() throws {
        let memory = MemoryFileSystem()
        var db = try open(memory)
        let s = UserSchema()
        var users = try Table(s.schema, in: db)
        try fill(users, count: 200)
        #expect(users.indexKeyspace.name == "default.indexes")
        #expect(db.keyspaceNames.contains("default.indexes"))
        #expect(try db.scan().collect().count == 200 + 3 + 1, "records, three index states, the placement")
        #expect(try db.get(placementKey()) == Array("default.indexes".utf8))
        // byEmail and byAge: one entry per record; byTag: one per tag.
        #expect(try users.indexKeyspace.scan().collect().count == 600)
        #expect(try users.query(s.byTag).equals("t1").collect().count == 50)
        #expect(try users.first(s.byEmail, equals: "u7@x")?.key == 7)
        #expect(users.query(s.byAge).explain().keyspace == "default.indexes")
        #expect(users.query().explain().keyspace == "default")
        #expect(try users.verify().isConsistent)
        let structure = try TableStructureCheck.run(db)
        #expect(structure.isHealthy, "\(structure)")
        #expect(structure.tables.map { "\($0.keyspace)/\($0.name)/\($0.records)" } == ["default/users/200"])
        #expect(structure.tables.first?.indexes.map(\.entries) == [200, 200, 200])
        try db.close()

        db = try open(memory)
        users = try Table(s.schema, in: db)
        #expect(users.indexKeyspace.name == "default.indexes")
        #expect(try users.query(s.byTag).equals("t1").collect().count == 50)
        try users.delete(1)
        #expect(try users.query(s.byTag).equals("t1").collect().count == 49)
        #expect(try users.verify().isConsistent)
        try db.close()
    }

    /// An index keyspace named by the opener is recorded; opening with another one is refused.
    @Test func aNamedIndexKeyspaceIsRecorded() throws {
        let memory = MemoryFileSystem()
        var db = try open(memory)
        let s = UserSchema()
        let chosen = try db.keyspace("user-indexes", options: KeyspaceOptions(bloomBitsPerKey: 16))
        try fill(try Table(s.schema, in: db, indexKeyspace: chosen), count: 50)
        #expect(try chosen.scan().collect().count == 150)
        #expect(!db.keyspaceNames.contains("default.indexes"))
        try db.close()

        db = try open(memory)
        let reopened = try Table(s.schema, in: db)  // no name given: the recorded one
        #expect(reopened.indexKeyspace.name == "user-indexes")
        #expect(try reopened.query(s.byAge).equals(KeyTuple(3, "n3")).collect().map(\.key) == [3, 48])
        let other = try db.keyspace("elsewhere")
        #expect(throws: StrataError.self) { try Table(s.schema, in: db, indexKeyspace: other) }
        try db.close()
    }

    /// A table that has index states but no recorded placement keeps its entries beside its
    /// records (tables written before index keyspaces): they are found there, and that place
    /// is recorded.
    @Test func entriesBesideTheRecordsStayThere() throws {
        let memory = MemoryFileSystem()
        var db = try open(memory)
        let s = UserSchema()
        // Entries beside the records, then the placement removed: the older layout.
        let users = try Table(s.schema, in: db, indexKeyspace: try db.keyspace(Database.defaultKeyspaceName))
        try fill(users, count: 60)
        try db.delete(placementKey())
        #expect(try db.scan().collect().count == 60 + 3 + 180)
        try db.close()

        db = try open(memory)
        let reopened = try Table(s.schema, in: db)
        #expect(reopened.indexKeyspace.name == Database.defaultKeyspaceName)
        #expect(!db.keyspaceNames.contains("default.indexes"))
        #expect(try db.get(placementKey()) == Array(Database.defaultKeyspaceName.utf8))
        #expect(try reopened.query(s.byTag).equals("t2").collect().count == 15)
        try reopened.insert(100, User(email: "new@x", name: "N", age: 1, tags: ["t2"]))
        #expect(try reopened.query(s.byTag).equals("t2").collect().count == 16)
        #expect(try reopened.verify().isConsistent)
        #expect(try TableStructureCheck.run(db).isHealthy)
        try db.close()
    }

    /// Dropping the index keyspace loses only what can be rebuilt: the next open creates it
    /// again and rebuilds every index from the records.
    @Test func aDroppedIndexKeyspaceIsRebuilt() throws {
        let memory = MemoryFileSystem()
        var db = try open(memory)
        let s = UserSchema()
        try fill(try Table(s.schema, in: db), count: 120)
        try db.dropKeyspace("default.indexes")
        try db.close()

        db = try open(memory)
        let users = try Table(s.schema, in: db)
        #expect(users.indexState("byEmail") == .ready && users.indexState("byTag") == .ready)
        #expect(try users.query(s.byTag).equals("t0").collect().count == 30)
        #expect(try users.first(s.byEmail, equals: "u119@x")?.key == 119)
        #expect(try users.verify().isConsistent)
        try db.close()
    }

    /// The schema-free check reports entries that no table's records claim; dropping a table
    /// removes its entries from the index keyspace in the same batch.
    @Test func theCheckFindsEntriesNoTableClaims() throws {
        let db = try open(MemoryFileSystem())
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        try fill(users, count: 40)
        let ghost = TableSchema<UInt64, User>.defaultKeyPrefix + "ghost".orderedKeyBytes + [0x02] + "byX".orderedKeyBytes + "v".orderedKeyBytes
        try users.indexKeyspace.put(ghost, [1, 0x41])
        let report = try TableStructureCheck.run(db)
        #expect(report.problemCount == 1, "\(report)")
        #expect(report.problems.first?.contains("no table") == true, "\(report)")

        try users.drop()
        #expect(try users.indexKeyspace.scan().collect().count == 1, "only the ghost entry is left")
        #expect(try db.scan().collect().isEmpty)
        try db.close()
    }
}
