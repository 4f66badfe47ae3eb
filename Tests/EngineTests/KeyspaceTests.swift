import Testing
import Encoding
import Manifest
import SSTable
import Strata
import VFS

/// Named keyspaces: separate trees (memtables, levels, table options) sharing one log.
@Suite struct KeyspaceTests {
    static func key(_ index: Int) -> [UInt8] { Array("key\(String(index).leftPadded(to: 4))".utf8) }

    @Test func keyspacesAreSeparateKeySpaces() throws {
        let memory = MemoryFileSystem()
        let db = try Database.open(at: "/db", options: testOptions(memory))
        let users = try db.keyspace("users")
        let orders = try db.keyspace("orders")
        try db.put("k", "default")
        try users.put("k", "users")
        #expect(try db.get("k", as: String.self) == "default")
        #expect(try users.get("k", as: String.self) == "users")
        #expect(try orders.get("k") == nil)
        #expect(db.keyspaceNames == ["orders", "users"])
        #expect(users.id != orders.id && users.id != 0)
        // The same handle comes back by name; "default" is the database's own key space.
        #expect(try db.keyspace("users").id == users.id)
        #expect(try db.keyspace(Database.defaultKeyspaceName).get("k", as: String.self) == "default")

        try users.put("a", "1")
        try users.put("b", "2")
        try users.deleteRange(from: "b", to: "c")
        #expect(try users.scan().collect().map { String(decoding: $0.key, as: UTF8.self) } == ["a", "k"])
        #expect(try db.scan().collect().map { String(decoding: $0.key, as: UTF8.self) } == ["k"])
        let cursor = try users.cursor(ReadOptions(from: "b"))
        try cursor.seekToFirst()
        #expect(cursor.isValid && cursor.key == bytes("k"))
        try db.close()

        // Recovered from the log, then from tables.
        for _ in 0..<2 {
            let reopened = try Database.open(at: "/db", options: testOptions(memory))
            let users = try reopened.keyspace("users")
            #expect(try users.get("k", as: String.self) == "users")
            #expect(try users.get("a", as: String.self) == "1")
            #expect(try users.get("b") == nil)
            #expect(try reopened.get("k", as: String.self) == "default")
            #expect(reopened.keyspaceNames == ["orders", "users"])
            try reopened.flush()
            try reopened.close()
        }
    }

    /// The async writes of a keyspace reach that keyspace only; a write past the limits is
    /// refused, and one to a dropped keyspace fails, without touching any other keyspace.
    @Test func asyncKeyspaceWritesReachTheirKeyspace() async throws {
        let memory = MemoryFileSystem()
        let db = try await Database.open(at: "/db", options: testOptions(memory))
        let users = try await db.keyspace("users")
        let other = try await db.keyspace("other")
        for index in 0..<20 { try await users.put(Self.key(index), "u\(index)") }
        try await users.delete(Self.key(3))
        try await users.deleteRange(from: Self.key(10), to: Self.key(15))
        try await other.put(Self.key(3), "o3")
        #expect(try await users.scan().reduce(0) { count, _ in count + 1 } == 14)
        #expect(try await users.get(Self.key(3)) == nil)
        #expect(try await users.get(Self.key(4)) == Array("u4".utf8))
        #expect(try await other.get(Self.key(3)) == Array("o3".utf8))
        #expect(try await db.get(Self.key(4)) == nil)
        await #expect(throws: StrataError.self) { try await users.put([UInt8](), "empty key") }
        try await db.dropKeyspace("users")
        await #expect(throws: StrataError.self) { try await users.put(Self.key(1), "after the drop") }
        #expect(try await other.get(Self.key(3)) == Array("o3".utf8))
        try await db.close()
    }

