import Encoding
import ObjectStore
import Strata
import StrataTestSupport
import Testing
import VFS

/// `Options.localCacheBytes`: the local table files as a bounded cache of the object store's
/// tables — an empty directory opens without downloading tables, a miss fetches, the budget is
/// kept by deleting what the store holds, and checkpoints keep referring to absent tables.
@Suite struct StoreTableCacheTests {
    static let budget: UInt64 = 1 << 20
    static let value = String(repeating: "v", count: 400)

    func options(_ store: any ObjectStore, cache: UInt64?) -> Options {
        var options = testOptions(PosixFileSystem())
        options.objectStore = store
        options.walUploadInterval = 0.005
        options.metricsInterval = nil
        options.writeBufferSize = 128 << 10
        options.targetFileSize = 128 << 10
        options.maxBytesForLevelBase = 512 << 10
        options.checkpointWALBytes = 64 << 10
        options.localCacheBytes = cache
        options.compression = .none  // the values repeat one letter: keep the tables their size
        return options
    }

    /// Table files in `directory`: name → size.
    func localTables(_ directory: String) throws -> [String: UInt64] {
        let fileSystem = PosixFileSystem()
        var tables: [String: UInt64] = [:]
        for name in try fileSystem.listDirectory(directory) where name.hasSuffix(".sst") {
            tables[name] = try fileSystem.fileSize(directory + "/" + name)
        }
        return tables
    }

    /// The store's table objects: local name → size.
    func storedTables(_ store: any ObjectStore) async throws -> [String: UInt64] {
        var tables: [String: UInt64] = [:]
        for try await object in store.objects(prefix: "tables/") {
            // tables/EPOCH-NAME (Docs/formats/object-store.md)
            guard let dash = object.key.firstIndex(of: "-") else { continue }
            tables[String(object.key[object.key.index(after: dash)...])] = object.size
        }
        return tables
    }

    /// A store holding `count` keys, written and checkpointed by a writer without a cache.
    func populatedStore(_ scratch: String, count: Int) async throws -> MemoryObjectStore {
        let store = MemoryObjectStore()
        let writer = try await Database.open(at: scratch + "/writer", options: options(store, cache: nil))
        for index in 0..<count {
            try await writer.put("key\(index)", "\(index)-\(Self.value)", options: WriteOptions(durability: index % 500 == 499 ? .objectStore : .local))
        }
        try await writer.compactRange()
        // Enough log after the compaction for one more checkpoint, which then names its tables.
        for index in 0..<400 { try await writer.put("late\(index)", Self.value) }
        try await writer.waitUntilStored()
        try await writer.close()
        return store
    }

