#if canImport(Glibc)
import Glibc
#endif
import Encoding
import ObjectStore
import Strata
import StrataTestSupport
import Testing
import VFS

/// A database attached to an object store: shipping, store durability, checkpoints, restore,
/// fencing (Docs/OBJECT-STORAGE.md).
@Suite struct ObjectStorageTests {
    func storeOptions(_ store: any ObjectStore) -> Options {
        var options = testOptions(PosixFileSystem())
        options.objectStore = store
        options.walUploadInterval = 0.005
        options.metricsInterval = nil
        return options
    }

    static let stored = WriteOptions(durability: .objectStore)

    func walKeys(_ store: any ObjectStore) async throws -> [String] {
        var keys: [String] = []
        for try await object in store.objects(prefix: "wal/") { keys.append(object.key) }
        return keys
    }

    @Test func storeDurableWritesComeBackInAnEmptyDirectoryAndTheOldWriterIsFenced() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = MemoryObjectStore()
        let first = try await Database.open(at: directory.path + "/a", options: storeOptions(store))
        for index in 0..<200 {
            var batch = WriteBatch()
            batch.put("k\(index)", "v\(index)")
            batch.put("k\(index)-twin", "v\(index)")
            try await first.write(batch, options: Self.stored)
        }
        try await first.deleteRange(from: "k1", to: "k2", options: Self.stored)
        let acknowledged = first.latestSequence

        // A second process takes over on another machine: it sees everything acknowledged.
        let second = try await Database.open(at: directory.path + "/b", options: storeOptions(store))
        #expect(second.latestSequence == acknowledged)
        #expect(try await second.get("k0", as: String.self) == "v0")
        #expect(try await second.get("k99-twin", as: String.self) == "v99")
        #expect(try await second.get("k199-twin") == nil, "the range delete [k1, k2) was restored too")
        #expect(try await second.get("k150") == nil, "the range delete was restored too")
        let keysAtFence = try await walKeys(store)

