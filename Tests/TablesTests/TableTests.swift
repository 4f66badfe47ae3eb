import Engine
import Foundation
import Synchronization
import StrataTestSupport
import Tables
import Testing
import VFS

/// Records and index entries written together: CRUD, unique constraints, concurrency,
/// backfills, verification.
@Suite struct TableTests {
    func open(_ fileSystem: MemoryFileSystem) throws -> Database {
        try Database.open(at: "/db", options: tableTestOptions(fileSystem))
    }

    @Test(arguments: [false, true]) func crudKeepsIndexesInStep(json: Bool) throws {
        let db = try open(MemoryFileSystem())
        let s = UserSchema(indexCount: 3, codec: json ? JSONRecordCodec() : BinaryRecordCodec())
        let users = try Table(s.schema, in: db)
        try users.insert(1, User(email: "ada@x", name: "Ada", age: 36, tags: ["math", "poet"]))
        try users.insert(2, User(email: "bob@x", name: "Bob", age: 41, tags: ["math"]))
        #expect(try users.get(1)?.name == "Ada")
        #expect(try users.first(s.byEmail, equals: "bob@x")?.key == 2)
        #expect(try users.query(s.byTag).equals("math").collect().map(\.key) == [1, 2])

        // insert of a taken key and a duplicate unique value: refused, nothing written.
        #expect(throws: StrataError.self) { try users.insert(1, User(email: "new@x", name: "N", age: 1, tags: [])) }
        #expect(throws: StrataError.self) { try users.insert(3, User(email: "ada@x", name: "Eve", age: 1, tags: ["eve"])) }
        #expect(try users.get(3) == nil)
        #expect(try users.query(s.byTag).equals("eve").collect().isEmpty)
        #expect(try users.first(s.byEmail, equals: "new@x") == nil)

        // update moves the entries; the old ones are gone.
        let updated = try users.update(1) { $0.email = "lovelace@x"; $0.tags = ["poet"] }
        #expect(updated?.email == "lovelace@x")
        #expect(try users.first(s.byEmail, equals: "ada@x") == nil)
        #expect(try users.first(s.byEmail, equals: "lovelace@x")?.key == 1)
        #expect(try users.query(s.byTag).equals("math").collect().map(\.key) == [2])
        #expect(try users.update(99) { $0.age = 0 } == nil)

        // The freed value can be taken by another record; upsert replaces.
        try users.insert(3, User(email: "ada@x", name: "Eve", age: 29, tags: []))
        let replaced = try users.upsert(2, User(email: "bob@y", name: "Bob", age: 42, tags: []))
        #expect(replaced?.email == "bob@x")
        #expect(try users.delete(3)?.name == "Eve")
        #expect(try users.delete(3) == nil)
        #expect(try users.first(s.byEmail, equals: "ada@x") == nil)
        let report = try users.verify()
        #expect(report.isConsistent, "\(report)")
        #expect(report.records == 2)
        #expect(report.entries == ["byEmail": 2, "byAge": 2, "byTag": 1])
        try db.close()
    }

    /// The async API runs the same operations on the database's threads.
    @Test func asyncCallsFromATask() async throws {
        let db = try await Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        try await users.insert(contentsOf: (0..<100).map { (UInt64($0), User(email: "a\($0)", name: "n", age: $0 % 10, tags: [])) })
        try await users.insert(100, User(email: "x", name: "x", age: 1, tags: ["t"]))
        let updated = try await users.update(100) { $0.age = 2 }
        #expect(updated?.age == 2)
        #expect(try await users.first(s.byEmail, equals: "a7")?.key == 7)
        var seen: [UInt64] = []
        var page = try await users.query(s.byAge).prefix(KeyTuple(2)).page(size: 4)
        seen += page.rows.map(\.key)
        while let token = page.next {
            page = try await users.query(s.byAge).prefix(KeyTuple(2)).after(token).page(size: 4)
            seen += page.rows.map(\.key)
        }
        #expect(seen == [2, 12, 22, 32, 42, 52, 62, 72, 82, 92, 100])
        #expect(try await users.delete(100)?.email == "x")
        #expect(try await users.verify().isConsistent)
        try await db.close()
    }

