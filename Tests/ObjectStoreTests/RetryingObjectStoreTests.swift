import Encoding
import ObjectStore
import Testing

@Suite struct RetryingObjectStoreTests {
    private func quickPolicy(attempts: Int) -> RetryingObjectStore<FaultInjectingObjectStore<MemoryObjectStore>>.Policy {
        var policy = RetryingObjectStore<FaultInjectingObjectStore<MemoryObjectStore>>.Policy()
        policy.maxAttempts = attempts
        policy.baseDelayMilliseconds = 1
        policy.maxDelayMilliseconds = 4
        return policy
    }

    @Test func transientFailuresAreRepeatedUntilTheRequestSucceeds() async throws {
        let faulty = FaultInjectingObjectStore(MemoryObjectStore())
        let store = RetryingObjectStore(faulty, policy: quickPolicy(attempts: 4))
        faulty.injectNext(.failBeforeApplying, .throttle, .failBeforeApplying)
        _ = try await store.put("k", [7], condition: .none)
        #expect(try await faulty.base.get("k", range: nil) == [7])
        #expect(faulty.injectedCounts["failBeforeApplying"] == 2 && faulty.injectedCounts["throttle"] == 1)
    }

    @Test func theLastTransientFailureIsThrownOnceTheAttemptsAreSpent() async throws {
        let faulty = FaultInjectingObjectStore(MemoryObjectStore())
        let store = RetryingObjectStore(faulty, policy: quickPolicy(attempts: 3))
        faulty.injectNext(.failBeforeApplying, .failBeforeApplying, .throttle, .failBeforeApplying)
        #expect(await failureKind { _ = try await store.get("missing", range: nil) } == .throttled)
        // Three attempts were made; the fourth scripted fault is still waiting.
        #expect(await failureKind { _ = try await faulty.head("k") } == .unavailable)
    }

    @Test func otherFailuresAreNotRepeated() async throws {
        let faulty = FaultInjectingObjectStore(MemoryObjectStore())
        let store = RetryingObjectStore(faulty, policy: quickPolicy(attempts: 4))
        _ = try await store.put("k", [1], condition: .ifAbsent)
        #expect(await failureKind { _ = try await store.put("k", [2], condition: .ifAbsent) } == .preconditionFailed)
        #expect(await failureKind { _ = try await store.get("absent", range: nil) } == .notFound)
        #expect(faulty.injectedCounts.isEmpty)
    }

    @Test func aLostResponseOnARetriedCreateShowsAsPreconditionFailed() async throws {
        // What the type documents: the caller of a conditional write must recognise its own object.
        let faulty = FaultInjectingObjectStore(MemoryObjectStore())
        let store = RetryingObjectStore(faulty, policy: quickPolicy(attempts: 4))
        faulty.injectNext(.failAfterApplying)
        #expect(await failureKind { _ = try await store.put("k", [1], condition: .ifAbsent) } == .preconditionFailed)
        #expect(try await faulty.base.get("k", range: nil) == [1])
    }
}