        // The old writer's next store-durable write fails with `fenced`; nothing it tries
        // afterwards reaches the store.
        await #expect {
            try await first.put("late", "write", options: Self.stored)
        } throws: { error in
            if case .fenced = error as? StrataError { return true }
            return false
        }
        #expect(first.refusesWrites)
        await #expect(throws: StrataError.self) { try await first.put("later", "write") }
        try? await first.close()
        #expect(try await walKeys(store) == keysAtFence)
        #expect(try await second.get("late") == nil)
        try await second.put("after", "takeover", options: Self.stored)
        try await second.close()
    }

    @Test func localWritesAreShippedInTheBackgroundAndCloseUploadsTheRest() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = MemoryObjectStore()
        let db = try await Database.open(at: directory.path + "/a", options: storeOptions(store))
        for index in 0..<500 { try await db.put("key\(index)", "value\(index)") }
        try await db.close()
        let restored = try await Database.open(at: directory.path + "/b", options: storeOptions(store))
        for index in stride(from: 0, to: 500, by: 7) {
            #expect(try await restored.get("key\(index)", as: String.self) == "value\(index)")
        }
        try await restored.close()
    }

    @Test func checkpointsBoundTheLogAndOldObjectsAreCollected() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = MemoryObjectStore()
        var options = storeOptions(store)
        options.checkpointWALBytes = 32 << 10
        options.storeGarbageGracePeriod = 0
        let db = try await Database.open(at: directory.path + "/a", options: options)
        let value = String(repeating: "x", count: 200)
        for index in 0..<3000 { try await db.put("key\(index)", "\(index)-\(value)", options: index % 100 == 99 ? Self.stored : WriteOptions()) }
        try await db.close()
        var manifests = 0
        var tables = 0
        for try await object in store.objects(prefix: "") {
            if object.key.hasPrefix("manifest/") { manifests += 1 }
            if object.key.hasPrefix("tables/") { tables += 1 }
        }
        let wal = try await walKeys(store)
        #expect(tables > 0, "checkpoints uploaded tables")
        #expect(manifests <= 3, "old manifests were collected (\(manifests) remain)")
        #expect(wal.first.map { $0 > "wal/00000000000000000001" } ?? false, "WAL objects covered by retained checkpoints were deleted (first: \(wal.first ?? "none"))")

        let restored = try await Database.open(at: directory.path + "/b", options: options)
        for index in stride(from: 0, to: 3000, by: 37) {
            #expect(try await restored.get("key\(index)", as: String.self) == "\(index)-\(value)")
        }
        #expect(try await restored.get("key2999", as: String.self) == "2999-\(value)")
        try await restored.close()
    }

    /// Keyspaces with an object store: creating and dropping one uploads a checkpoint, so a
    /// restore onto an empty disk has every keyspace's acknowledged writes — also those only in
    /// the store's log — and none of a dropped keyspace; a takeover writer sees them too.
    @Test func keyspacesAreRestoredFromTheStore() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = MemoryObjectStore()
        var options = storeOptions(store)
        // No checkpoint of its own: only the keyspace changes upload one.
        options.checkpointWALBytes = 1 << 40
        let db = try await Database.open(at: directory.path + "/a", options: options)
        try await db.put("before", "keyspaces", options: Self.stored)
        let users = try await db.keyspace("users", options: KeyspaceOptions(bloomBitsPerKey: 5))
        let doomed = try await db.keyspace("doomed")
        let value = String(repeating: "u", count: 100)
        for index in 0..<1_500 {
            var batch = WriteBatch()
            batch.put("u\(index)", value, in: users)
            batch.put("d\(index)", value, in: doomed)
            batch.put("n\(index)", "\(index)")
            try await db.write(batch, options: index % 100 == 99 ? Self.stored : WriteOptions())
        }
        try await db.dropKeyspace("doomed")
        let late = try await db.keyspace("late")  // created after the last automatic checkpoint
        try await db.write({ var batch = WriteBatch(); batch.put("only", "in the log", in: late); return batch }(), options: Self.stored)

        // A takeover on another machine while the first writer is still open.
        let second = try await Database.open(at: directory.path + "/b", options: options)
        #expect(second.keyspaceNames == ["late", "users"])
        #expect(try await second.keyspace("late").get("only") == Array("in the log".utf8))
        #expect(try await second.keyspace("users").scan().reduce(0) { count, _ in count + 1 } == 1_500)
        #expect(try await second.get("n1499", as: String.self) == "1499")
        #expect(try await second.keyspace("doomed").scan().reduce(0) { count, _ in count + 1 } == 0, "a dropped keyspace stays dropped")
        try await second.close()
        try? await db.close()
    }

    /// The store fails while a keyspace's checkpoint is uploaded: the creation throws, the
    /// keyspace exists locally, the marker says a checkpoint is owed; the next open of the
    /// directory uploads it, so a takeover has the keyspace and a write to it made afterwards.
    @Test func aFailedKeyspaceCheckpointIsUploadedAtTheNextOpen() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let faulty = FaultInjectingObjectStore(MemoryObjectStore())
        var options = storeOptions(faulty)
        options.checkpointWALBytes = 1 << 40
        let db = try await Database.open(at: directory.path + "/a", options: options)
        try await db.put("before", "1", options: Self.stored)
        var failing = FaultInjectingObjectStore<MemoryObjectStore>.Plan()
        failing.failBeforeApplying = 1
        faulty.setPlan(failing)
        await #expect(throws: StrataError.self) { try await db.keyspace("late") }
        faulty.setPlan(FaultInjectingObjectStore<MemoryObjectStore>.Plan())
        try? await db.close()

        let reopened = try await Database.open(at: directory.path + "/a", options: options)
        #expect(reopened.keyspaceNames == ["late"])
        try await reopened.keyspace("late").put("k", "v", options: Self.stored)
        let takeover = try await Database.open(at: directory.path + "/b", options: options)
        #expect(takeover.keyspaceNames == ["late"])
        #expect(try await takeover.keyspace("late").get("k") == Array("v".utf8))
        try await takeover.close()
        try? await reopened.close()
    }

    @Test func unneededObjectsWaitOutTheGracePeriod() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = MemoryObjectStore()
        var options = storeOptions(store)
        options.checkpointWALBytes = 32 << 10
        options.storeGarbageGracePeriod = 600
        let db = try await Database.open(at: directory.path + "/a", options: options)
        let value = String(repeating: "x", count: 200)
        for index in 0..<3000 { try await db.put("key\(index)", "\(index)-\(value)", options: index % 100 == 99 ? Self.stored : WriteOptions()) }
        try await db.close()
        var manifests = 0
        for try await object in store.objects(prefix: "manifest/") { manifests += 1; _ = object }
        let wal = try await walKeys(store)
        // Every checkpoint's manifest and the whole log are still there: none has been
        // unneeded for ten minutes.
        #expect(manifests > options.checkpointsRetained + 1, "\(manifests) manifests")
        #expect(wal.first == "wal/00000000000000000001")
        let report = try await Threads.run { try StoreVerifier(store: store).verify() }
        #expect(report.problems.isEmpty, "\(report.problems)")
    }

    @Test func reopeningTheWriterDirectoryContinuesAndADivergedOneIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = MemoryObjectStore()
        var db = try await Database.open(at: directory.path + "/a", options: storeOptions(store))
        try await db.put("one", "1", options: Self.stored)
        try await db.close()
        db = try await Database.open(at: directory.path + "/a", options: storeOptions(store))
        try await db.put("two", "2", options: Self.stored)
        try await db.close()

        let other = try await Database.open(at: directory.path + "/b", options: storeOptions(store))
        #expect(try await other.get("one", as: String.self) == "1")
        #expect(try await other.get("two", as: String.self) == "2")
        try await other.put("three", "3", options: Self.stored)
        try await other.close()

        // `a` was the writer before `b` took over: reopening it against the store is refused.
        await #expect {
            _ = try await Database.open(at: directory.path + "/a", options: storeOptions(store))
        } throws: { error in
            guard case .incompatible(_, let reason) = error as? StrataError else { return false }
            return reason.contains("diverged")
        }
        let third = try await Database.open(at: directory.path + "/c", options: storeOptions(store))
        #expect(try await third.get("three", as: String.self) == "3")
        try await third.close()
    }

    @Test func acknowledgedWritesSurviveAFaultyStore() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let base = MemoryObjectStore()
        var plan = FaultInjectingObjectStore<MemoryObjectStore>.Plan()
        plan.failBeforeApplying = 0.1
        plan.failAfterApplying = 0.1
        plan.throttle = 0.05
        plan.duplicate = 0.1
        plan.delay = 0.1
        plan.maximumDelayMilliseconds = 5
        plan.seed = 11
        let faulty = FaultInjectingObjectStore(base, plan: Plan())
        // Opening must succeed before faults start (its own failures are reported, not retried).
        let db = try await Database.open(at: directory.path + "/a", options: storeOptions(faulty))
        faulty.setPlan(plan)
        var acknowledged: [Int] = []
        var failed = 0
        for index in 0..<300 {
            do {
                try await db.put("key\(index)", "value\(index)", options: Self.stored)
                acknowledged.append(index)
            } catch StrataError.objectStore {
                failed += 1
            }
        }
        faulty.setPlan(Plan())
        try await db.close()
        #expect(acknowledged.count > 0)
        let restored = try await Database.open(at: directory.path + "/b", options: storeOptions(base))
        for index in acknowledged {
            #expect(try await restored.get("key\(index)", as: String.self) == "value\(index)")
        }
        // Everything restored was written, and each write once: the log has no gap or repeat.
        #expect(restored.latestSequence.rawValue == 300)
        try await restored.close()
        #expect(faulty.injectedCounts.values.reduce(0, +) > 10, "faults were injected: \(faulty.injectedCounts), \(failed) writes failed")
    }

    typealias Plan = FaultInjectingObjectStore<MemoryObjectStore>.Plan

    @Test func aDamagedWALObjectIsReportedByKeyAndNeverApplied() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = try LocalObjectStore(root: directory.path + "/store")
        let db = try await Database.open(at: directory.path + "/a", options: storeOptions(store))
        try await db.put("k", "v", options: Self.stored)
        try await db.close()
        guard let damaged = try await walKeys(store).last else {
            Issue.record("no WAL object")
            return
        }
        var bytes = try await store.get(damaged, range: nil)
        bytes[bytes.count - 1] ^= 0xFF
        _ = try await store.put(damaged, bytes, condition: .none)
        await #expect {
            _ = try await Database.open(at: directory.path + "/b", options: storeOptions(store))
        } throws: { error in
            guard case .corruption(let file, _, _) = error as? StrataError else { return false }
            return file.hasSuffix(damaged)
        }
    }

    @Test func storeDurabilityWithoutAStoreIsAnInvalidArgument() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let db = try await Database.open(at: directory.path + "/a", options: testOptions(PosixFileSystem()))
        await #expect(throws: StrataError.self) { try await db.put("k", "v", options: Self.stored) }
        try await db.close()
    }
}