    /// Bulk inserts: a sorted batch checks its range once, an unsorted one key by key; a taken
    /// key anywhere in a batch fails that whole batch (earlier batches stay committed).
    @Test func bulkInsertsRefuseTakenKeysSortedOrNot() throws {
        let db = try open(MemoryFileSystem())
        let users = try Table(UserSchema().schema, in: db)
        try users.insert(50, User(email: "taken", name: "t", age: 1, tags: []))
        let user = { (id: Int) in User(email: "u\(id)", name: "n", age: id % 3, tags: []) }
        // Sorted, batches of 20: 0..<20 and 20..<40 commit, 40..<60 holds the taken 50.
        #expect(throws: StrataError.self) { try users.insert(contentsOf: (0..<100).map { (UInt64($0), user($0)) }, batchSize: 20) }
        #expect(try users.query().collect().map(\.key) == (0..<40).map(UInt64.init) + [50])
        // Unsorted: the same refusal.
        #expect(throws: StrataError.self) { try users.insert(contentsOf: [(UInt64(70), user(70)), (UInt64(50), user(50))]) }
        #expect(try users.get(70) == nil)
        // Sorted into a free range above everything.
        try users.insert(contentsOf: (100..<300).map { (UInt64($0), user($0)) }, batchSize: 64)
        #expect(try users.query().from(100).collect().count == 200)
        #expect(try users.verify().isConsistent)
        try db.close()
    }

    /// Dropping a table removes its records, entries and states — nothing of other tables or
    /// plain keys — and a reopened table with the same name starts empty with ready indexes.
    @Test func dropRemovesOneTableOnly() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        var db = try open(fileSystem)
        let s = UserSchema()
        var users = try Table(s.schema, in: db)
        let other = try Table(TableSchema<UInt64, String>(name: "users2"), in: db)
        try users.insert(contentsOf: (0..<500).map { (UInt64($0), User(email: "u\($0)", name: "n", age: $0 % 9, tags: ["t"])) })
        try other.insert(1, "kept")
        try db.put("plain", "kept")
        try db.flush()
        try users.drop()
        #expect(try users.query().collect().isEmpty)
        #expect(try other.get(1) == "kept")
        #expect(try db.get("plain", as: String.self) == "kept")
        let structure = try TableStructureCheck.run(db)
        #expect(structure.tables.map(\.name) == ["users2"], "\(structure)")
        try db.close()

