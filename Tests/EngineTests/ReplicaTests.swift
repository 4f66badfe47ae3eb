import Encoding
import ObjectStore
import Strata
import StrataTestSupport
import Testing
import VFS

/// Read replicas following an object store (Docs/OBJECT-STORAGE.md, "Read replicas").
@Suite struct ReplicaTests {
    static let stored = WriteOptions(durability: .objectStore)

    func primaryOptions(_ store: any ObjectStore) -> Options {
        var options = testOptions(PosixFileSystem())
        options.objectStore = store
        options.walUploadInterval = 0.005
        options.metricsInterval = nil
        return options
    }

    func replicaOptions() -> Options {
        var options = testOptions(PosixFileSystem())
        options.replicaPollInterval = 0.05
        options.metricsInterval = nil
        return options
    }

    @Test func aReplicaFollowsThePrimaryAndRefusesWrites() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let primary = try await Database.open(at: scratch.path + "/primary", options: primaryOptions(store))
        for index in 0..<200 { try await primary.put("k\(index)", "v\(index)", options: index % 50 == 49 ? Self.stored : WriteOptions()) }
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: replicaOptions())
        #expect(replica.isReplica && !primary.isReplica)
        #expect(try await replica.get("k199", as: String.self) == "v199")
        await #expect {
            try await replica.put("x", "y")
        } throws: { error in
            if case .readOnly(let reason) = error as? StrataError { return reason == "replica" }
            return false
        }

        // New writes arrive by polling; minSequence waits for them.
        try await primary.put("late", "write", options: Self.stored)
        var options = ReadOptions()
        options.minSequence = primary.latestSequence.rawValue
        #expect(try await replica.get("late", options: options).map { String(decoding: $0, as: UTF8.self) } == "write")
        let status = try #require(replica.replicaStatus)
        #expect(status.appliedSequence >= primary.latestSequence.rawValue && status.stale == nil && status.secondsBehind < 5)
        #expect(replica.statistics.replica?.appliedSequence == status.appliedSequence || replica.statistics.replica != nil)

        // A sequence the primary never reached: the read times out.
        options.minSequence = primary.latestSequence.rawValue + 1000
        options.minSequenceTimeout = 0.2
        await #expect {
            _ = try await replica.get("late", options: options)
        } throws: { error in
            if case .timedOut = error as? StrataError { return true }
            return false
        }
        try await replica.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    /// Every read of the replica sees a prefix of the primary's history: batches whole, values
    /// never going back, across a restart; at the end both agree.
    @Test func theReplicaSeesAPrefixOfThePrimarysHistory() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        var writerOptions = primaryOptions(store)
        writerOptions.checkpointWALBytes = 16 << 10
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        var replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: replicaOptions())
        let keys = 20
        var lastSeen = Array(repeating: -1, count: keys)
        var rounds = 0
        for round in 0..<300 {
            // Batch `round` sets a pair of keys to `round`, atomically.
            let first = round % keys
            let second = (round * 7 + 3) % keys
            var batch = WriteBatch()
            batch.put("key\(first)", "\(round)")
            batch.put("key\(second)", "\(round)")
            batch.put("round", "\(round)")
            try await primary.write(batch, options: round % 10 == 0 ? Self.stored : WriteOptions())
            if round == 150 {
                // A restart of the replica in the middle.
                try await replica.close()
                replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: replicaOptions())
            }
            guard round % 5 == 0 else { continue }
            rounds += 1
            let snapshot = try replica.snapshot()
            let seenRound = try await replica.get("round", as: String.self, at: snapshot).flatMap(Int.init) ?? -1
            for index in 0..<keys {
                let value = try await replica.get("key\(index)", as: String.self, at: snapshot).flatMap(Int.init) ?? -1
                #expect(value >= lastSeen[index], "key\(index) went back from \(lastSeen[index]) to \(value)")
                #expect(value <= seenRound, "key\(index) holds round \(value), newer than the round marker \(seenRound)")
                lastSeen[index] = value
            }
            // The batch that set `round` is whole: both of its keys hold it (or something newer).
            if seenRound >= 0 {
                let a = seenRound % keys
                let b = (seenRound * 7 + 3) % keys
                for key in [a, b] {
                    let value = try await replica.get("key\(key)", as: String.self, at: snapshot).flatMap(Int.init) ?? -1
                    #expect(value >= seenRound, "batch \(seenRound) is not whole on the replica: key\(key) = \(value)")
                }
            }
        }
        try await primary.waitUntilStored()
        try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 20)
        for index in 0..<keys {
            #expect(try await replica.get("key\(index)") == (try await primary.get("key\(index)")))
        }
        #expect(rounds == 60)
        try await replica.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    @Test func aLeaseKeepsTheLogAndALapsedReplicaReBootstraps() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        var writerOptions = primaryOptions(store)
        writerOptions.checkpointWALBytes = 8 << 10
        writerOptions.storeGarbageGracePeriod = 0
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        let value = String(repeating: "v", count: 100)
        for index in 0..<100 { try await primary.put("a\(index)", value, options: Self.stored) }
        // A lease long enough for the writes below, however slow the machine.
        var options = replicaOptions()
        options.replicaLeaseDuration = 120
        var replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        let next = try #require(replica.replicaStatus).nextWALObject
        try await replica.close()

        // The primary checkpoints and collects while the replica is down, within its lease:
        // the log the replica needs stays.
        for index in 0..<300 { try await primary.put("b\(index)", value, options: index % 20 == 19 ? Self.stored : WriteOptions()) }
        #expect(try await store.head("wal/" + String(repeating: "0", count: 20 - String(next).count) + String(next)) != nil)
        // Reopened with a short lease, which then lapses while it is down.
        options.replicaLeaseDuration = 1
        replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 20)
        #expect(try await replica.get("b299", as: String.self) == value)
        let resumedAt = try #require(replica.replicaStatus).nextWALObject
        try await replica.close()

        // The lease lapses; the primary collects the log past it; the replica starts over from
        // the current manifest and still serves everything.
        try await Task.sleep(for: .milliseconds(1_500))
        for index in 0..<300 { try await primary.put("c\(index)", value, options: index % 20 == 19 ? Self.stored : WriteOptions()) }
        #expect(try await store.head("wal/" + String(repeating: "0", count: 20 - String(resumedAt).count) + String(resumedAt)) == nil,
                "the primary collected the log behind the lapsed lease")
        replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 20)
        #expect(try await replica.get("a0", as: String.self) == value)
        #expect(try await replica.get("c299", as: String.self) == value)
        #expect(replica.replicaStatus?.stale == nil)
        try await replica.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    @Test func promotionFencesTheOldPrimaryAndKeepsEveryStoredWrite() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let primary = try await Database.open(at: scratch.path + "/primary", options: primaryOptions(store))
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: replicaOptions())
        for index in 0..<100 { try await primary.put("k\(index)", "v\(index)", options: Self.stored) }
        let acknowledged = primary.latestSequence
        let writer = try await replica.promote()
        #expect(!writer.isReplica)
        #expect(writer.latestSequence >= acknowledged)
        #expect(try await writer.get("k99", as: String.self) == "v99")
        try await writer.put("after", "promotion", options: Self.stored)
        await #expect {
            try await primary.put("late", "write", options: Self.stored)
        } throws: { error in
            if case .fenced = error as? StrataError { return true }
            return false
        }
        try? await primary.close()
        #expect(try await writer.get("late") == nil)
        try await writer.close()
        // The store continues from the promoted writer: a restore sees its write.
        let restored = try await Database.open(at: scratch.path + "/restored", options: primaryOptions(store))
        #expect(try await restored.get("after", as: String.self) == "promotion")
        try await restored.close()
        withExtendedLifetime(scratch) {}
    }

    @Test func aCachedReplicaBootstrapsWithoutTables() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        var writerOptions = primaryOptions(store)
        writerOptions.checkpointWALBytes = 16 << 10
        writerOptions.compression = .none
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        let value = String(repeating: "v", count: 300)
        for index in 0..<4000 { try await primary.put("key\(index)", "\(index)\(value)", options: index % 500 == 499 ? Self.stored : WriteOptions()) }
        try await primary.compactRange()
        for index in 0..<200 { try await primary.put("late\(index)", value, options: index == 199 ? Self.stored : WriteOptions()) }
        var options = replicaOptions()
        options.localCacheBytes = 1 << 20
        options.compression = .none
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        for index in stride(from: 0, to: 4000, by: 13) {
            #expect(try await replica.get("key\(index)", as: String.self) == "\(index)\(value)")
        }
        #expect(replica.statistics.storeTableFetches > 0)
        // Promotion from a cached replica keeps every write; its checkpoints may refer to the
        // tables of the manifest it was bootstrapped from, never to its own by mistake.
        var writerAfter = primaryOptions(store)
        writerAfter.localCacheBytes = 1 << 20
        writerAfter.checkpointWALBytes = 16 << 10
        writerAfter.compression = .none
        writerAfter.storeGarbageGracePeriod = 0
        let writer = try await replica.promote(options: writerAfter)
        #expect(try await writer.get("late199", as: String.self) == value)
        try? await primary.close()
        for index in 0..<300 { try await writer.put("new\(index)", value, options: index % 50 == 49 ? Self.stored : WriteOptions()) }
        try await writer.close()
        let restored = try await Database.open(at: scratch.path + "/restored", options: primaryOptions(store))
        for index in stride(from: 0, to: 4000, by: 97) {
            #expect(try await restored.get("key\(index)", as: String.self) == "\(index)\(value)")
        }
        #expect(try await restored.get("new299", as: String.self) == value)
        try await restored.close()
        let report = try await Threads.run { try StoreVerifier(store: store).verify() }
        #expect(report.problems.isEmpty, "\(report.problems)")
        withExtendedLifetime(scratch) {}
    }

    @Test func aLeasedReplicaKeepsReadingWhileThePrimaryCompactsItsTablesAway() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        var writerOptions = primaryOptions(store)
        writerOptions.checkpointWALBytes = 16 << 10
        writerOptions.storeGarbageGracePeriod = 0
        writerOptions.compression = .none
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        let value = String(repeating: "v", count: 300)
        for index in 0..<3000 { try await primary.put("key\(index)", "old\(index)\(value)", options: index % 500 == 499 ? Self.stored : WriteOptions()) }
        try await primary.compactRange()
        for index in 0..<100 { try await primary.put("pad\(index)", value, options: index == 99 ? Self.stored : WriteOptions()) }
        var options = replicaOptions()
        options.localCacheBytes = 1 << 20
        options.compression = .none
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        var tablesAtBootstrap: Set<String> = []
        for try await object in store.objects(prefix: "tables/") { tablesAtBootstrap.insert(object.key) }

        // The primary rewrites every key's table and collects at once (grace 0): only the
        // replica's lease keeps the tables it was bootstrapped from.
        for index in 0..<3000 where index % 2 == 0 { try await primary.delete("key\(index)") }
        try await primary.compactRange()
        for index in 0..<400 { try await primary.put("later\(index)", value, options: index % 100 == 99 ? Self.stored : WriteOptions()) }
        var tablesAfter: Set<String> = []
        for try await object in store.objects(prefix: "tables/") { tablesAfter.insert(object.key) }
        // Every table of the bootstrap is obsolete to the primary now; garbage collection
        // deleted the unleased ones and kept those the lease names.
        #expect(!tablesAtBootstrap.subtracting(tablesAfter).isEmpty, "the primary collected tables")
        #expect(!tablesAtBootstrap.intersection(tablesAfter).isEmpty, "the lease kept the bootstrap manifest's tables")

        try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 20)
        for index in stride(from: 1, to: 3000, by: 2) {
            #expect(try await replica.get("key\(index)", as: String.self) == "old\(index)\(value)")
        }
        #expect(try await replica.get("key0") == nil)
        #expect(replica.statistics.storeTableFetches > 0)
        try await replica.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    @Test func aWriterDirectoryIsNotOpenedAsAReplica() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let primary = try await Database.open(at: scratch.path + "/primary", options: primaryOptions(store))
        try await primary.put("k", "v", options: Self.stored)
        try await primary.close()
        await #expect(throws: StrataError.self) {
            _ = try await Database.openReplica(objectStore: store, at: scratch.path + "/primary", options: replicaOptions())
        }
        await #expect(throws: StrataError.self) {
            _ = try await Database.openReplica(objectStore: MemoryObjectStore(), at: scratch.path + "/empty", options: replicaOptions())
        }
        withExtendedLifetime(scratch) {}
    }
}
