import Encoding
import ObjectStore
import Testing

@Suite struct FaultInjectingObjectStoreTests {
    @Test func aRequestFailedBeforeApplyingChangesNothing() async throws {
        let base = MemoryObjectStore()
        let store = FaultInjectingObjectStore(base)
        store.injectNext(.failBeforeApplying)
        #expect(await failureKind { _ = try await store.put("k", [1], condition: .none) } == .unavailable)
        #expect(try await base.head("k") == nil)
    }

    @Test func aLostResponseStillAppliedTheRequest() async throws {
        let base = MemoryObjectStore()
        let store = FaultInjectingObjectStore(base)
        store.injectNext(.failAfterApplying)
        #expect(await failureKind { _ = try await store.put("k", [1], condition: .ifAbsent) } == .unavailable)
        #expect(try await base.get("k", range: nil) == [1])
        // The retry of a create-if-absent now finds its own object: the caller must check.
        #expect(await failureKind { _ = try await store.put("k", [1], condition: .ifAbsent) } == .preconditionFailed)
    }

    @Test func throttlingIsRetryableAndChangesNothing() async throws {
        let base = MemoryObjectStore()
        let store = FaultInjectingObjectStore(base)
        store.injectNext(.throttle)
        do {
            _ = try await store.put("k", [1], condition: .none)
            Issue.record("a throttled put succeeded")
        } catch StrataError.objectStore(let failure) {
            #expect(failure.kind == .throttled && failure.isRetryable && failure.status == 503)
        }
        #expect(base.objectCount == 0)
    }

    @Test func aDuplicatedRequestIsAppliedTwiceAndAnsweredOnce() async throws {
        let base = MemoryObjectStore()
        let store = FaultInjectingObjectStore(base)
        store.injectNext(.duplicate, .duplicate)
        _ = try await store.put("k", [1], condition: .ifAbsent)
        // The duplicate of the delete runs after the first: both succeed, the object is gone.
        try await store.delete("k")
        #expect(try await base.head("k") == nil)
        #expect(store.injectedCounts["duplicate"] == 2)
    }

    @Test func randomFaultsFollowTheSeed() async throws {
        func run(seed: UInt64) async -> [String: Int] {
            var plan = FaultInjectingObjectStore<MemoryObjectStore>.Plan()
            plan.failBeforeApplying = 0.1
            plan.failAfterApplying = 0.1
            plan.throttle = 0.1
            plan.duplicate = 0.1
            plan.seed = seed
            let store = FaultInjectingObjectStore(MemoryObjectStore(), plan: plan)
            for index in 0..<400 { _ = try? await store.put("k\(index)", [1], condition: .none) }
            return store.injectedCounts
        }
        let first = await run(seed: 7)
        #expect(await run(seed: 7) == first)
        #expect(await run(seed: 8) != first)
        // About 10% each of 400 requests.
        for name in ["failBeforeApplying", "failAfterApplying", "throttle", "duplicate"] {
            #expect((15...70).contains(first[name] ?? 0), "\(name): \(first[name] ?? 0)")
        }
    }
}
