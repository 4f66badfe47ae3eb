import Encoding
import ObjectStore
import Strata
import StrataTestSupport
import Testing
import VFS

/// Read replicas following an object store (Docs/OBJECT-STORAGE.md, "Read replicas").
@Suite struct ReplicaTests {
    static let stored = WriteOptions(durability: .objectStore)

    /// A primary's options: uploads every 5 ms; with `checkpointWALBytes`, checkpoints that often;
    /// with `collectAtOnce`, no garbage grace period.
    func primaryOptions(_ store: any ObjectStore, checkpointWALBytes: UInt64? = nil, collectAtOnce: Bool = false) -> Options {
        var options = testOptions(PosixFileSystem())
        options.objectStore = store
        options.walUploadInterval = 0.005
        options.metricsInterval = nil
        if let checkpointWALBytes { options.checkpointWALBytes = checkpointWALBytes }
        if collectAtOnce { options.storeGarbageGracePeriod = 0 }
        return options
    }

    /// A replica's options: polls every 50 ms, or — `pollingRarely` — every 30 s with a 120 s
    /// lease, so a test decides when it catches up (`catchUp()`).
    func replicaOptions(pollingRarely: Bool = false) -> Options {
        var options = testOptions(PosixFileSystem())
        options.replicaPollInterval = pollingRarely ? 30 : 0.05
        if pollingRarely { options.replicaLeaseDuration = 120 }
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

    /// A replica follows keyspaces: those it bootstrapped with, one the primary creates while it
    /// follows (its writes arrive before the manifest naming it), and a drop; cross-keyspace
    /// batches arrive whole; a replica snapshot reads every keyspace at one moment; across
    /// manifests installed by checkpoints and a restart.
    @Test func aReplicaFollowsKeyspaces() async throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }
        let store = MemoryObjectStore()
        let primary = try await Database.open(at: scratch.path + "/primary", options: primaryOptions(store, checkpointWALBytes: 16 << 10))
        let users = try await primary.keyspace("users")
        let doomed = try await primary.keyspace("doomed")
        func write(_ index: Int, _ spaces: [Keyspace]) async throws {
            var batch = WriteBatch()
            batch.put("k\(index)", "v\(index)")
            for space in spaces { batch.put("k\(index)", "\(space.name)\(index)", in: space) }
            try await primary.write(batch, options: index % 25 == 24 ? Self.stored : WriteOptions())
        }
        for index in 0..<300 { try await write(index, [users, doomed]) }
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: replicaOptions(pollingRarely: true))
        #expect(replica.keyspaceNames == ["doomed", "users"])
        #expect(try await replica.keyspace("users").get("k299") == Array("users299".utf8))

        // A keyspace created while the replica follows: writes to it, then the replica catches
        // up (the WAL objects first, then the manifest that names it).
        let late = try await primary.keyspace("late")
        for index in 300..<900 { try await write(index, [users, late]) }
        try await primary.dropKeyspace("doomed")
        try await primary.put("end", "1", options: Self.stored)
        try await replica.catchUp()
        #expect(replica.keyspaceNames == ["late", "users"])
        let lateOnReplica = try await replica.keyspace("late")
        #expect(try await lateOnReplica.scan().reduce(0) { count, _ in count + 1 } == 600)
        #expect(try await lateOnReplica.get("k300") == Array("late300".utf8))
        #expect(try await replica.keyspace("users").scan().reduce(0) { count, _ in count + 1 } == 900)
        await #expect(throws: StrataError.self) { try await replica.keyspace("doomed").get("k1") }
        // One snapshot: a batch's keys agree across keyspaces.
        let snapshot = try replica.snapshot()
        let defaultKeys = try await replica.scan(at: snapshot).reduce(0) { count, _ in count + 1 }
        #expect(try await replica.keyspace("users").scan(at: snapshot).reduce(0) { count, _ in count + 1 } == defaultKeys - 1)  // "end" is default-only
        // Replicas refuse to create keyspaces.
        await #expect(throws: StrataError.self) { try await replica.keyspace("new") }
        try await replica.close()

        // After a restart the replica has them all again.
        for index in 900..<1_000 { try await write(index, [users, late]) }
        try await primary.put("end2", "1", options: Self.stored)
        let reopened = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: replicaOptions(pollingRarely: true))
        try await reopened.catchUp()
        #expect(try await reopened.keyspace("late").scan().reduce(0) { count, _ in count + 1 } == 700)
        #expect(try await reopened.keyspace("users").get("k999") == Array("users999".utf8))
        try await reopened.close()
        try await primary.close()
    }

    /// Every read of the replica sees a prefix of the primary's history: batches whole, values
    /// never going back, across a restart; at the end both agree.
    @Test func theReplicaSeesAPrefixOfThePrimarysHistory() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let writerOptions = primaryOptions(store, checkpointWALBytes: 16 << 10)
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
        let writerOptions = primaryOptions(store, checkpointWALBytes: 8 << 10, collectAtOnce: true)
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
        var writerOptions = primaryOptions(store, checkpointWALBytes: 16 << 10)
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

    /// The lease keeps the tables of the manifest a replica reads while it has not moved on
    /// (here: it polls rarely), however the primary compacts; catching up installs the
    /// primary's new tables, and the lease then lets the old ones go.
    @Test func aLeasedReplicaKeepsReadingWhileThePrimaryCompactsItsTablesAway() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        var writerOptions = primaryOptions(store, checkpointWALBytes: 16 << 10, collectAtOnce: true)
        writerOptions.compression = .none
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        let value = String(repeating: "v", count: 300)
        for index in 0..<3000 { try await primary.put("key\(index)", "old\(index)\(value)", options: index % 500 == 499 ? Self.stored : WriteOptions()) }
        try await primary.compactRange()
        for index in 0..<100 { try await primary.put("pad\(index)", value, options: index == 99 ? Self.stored : WriteOptions()) }
        var options = replicaOptions(pollingRarely: true)
        options.localCacheBytes = 1 << 20
        options.compression = .none
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        let installedAtBootstrap = try #require(replica.replicaStatus).installedManifest
        var tablesAtBootstrap: Set<String> = []
        for try await object in store.objects(prefix: "tables/") { tablesAtBootstrap.insert(object.key) }

        // The primary rewrites every key's table and collects at once (grace 0): only the
        // replica's lease keeps the tables of the manifest it reads.
        for index in 0..<3000 where index % 2 == 0 { try await primary.delete("key\(index)") }
        try await primary.compactRange()
        for index in 0..<400 { try await primary.put("later\(index)", value, options: index % 100 == 99 ? Self.stored : WriteOptions()) }
        // One more checkpoint, and its collection, before looking (the background ones may lag).
        try await Threads.run { try primary.uploadCheckpoint() }
        var tablesAfter: Set<String> = []
        for try await object in store.objects(prefix: "tables/") { tablesAfter.insert(object.key) }
        // Every table of the bootstrap is obsolete to the primary now; garbage collection
        // deleted the unleased ones and kept those of the manifest the lease names.
        let kept = tablesAtBootstrap.intersection(tablesAfter)
        #expect(!tablesAtBootstrap.subtracting(tablesAfter).isEmpty, "the primary collected tables")
        #expect(!kept.isEmpty, "the lease kept the installed manifest's tables")
        #expect(replica.replicaStatus?.installedManifest == installedAtBootstrap, "the replica has not polled")
        // Reads fetch those tables from the store (the local cache holds 1 MiB of them).
        for index in stride(from: 0, to: 3000, by: 7) {
            #expect(try await replica.get("key\(index)", as: String.self) == "old\(index)\(value)")
        }
        #expect(replica.statistics.storeTableFetches > 0)

        // Catching up installs the primary's compacted tables: the deletes show, and the
        // replica holds no memtable of what the manifest covers.
        try await Threads.run { try replica.catchUp() }
        let status = try #require(replica.replicaStatus)
        #expect(status.installedManifest > installedAtBootstrap && status.stale == nil)
        #expect(status.appliedSequence == primary.latestSequence.rawValue)
        for index in stride(from: 0, to: 3000, by: 7) {
            #expect(try await replica.get("key\(index)", as: String.self) == (index % 2 == 0 ? nil : "old\(index)\(value)"))
        }
        #expect(try await replica.get("later399", as: String.self) == value)
        // The lease moved on: the next collection deletes tables only the old manifest had.
        for index in 0..<200 { try await primary.put("last\(index)", value, options: index % 100 == 99 ? Self.stored : WriteOptions()) }
        try await Threads.run { try primary.uploadCheckpoint() }
        var tablesFinally: Set<String> = []
        for try await object in store.objects(prefix: "tables/") { tablesFinally.insert(object.key) }
        #expect(tablesAtBootstrap.intersection(tablesFinally).count < kept.count, "the primary collected the tables the replica left")
        try await replica.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    /// A replica reads the primary's tables: after the primary checkpoints, the replica's
    /// version is the primary's (same tables, same levels) and its memtables hold only what
    /// came after the checkpoint.
    @Test func aReplicaInstallsThePrimarysTablesAndDropsWhatTheyCover() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        var writerOptions = primaryOptions(store, checkpointWALBytes: 1 << 30)
        writerOptions.writeBufferSize = 64 << 10
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        var options = replicaOptions()
        options.writeBufferSize = 64 << 10
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        let value = String(repeating: "x", count: 200)
        for index in 0..<3000 { try await primary.put("key\(index)", "\(index)\(value)", options: index % 300 == 299 ? Self.stored : WriteOptions()) }
        try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 20)
        // No checkpoint yet: everything is in the replica's memtables, several of them.
        #expect(replica.statistics.frozenMemtables > 0)
        #expect(replica.statistics.levels.reduce(0) { $0 + $1.files } == 0)

        // A checkpoint (the primary flushes, then uploads its manifest): the replica installs it.
        try await Threads.run { try primary.uploadCheckpoint() }
        try await Threads.run { try replica.catchUp() }
        let primaryLevels = primary.statistics.levels.map(\.files)
        #expect(replica.statistics.levels.map(\.files) == primaryLevels)
        #expect(replica.statistics.frozenMemtables == 0 && replica.statistics.memtableBytes < 64 << 10)
        for index in stride(from: 0, to: 3000, by: 11) {
            #expect(try await replica.get("key\(index)", as: String.self) == "\(index)\(value)")
        }
        // Restarted, it opens at the installed manifest and applies the log after it again.
        try await primary.put("after", "checkpoint", options: Self.stored)
        try await replica.close()
        let reopened = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        #expect(try await reopened.get("after", as: String.self) == "checkpoint")
        #expect(try await reopened.get("key2999", as: String.self) == "2999\(value)")
        #expect(reopened.statistics.levels.map(\.files) == primaryLevels)
        try await reopened.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    /// Past `replicaMemtableBytes` a replica writes its oldest memtables to local tables (its
    /// memory stays bounded while the writer does not checkpoint); the next manifest that covers
    /// them replaces them with the writer's tables.
    @Test func aReplicaBoundsItsMemtablesWhileTheWriterDoesNotCheckpoint() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let writerOptions = primaryOptions(store, checkpointWALBytes: 1 << 30)
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        var options = replicaOptions()
        options.writeBufferSize = 16 << 10
        options.replicaMemtableBytes = 64 << 10
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        let value = String(repeating: "y", count: 200)
        for index in 0..<3000 { try await primary.put("key\(index)", "\(index)\(value)", options: index % 500 == 499 ? Self.stored : WriteOptions()) }
        try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 20)
        let bounded = replica.statistics
        #expect(bounded.flushes > 0 && bounded.levels[0].files > 0, "the replica wrote local tables")
        #expect(bounded.memtableBytes < (64 << 10) + 3 * (16 << 10) + (1 << 20), "\(bounded.memtableBytes) bytes in memtables")
        for index in stride(from: 0, to: 3000, by: 13) {
            #expect(try await replica.get("key\(index)", as: String.self) == "\(index)\(value)")
        }
        // A restart keeps the local tables and replays only the log after them.
        try await replica.close()
        let reopened = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        #expect(try await reopened.get("key2999", as: String.self) == "2999\(value)")
        // The writer checkpoints: the replica's own tables give way to the writer's.
        try await Threads.run { try primary.uploadCheckpoint() }
        try await Threads.run { try reopened.catchUp() }
        #expect(reopened.statistics.levels.map(\.files) == primary.statistics.levels.map(\.files))
        for index in stride(from: 0, to: 3000, by: 13) {
            #expect(try await reopened.get("key\(index)", as: String.self) == "\(index)\(value)")
        }
        try await reopened.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    /// A running replica whose log the primary collected (its lease lapsed) continues from the
    /// newest manifest at its next poll — no reopen — and never shows older data.
    @Test func aRunningReplicaBehindGarbageCollectionContinuesFromTheNewestManifest() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let writerOptions = primaryOptions(store, checkpointWALBytes: 8 << 10, collectAtOnce: true)
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        let value = String(repeating: "v", count: 100)
        for index in 0..<100 { try await primary.put("k\(index % 10)", "\(index)\(value)", options: Self.stored) }
        let options = replicaOptions(pollingRarely: true)
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        #expect(try await replica.get("k9", as: String.self) == "99\(value)")
        let next = try #require(replica.replicaStatus).nextWALObject
        // The lease vanishes (as if it lapsed); the primary checkpoints and collects the log.
        for try await object in store.objects(prefix: "leases/") { try await store.delete(object.key) }
        for index in 100..<600 { try await primary.put("k\(index % 10)", "\(index)\(value)", options: index % 20 == 19 ? Self.stored : WriteOptions()) }
        // Checkpoints of our own too (the background ones may lag on a loaded machine): the
        // retained manifests then start past the replica's position.
        for _ in 0..<2 { try await Threads.run { try primary.uploadCheckpoint() } }
        #expect(try await store.head("wal/" + String(repeating: "0", count: 20 - String(next).count) + String(next)) == nil,
                "the primary collected the log the replica needs next")
        try await Threads.run { try replica.catchUp() }
        let status = try #require(replica.replicaStatus)
        #expect(status.stale == nil && status.appliedSequence == primary.latestSequence.rawValue)
        for index in 0..<10 { #expect(try await replica.get("k\(index)", as: String.self) == "\(590 + index)\(value)") }
        try await replica.close()
        try await primary.close()
        withExtendedLifetime(scratch) {}
    }

    /// A snapshot on a replica keeps its view when the replica installs a manifest whose
    /// tables no longer hold the versions it reads (the primary compacted them away).
    @Test func aReplicaSnapshotKeepsItsViewAcrossAnInstall() async throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryObjectStore()
        let primary = try await Database.open(at: scratch.path + "/primary", options: primaryOptions(store))
        for index in 0..<200 { try await primary.put("key\(index)", "old", options: index == 199 ? Self.stored : WriteOptions()) }
        let options = replicaOptions(pollingRarely: true)
        let replica = try await Database.openReplica(objectStore: store, at: scratch.path + "/replica", options: options)
        let snapshot = try replica.snapshot()
        let cursorOptions = ReadOptions(snapshot: snapshot)
        for index in 0..<200 { try await primary.put("key\(index)", "new", options: index == 199 ? Self.stored : WriteOptions()) }
        try await primary.compactRange()
        try await Threads.run { try primary.uploadCheckpoint() }
        try await Threads.run { try replica.catchUp() }
        #expect(try await replica.get("key7", as: String.self) == "new")
        #expect(try await replica.get("key7", as: String.self, at: snapshot) == "old")
        let cursor = try replica.cursor(cursorOptions)
        try cursor.seekToFirst()
        var count = 0
        while cursor.isValid {
            #expect(String(decoding: cursor.value, as: UTF8.self) == "old")
            count += 1
            try cursor.next()
        }
        #expect(count == 200)
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