    @Test func aBatchSpansKeyspacesAndASnapshotSeesThemAtOneMoment() throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        let a = try db.keyspace("a")
        let b = try db.keyspace("b")
        var batch = WriteBatch()
        batch.put("x", "1", in: a)
        batch.put("x", "2", in: b)
        batch.put("x", "0")
        try db.write(batch)
        let snapshot = try db.snapshot()
        var second = WriteBatch()
        second.delete("x", in: a)
        second.put("x", "3", in: b)
        try db.write(second)
        #expect(try a.get("x", at: snapshot) == bytes("1"))
        #expect(try b.get("x", at: snapshot) == bytes("2"))
        #expect(try a.get("x") == nil)
        #expect(try b.get("x") == bytes("3"))
        #expect(try b.scan(at: snapshot).collect().map(\.value) == [bytes("2")])
        try db.close()
    }

    @Test func eachKeyspaceWritesItsTablesWithItsOwnOptions() throws {
        let memory = MemoryFileSystem()
        var options = testOptions(memory)
        options.compression = .lz4
        options.bloomBitsPerKey = 10
        let db = try Database.open(at: "/db", options: options)
        let cold = try db.keyspace("cold", options: KeyspaceOptions(compression: .zstd(level: 3), bloomBitsPerKey: 0, blockSize: 16 << 10))
        let plain = try db.keyspace("plain")
        for index in 0..<400 {
            try db.put(Self.key(index), String(repeating: "v", count: 100))
            try cold.put(Self.key(index), String(repeating: "v", count: 100))
            try plain.put(Self.key(index), String(repeating: "v", count: 100))
        }
        try db.flush()
        try cold.compactRange()

        func properties(_ tables: [KeyspaceTable]) throws -> [TableProperties] {
            try tables.map { table in
                try TableReader.open(path: "/db/" + table.fileName, fileNumber: table.fileNumber, fileSystem: memory).properties
            }
        }
        let coldTables = try properties(cold.tables())
        let plainTables = try properties(plain.tables())
        #expect(!coldTables.isEmpty && !plainTables.isEmpty)
        #expect(coldTables.allSatisfy { $0.codec == "zstd(3)" && $0.filterBitsPerKey == 0 })
        #expect(plainTables.allSatisfy { $0.codec == "lz4" && $0.filterBitsPerKey == 10 })
        // 16 KiB blocks against the database's 512-byte ones.
        let coldBlocks = coldTables.reduce(0) { $0 + $1.dataBlocks }
        let plainBlocks = plainTables.reduce(0) { $0 + $1.dataBlocks }
        #expect(coldBlocks * 10 < plainBlocks, "cold \(coldBlocks) blocks, plain \(plainBlocks)")
        try db.close()

        // The options are recorded: after a reopen, without passing them, new tables use them;
        // passing other options records those.
        let reopened = try Database.open(at: "/db", options: options)
        let coldAgain = try reopened.keyspace("cold")
        try coldAgain.put("z", "1")
        try reopened.flush()
        let newest = try #require(try coldAgain.tables().first { $0.level == 0 })
        #expect(try properties([newest])[0].codec == "zstd(3)")
        let changed = try reopened.keyspace("cold", options: KeyspaceOptions(compression: Compression.none))
        try changed.put("z", "2")
        try reopened.flush()
        let newer = try #require(try changed.tables().first { $0.level == 0 })
        #expect(try properties([newer])[0].codec == "none")
        #expect(throws: StrataError.self) { try reopened.keyspace("bad", options: KeyspaceOptions(blockSize: 1)) }
        #expect(throws: StrataError.self) { try reopened.keyspace("") }
        #expect(throws: StrataError.self) { try reopened.keyspace("default", options: KeyspaceOptions(bloomBitsPerKey: 1)) }
        try reopened.close()
    }

    @Test func droppingAKeyspaceRemovesItsDataAndTablesAndItStaysGone() throws {
        let memory = MemoryFileSystem()
        let db = try Database.open(at: "/db", options: testOptions(memory))
        let doomed = try db.keyspace("doomed")
        let kept = try db.keyspace("kept")
        for index in 0..<500 {
            try doomed.put(Self.key(index), String(repeating: "d", count: 200))
            try kept.put(Self.key(index), "k")
        }
        try db.flush()
        let doomedTables = Set(try doomed.tables().map(\.fileNumber))
        #expect(!doomedTables.isEmpty)
        // Some of its writes are only in the log when it is dropped.
        try doomed.put("late", "x")
        let oldID = doomed.id
        try db.dropKeyspace("doomed")
        #expect(db.keyspaceNames == ["kept"])
        #expect(throws: StrataError.self) { try doomed.get(Self.key(1)) }
        #expect(throws: StrataError.self) { try doomed.put("x", "y") }
        #expect(throws: StrataError.self) { try db.dropKeyspace("doomed") }
        #expect(throws: StrataError.self) { try db.dropKeyspace("default") }
        func present() throws -> Set<UInt64> {
            Set(try memory.listDirectory("/db").compactMap { name -> UInt64? in
                guard case .table(let number)? = DatabaseFiles.kind(of: name) else { return nil }
                return number
            })
        }
        // A background compaction may hold the version with them a moment longer; the next
        // garbage collection (any flush) deletes them.
        #expect(try eventually(5) {
            try kept.put("poke", "1")
            try db.flush()
            return try present().isDisjoint(with: doomedTables)
        }, "the dropped keyspace's tables are deleted")
        #expect(try kept.get(Self.key(7)) == bytes("k"))
        try db.close()

        let reopened = try Database.open(at: "/db", options: testOptions(memory))
        #expect(reopened.keyspaceNames == ["kept"])
        let again = try reopened.keyspace("doomed")
        #expect(again.id > oldID, "keyspace ids are never reused")
        #expect(try again.get("late") == nil && again.scan().collect().isEmpty)
        #expect(try reopened.keyspace("kept").get(Self.key(499)) == bytes("k"))
        try reopened.close()
    }

    @Test func aReadOnlyOpenAndACheckpointSeeTheKeyspaces() throws {
        let memory = MemoryFileSystem()
        let db = try Database.open(at: "/db", options: testOptions(memory))
        let ks = try db.keyspace("ks")
        try ks.put("flushed", "1")
        try db.flush()
        try ks.put("logged", "2")
        try db.checkpoint(to: "/copy")
        let readOnly = try Database.openReadOnly(at: "/db", options: testOptions(memory))
        #expect(try readOnly.keyspace("ks").get("logged") == bytes("2"))
        #expect(try readOnly.keyspace("ks").get("flushed") == bytes("1"))
        #expect(throws: StrataError.self) { try readOnly.keyspace("new") }
        try readOnly.close()
        try db.close()
        let copy = try Database.open(at: "/copy", options: testOptions(memory))
        #expect(try copy.keyspace("ks").scan().collect().map(\.value) == [bytes("1"), bytes("2")])
        #expect(try DatabaseVerifier.verify(path: "/copy", fileSystem: memory).isHealthy)
        try copy.close()
    }

    /// Random writes over the default keyspace and two named ones, with flushes, compactions,
    /// reopens and a drop-and-recreate, against a model: every read agrees.
    @Test(arguments: 0..<4)
    func keyspacesAgreeWithAModel(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &+ 17)
        let memory = MemoryFileSystem()
        var db = try Database.open(at: "/db", options: testOptions(memory, background: seed % 2 == 0))
        let names = ["default", "one", "two"]
        var models: [[Int: [UInt8]]] = Array(repeating: [:], count: 3)
        var handles = try names.map { try db.keyspace($0) }
        func check() throws {
            for (index, handle) in handles.enumerated() {
                let entries = try handle.scan().collect()
                #expect(entries.count == models[index].count, "seed \(seed) keyspace \(names[index])")
                for entry in entries {
                    let key = Int(String(decoding: entry.key.dropFirst(3), as: UTF8.self))!
                    #expect(models[index][key] == entry.value)
                }
                for _ in 0..<20 {
                    let key = Int(random.next() % 200)
                    #expect(try handle.get(Self.key(key)) == models[index][key])
                }
            }
        }
        for step in 0..<3_000 {
            var batch = WriteBatch()
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let target = Int(random.next() % 3)
                let key = Int(random.next() % 200)
                switch random.next() % 10 {
                case 0..<7:
                    let value = Array("s\(step)".utf8) + [UInt8](repeating: UInt8(target), count: Int(random.next() % 150))
                    batch.put(Self.key(key), value, in: handles[target])
                    models[target][key] = value
                case 7..<9:
                    batch.delete(Self.key(key), in: handles[target])
                    models[target][key] = nil
                default:
                    let end = min(200, key + 1 + Int(random.next() % 15))
                    batch.deleteRange(from: Self.key(key), to: Self.key(end), in: handles[target])
                    for index in key..<end { models[target][index] = nil }
                }
            }
            try db.write(batch)
            if step % 500 == 499 { try check() }
            if step % 1_000 == 999 {
                try db.close()
                db = try Database.open(at: "/db", options: testOptions(memory, background: seed % 2 == 0))
                handles = try names.map { try db.keyspace($0) }
            }
            if step == 1_500 {
                try db.dropKeyspace("two")
                handles[2] = try db.keyspace("two")
                models[2] = [:]
            }
            if random.next() % 300 == 0 { try handles[Int(random.next() % 3)].compactRange() }
        }
        try check()
        try db.close()
        #expect(try DatabaseVerifier.verify(path: "/db", fileSystem: memory).isHealthy)
    }

    /// Power cuts during batches that each write one key to three keyspaces: after recovery
    /// every keyspace holds exactly the same prefix of the batches (all-or-nothing across
    /// keyspaces), and every synced batch is there.
    @Test(arguments: 0..<12)
    func crossKeyspaceBatchesSurvivePowerCutsWhole(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 104_729)
        let memory = MemoryFileSystem()
        var process = FaultInjectionFileSystem(wrapping: memory)
        let db = try Database.open(at: "/db", options: testOptions(process, background: seed % 2 == 0))
        let keyspaces = try [db.keyspace("a"), db.keyspace("b")]
        var lastSynced = -1
        let writes = 200 + Int(random.next() % 1_200)
        for index in 0..<writes {
            var batch = WriteBatch()
            let value = Array("w\(index)-".utf8) + [UInt8](repeating: 0x42, count: Int(random.next() % 200))
            batch.put(Self.key(index), value)
            for keyspace in keyspaces { batch.put(Self.key(index), value, in: keyspace) }
            let sync = random.next() % 10 < 2
            try db.write(batch, options: WriteOptions(sync: sync))
            if sync { lastSynced = index }
            if random.next() % 150 == 0 { try db.flush() }
        }
        process.failAllOperations()
        memory.simulatePowerCut(.keepRandomPrefix(seed: UInt64(seed)))
        try? db.close()

        process = FaultInjectionFileSystem(wrapping: memory)
        let reopened = try Database.open(at: "/db", options: testOptions(process))
        let contents = try [reopened.scan().collect()] + ["a", "b"].map { try reopened.keyspace($0).scan().collect() }
        let count = contents[0].count
        #expect(count >= lastSynced + 1, "seed \(seed): \(count) batches recovered, batch \(lastSynced) was synced")
        for entries in contents {
            #expect(entries.map(\.key) == (0..<count).map(Self.key), "seed \(seed): a keyspace holds another prefix")
            #expect(entries.map(\.value) == contents[0].map(\.value))
        }
        try reopened.close()
    }
}