    @Test func anEmptyDirectoryOpensWithoutTablesFetchesOnReadsAndKeepsTheBudget() async throws {
        let scratch = try TemporaryDirectory()
        let store = try await populatedStore(scratch.path, count: 6000)
        let stored = try await storedTables(store)
        let storedBytes = stored.values.reduce(0, +)
        #expect(storedBytes > 2 * Self.budget, "the store holds more than the budget (\(storedBytes) bytes)")

        let path = scratch.path + "/cached"
        var cachedOptions = options(store, cache: Self.budget)
        // No background compaction: it could fetch tables right after the open, before the
        // directory is looked at.
        cachedOptions.backgroundWork = false
        let db = try await Database.open(at: path, options: cachedOptions)
        let atOpen = try localTables(path)
        #expect(db.statistics.storeTableFetches == 0)
        #expect(atOpen.keys.allSatisfy { stored[$0] == nil }, "no table of the store was downloaded at open: \(atOpen.sorted { $0.key < $1.key }) store \(stored.sorted { $0.key < $1.key })")
        for index in 0..<6000 {
            #expect(try await db.get("key\(index)", as: String.self) == "\(index)-\(Self.value)")
        }
        for index in stride(from: 0, to: 400, by: 7) { #expect(try await db.get("late\(index)", as: String.self) == Self.value) }
        let statistics = db.statistics
        #expect(statistics.storeTableFetches > 0 && statistics.storeTableFetchedBytes > 0)
        #expect(statistics.storeTableEvictions > 0, "reading more than the budget evicted tables")
        // What the store holds is cached within the budget (plus the table fetched last); tables
        // only this directory holds are outside it.
        let cachedBytes = try localTables(path).filter { stored[$0.key] == $0.value }.values.reduce(0, +)
        #expect(cachedBytes <= Self.budget + (stored.values.max() ?? 0), "\(cachedBytes) bytes of the store's tables are local")
        print("store table cache: \(storedBytes) bytes in the store, budget \(Self.budget); \(statistics.storeTableFetches) fetches (\(statistics.storeTableFetchedBytes) bytes), \(statistics.storeTableEvictions) evictions, \(cachedBytes) cached bytes")

        // The next checkpoint names live tables this directory no longer holds; a plain restore
        // from it has everything.
        let absent = Set(stored.keys).subtracting(try localTables(path).keys)
        #expect(!absent.isEmpty)
        for index in 0..<400 { try await db.put("after\(index)", Self.value) }
        try await db.waitUntilStored()
        try await db.close()
        let restored = try await Database.open(at: scratch.path + "/restored", options: options(store, cache: nil))
        for index in stride(from: 0, to: 6000, by: 11) {
            #expect(try await restored.get("key\(index)", as: String.self) == "\(index)-\(Self.value)")
        }
        #expect(try await restored.get("after399", as: String.self) == Self.value)
        try await restored.close()
        withExtendedLifetime(scratch) {}
    }

    @Test func compactionAndCheckpointsWorkOverAbsentTablesAndTheNextOwnerSeesEverything() async throws {
        let scratch = try TemporaryDirectory()
        let store = try await populatedStore(scratch.path, count: 4000)
        let second = try await Database.open(at: scratch.path + "/second", options: options(store, cache: Self.budget))
        // Overwrite a third of the keys and delete a range: compactions read absent inputs.
        for index in stride(from: 0, to: 4000, by: 3) { try await second.put("key\(index)", "new\(index)") }
        try await second.deleteRange(from: "key1", to: "key2")
        try await second.compactRange()
        for index in 0..<400 { try await second.put("later\(index)", Self.value) }
        try await second.waitUntilStored()
        try await second.close()

        // A third owner, also with a cache, sees the second's history.
        let third = try await Database.open(at: scratch.path + "/third", options: options(store, cache: Self.budget))
        for index in 0..<4000 {
            let key = "key\(index)"
            let expected: String? = key.hasPrefix("key1") ? nil : index % 3 == 0 ? "new\(index)" : "\(index)-\(Self.value)"
            #expect(try await third.get(key, as: String.self) == expected, "\(key)")
        }
        #expect(try await third.get("later399", as: String.self) == Self.value)
        // A user checkpoint of a cached database is complete: absent tables are fetched into it.
        let copy = scratch.path + "/copy"
        try await Threads.run { _ = try third.checkpoint(to: copy) }  // fetches: off the cooperative pool
        try await third.close()
        var plain = testOptions(PosixFileSystem())
        plain.readOnly = true
        let reader = try await Database.open(at: copy, options: plain)
        #expect(try await reader.get("key3", as: String.self) == "new3")
        #expect(try await reader.get("key4", as: String.self) == "4-\(Self.value)")
        try await reader.close()
        let report = try await Threads.run { try StoreVerifier(store: store).verify() }
        #expect(report.problems.isEmpty, "\(report.problems)")
        withExtendedLifetime(scratch) {}
    }

    @Test func theCacheNeedsAStoreAndAtLeastOneMebibyte() throws {
        var options = testOptions(MemoryFileSystem())
        options.localCacheBytes = 1 << 30
        #expect(throws: StrataError.self) { try options.validate() }
        options.objectStore = MemoryObjectStore()
        options.localCacheBytes = 1000
        #expect(throws: StrataError.self) { try options.validate() }
        options.localCacheBytes = 1 << 20
        try options.validate()
    }
}
