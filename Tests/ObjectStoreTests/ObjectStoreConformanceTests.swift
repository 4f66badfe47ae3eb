import Encoding
import ObjectStore
import ObjectStoreConformance
import Testing
import VFS

/// The conformance suite on the stores of the ObjectStore module.
@Suite struct ObjectStoreConformanceTests {
    @Test(arguments: ObjectStoreConformance.checks)
    func memoryStore(_ check: ConformanceCheck) async throws {
        try await check.run(on: MemoryObjectStore(), prefix: "conformance/")
    }

    @Test(arguments: ObjectStoreConformance.checks)
    func localStore(_ check: ConformanceCheck) async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        try await check.run(on: try LocalObjectStore(root: directory.path + "/store"), prefix: "conformance/")
    }

    /// Requests that arrive twice and requests that wait change nothing a caller can see.
    @Test(arguments: ObjectStoreConformance.checks)
    func duplicatingAndDelayingStore(_ check: ConformanceCheck) async throws {
        var plan = FaultInjectingObjectStore<MemoryObjectStore>.Plan()
        plan.duplicate = 0.3
        plan.delay = 0.2
        plan.maximumDelayMilliseconds = 3
        plan.seed = 42
        try await check.run(on: FaultInjectingObjectStore(MemoryObjectStore(), plan: plan), prefix: "conformance/")
    }

    /// Requests refused before they reach the store (unavailable, throttled) are invisible
    /// behind a `RetryingObjectStore`.
    @Test(arguments: ObjectStoreConformance.checks)
    func retryingOverAFailingStore(_ check: ConformanceCheck) async throws {
        var plan = FaultInjectingObjectStore<MemoryObjectStore>.Plan()
        plan.failBeforeApplying = 0.15
        plan.throttle = 0.1
        plan.seed = 7
        var policy = RetryingObjectStore<FaultInjectingObjectStore<MemoryObjectStore>>.Policy()
        policy.maxAttempts = 20  // a 0.25 failure rate never fails 20 times in a row here
        policy.baseDelayMilliseconds = 1
        policy.maxDelayMilliseconds = 2
        try await check.run(on: RetryingObjectStore(FaultInjectingObjectStore(MemoryObjectStore(), plan: plan), policy: policy), prefix: "conformance/")
    }
}