        db = try open(fileSystem)
        users = try Table(s.schema, in: db)
        #expect(users.indexState("byEmail") == .ready)
        #expect(try users.query(s.byTag).equals("t").collect().isEmpty)
        try users.insert(7, User(email: "u1", name: "n", age: 1, tags: []))  // the old email is free again
        #expect(try users.verify().isConsistent)
        try db.close()
    }

    /// Writes of two tables and a plain key in one transaction: all or nothing.
    @Test func transactionsSpanTables() throws {
        let db = try open(MemoryFileSystem())
        let users = try Table(UserSchema().schema, in: db)
        let audit = try Table(TableSchema<KeyTuple<UInt64, UInt64>, String>(name: "audit"), in: db)
        try db.transaction { txn in
            try users.insert(1, User(email: "a@x", name: "A", age: 1, tags: []), in: txn)
            try audit.insert(KeyTuple(1, 1), "created", in: txn)
            try txn.put("plain", "key")
        }
        #expect(throws: StrataError.self) {
            try db.transaction { txn in
                try audit.insert(KeyTuple(1, 2), "second", in: txn)
                try users.insert(2, User(email: "a@x", name: "dup", age: 1, tags: []), in: txn)  // unique violation
            }
        }
        #expect(try audit.get(KeyTuple(1, 2)) == nil)
        #expect(try audit.query().prefix(UInt64(1)).collect().map(\.value) == ["created"])
        try db.close()
    }

    /// A table opened in a keyspace keeps its records and states there, its entries in that
    /// keyspace's index keyspace: the same table name in the default keyspace is another table;
    /// a transaction spans both; the schema-free check finds it; dropping the keyspace drops
    /// the table (its entries left in the index keyspace are cleared when it is opened anew).
    @Test func aTableInItsOwnKeyspace() throws {
        let memory = MemoryFileSystem()
        var db = try open(memory)
        let people = try db.keyspace("people", options: KeyspaceOptions(compression: .zstd(level: 1)))
        let s = UserSchema()
        let apart = try Table(s.schema, in: db, keyspace: people)
        let here = try Table(s.schema, in: db)
        try db.transaction { txn in
            try apart.insert(1, User(email: "ada@x", name: "Ada", age: 36, tags: ["math"]), in: txn)
            try here.insert(1, User(email: "ada@x", name: "Other Ada", age: 50, tags: []), in: txn)  // no clash: another table
        }
        for index in 2..<300 { try apart.insert(UInt64(index), User(email: "u\(index)@x", name: "U\(index)", age: index % 90, tags: ["t\(index % 7)"])) }
        #expect(try apart.get(1)?.name == "Ada" && here.get(1)?.name == "Other Ada")
        #expect(try apart.first(s.byEmail, equals: "ada@x")?.key == 1)
        #expect(try apart.query(s.byTag).equals("t3").collect().count == 43)
        #expect(try here.query().collect().count == 1)
        #expect(try db.scan().collect().count < 10, "the default keyspace holds only the other table")
        #expect(try people.scan().collect().count == 299 + 3 + 1, "records, index states and the index keyspace's name")
        #expect(apart.indexKeyspace.name == "people.indexes" && here.indexKeyspace.name == "default.indexes")
        #expect(try apart.indexKeyspace.scan().collect().count > 600)
        #expect(try apart.verify().isConsistent)
        let structure = try TableStructureCheck.run(db)
        #expect(structure.isHealthy, "\(structure)")
        #expect(structure.tables.map { "\($0.keyspace)/\($0.name)/\($0.records)" } == ["default/users/1", "people/users/299"])
        try db.close()

        db = try open(memory)
        let reopened = try Table(s.schema, in: db, keyspace: try db.keyspace("people"))
        #expect(try reopened.get(299)?.name == "U299")
        #expect(reopened.indexState("byEmail") == .ready)
        try db.dropKeyspace("people")
        #expect(db.keyspaceNames.contains("people.indexes"), "the index keyspace outlives the dropped one")
        let emptied = try Table(s.schema, in: db, keyspace: try db.keyspace("people"))
        #expect(try emptied.query().collect().isEmpty)
        #expect(try emptied.query(s.byTag).equals("t3").collect().isEmpty, "no entry of the dropped table is left")
        #expect(try TableStructureCheck.run(db).isHealthy)
        #expect(try Table(s.schema, in: db).get(1)?.name == "Other Ada")
        try db.close()
    }

    /// 8 threads insert different records with one email: exactly one succeeds, the rest get a
    /// constraint violation; the index names the winner.
    @Test func concurrentUniqueInsertsHaveOneWinner() throws {
        let db = try open(MemoryFileSystem())
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        for round in 0..<20 {
            let outcomes = Mutex<[UInt64: Bool]>([:])
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                let key = UInt64(round * 8 + thread)
                do {
                    try users.insert(key, User(email: "same\(round)@x", name: "t\(thread)", age: thread, tags: []))
                    outcomes.withLock { $0[key] = true }
                } catch StrataError.constraintViolation {
                    outcomes.withLock { $0[key] = false }
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
            let winners = outcomes.withLock { $0.filter(\.value).map(\.key) }
            #expect(winners.count == 1, "round \(round): \(winners)")
            #expect(try users.first(s.byEmail, equals: "same\(round)@x")?.key == winners.first)
        }
        #expect(try users.verify().isConsistent)
        try db.close()
    }

    /// Concurrent read-modify-write updates through `update`: no lost update.
    @Test func concurrentUpdatesAreNotLost() throws {
        let db = try open(MemoryFileSystem())
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        try users.insert(1, User(email: "c@x", name: "counter", age: 0, tags: []))
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<100 { _ = try? users.update(1) { $0.age += 1 } }
        }
        #expect(try users.get(1)?.age == 400)
        #expect(try users.query(s.byAge).prefix(KeyTuple(400)).collect().count == 1)
        try db.close()
    }

    /// An index added to a populated table is backfilled while writers change records; at the
    /// end it agrees with the records exactly.
    @Test func backfillRunsOnlineWhileWritesContinue() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        var db = try open(fileSystem)
        let plain = try Table(UserSchema(indexes: false).schema, in: db)
        try plain.insert(contentsOf: (0..<3000).map { (UInt64($0), User(email: "u\($0)@x", name: "n\($0 % 97)", age: $0 % 80, tags: ["t\($0 % 5)"])) })
        try db.close()

        db = try open(fileSystem)
        let s = UserSchema()
        let users = try Table(s.schema, in: db, buildIndexes: false)
        #expect(users.indexState("byEmail") == .building(progress: nil))
        #expect(throws: StrataError.self) { _ = try users.query(s.byEmail).collect() }
        let builder = Thread {
            do { try users.buildIndexes(batchSize: 100) } catch { Issue.record("backfill: \(error)") }
        }
        builder.start()
        var generator = SplitMix64(seed: 3)
        for step in 0..<1500 {
            let key = generator.next() % 3500
            switch step % 3 {
            case 0: _ = try users.delete(key)
            case 1: try users.upsert(key, User(email: "w\(step)@x", name: "w", age: step % 80, tags: ["t9", "t\(step % 5)"]))
            default: _ = try users.update(key) { $0.age += 1 }
            }
        }
        while ["byEmail", "byAge", "byTag"].contains(where: { users.indexState($0) != .ready }) { Thread.sleep(forTimeInterval: 0.01) }
        let report = try users.verify()
        #expect(report.isConsistent, "\(report)")
        // The index answers as a scan of the records does.
        let all = try users.query().collect()
        let t9 = all.filter { $0.value.tags.contains("t9") }.map(\.key)
        #expect(try users.query(s.byTag).equals("t9").collect().map(\.key) == t9)
        try db.close()
    }

    /// A backfill stopped by a failing disk resumes from its recorded progress after reopening.
    @Test func backfillResumesAfterAFailure() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        var db = try open(memory)
        let plain = try Table(UserSchema(indexes: false).schema, in: db)
        try plain.insert(contentsOf: (0..<2000).map { (UInt64($0), User(email: "u\($0)@x", name: "n", age: $0 % 50, tags: [])) })
        try db.close()

        let faulty = FaultInjectionFileSystem(wrapping: memory)
        var options = tableTestOptions(faulty)
        options.backgroundWork = false
        db = try Database.open(at: "/db", options: options)
        var schema = TableSchema<UInt64, User>(name: "users")
        let byEmail = schema.index("byEmail", unique: true) { $0.email }
        let users = try Table(schema, in: db, buildIndexes: false)
        // Let a few batches commit, then fail every log write.
        let progress = Thread {
            while true {
                if case .building(let at) = users.indexState("byEmail"), at != nil { break }
                Thread.sleep(forTimeInterval: 0.001)
            }
            faulty.failAllOperations()
        }
        progress.start()
        #expect(throws: (any Error).self) { try users.buildIndexes(batchSize: 50) }
        faulty.clearFaults()
        try? db.close()

        db = try open(memory)
        let reopened = try Table(schema, in: db, buildIndexes: false)
        guard case .building(let at?) = reopened.indexState("byEmail") else {
            Issue.record("expected recorded progress, found \(String(describing: reopened.indexState("byEmail")))")
            return
        }
        #expect(!at.isEmpty)
        try reopened.buildIndexes()
        #expect(reopened.indexState("byEmail") == .ready)
        #expect(try reopened.verify().isConsistent)
        #expect(try reopened.first(byEmail, equals: "u1999@x")?.key == 1999)
        try db.close()
    }

    /// A unique index added over records that share a value fails its backfill, says which,
    /// and is not used; fixing the records and rebuilding makes it ready.
    @Test func uniqueBackfillOverDuplicatesFails() throws {
        let db = try open(MemoryFileSystem())
        let plain = try Table(UserSchema(indexes: false).schema, in: db)
        try plain.insert(1, User(email: "dup@x", name: "a", age: 1, tags: []))
        try plain.insert(2, User(email: "dup@x", name: "b", age: 2, tags: []))
        let s = UserSchema()
        #expect(throws: StrataError.self) { _ = try Table(s.schema, in: db) }
        let users = try Table(s.schema, in: db, buildIndexes: false)
        guard case .failed(let reason) = users.indexState("byEmail") else {
            Issue.record("byEmail should have failed: \(String(describing: users.indexState("byEmail")))")
            return
        }
        #expect(reason.contains("dup@x"))
        #expect(users.indexState("byAge") == .ready)
        #expect(throws: StrataError.self) { _ = try users.first(s.byEmail, equals: "dup@x") }
        try users.update(2) { $0.email = "other@x" }
        try users.rebuildIndex("byEmail")
        #expect(try users.first(s.byEmail, equals: "dup@x")?.key == 1)
        #expect(try users.verify().isConsistent)
        try db.close()
    }

    /// verify() finds entries without records and records without entries.
    @Test func verifyReportsDisagreement() throws {
        let db = try open(MemoryFileSystem())
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        try users.insert(1, User(email: "a@x", name: "A", age: 1, tags: ["x"]))
        try users.insert(2, User(email: "b@x", name: "B", age: 2, tags: []))
        // Damage behind the table's back: a record key deleted, an entry added.
        // Docs/formats/tables.md: prefix, enc(table name), 01, enc(primary key).
        let record2 = TableSchema<UInt64, User>.defaultKeyPrefix + "users".orderedKeyBytes + [0x01] + UInt64(2).orderedKeyBytes
        let raw = try #require(try db.get(record2))
        try db.delete(record2)
        let report = try users.verify()
        #expect(!report.isConsistent)
        #expect(report.problemCount == 2, "\(report)")  // byEmail and byAge entries of record 2 have no record
        try db.put(record2, raw)
        #expect(try users.verify().isConsistent)
        try db.close()
    }
}
