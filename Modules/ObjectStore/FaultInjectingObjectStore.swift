import Encoding

/// A fault a ``FaultInjectingObjectStore`` can inject into one request.
public enum ObjectStoreFault: Sendable, Equatable {
    /// The request never reaches the store: `.unavailable`, nothing changed.
    case failBeforeApplying
    /// The store applies the request but the response is lost: `.unavailable`, yet it changed.
    case failAfterApplying
    /// The store refuses to serve: `.throttled`, nothing changed.
    case throttle
    /// The request reaches the store twice (a retry racing the original): applied twice, the
    /// first answer returned.
    case duplicate
    /// The request waits this many milliseconds before it is sent.
    case delay(milliseconds: Int)
}

/// Wraps a store and injects faults into its requests: scripted (`injectNext`) or random with
/// the plan's rates, drawn from a seeded generator so a failing run can be repeated.
///
/// Thread safety: every method may be called concurrently.
public final class FaultInjectingObjectStore<Base: ObjectStore>: ObjectStore {
    /// Rates of random faults, each a probability in 0...1 per request.
    public struct Plan: Sendable {
        /// Rate of ``ObjectStoreFault/failBeforeApplying``.
        public var failBeforeApplying = 0.0
        /// Rate of ``ObjectStoreFault/failAfterApplying``.
        public var failAfterApplying = 0.0
        /// Rate of ``ObjectStoreFault/throttle``.
        public var throttle = 0.0
        /// Rate of ``ObjectStoreFault/duplicate`` (writes only: a duplicated read changes nothing).
        public var duplicate = 0.0
        /// Rate of a delay of up to `maximumDelayMilliseconds`.
        public var delay = 0.0
        /// The longest injected delay.
        public var maximumDelayMilliseconds = 50
        /// Seed of the generator that draws faults.
        public var seed: UInt64 = 1

        /// No faults.
        public init() {}
    }

    private struct State {
        var plan: Plan
        var random: UInt64
        var scripted: [ObjectStoreFault] = []
        var injected: [String: Int] = [:]

        mutating func nextUnit() -> Double {
            // SplitMix64: a small, well-mixed generator; reproducible from the seed.
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53)
        }

        mutating func draw(isWrite: Bool) -> ObjectStoreFault? {
            if !scripted.isEmpty { return scripted.removeFirst() }
            let roll = nextUnit()
            var threshold = plan.failBeforeApplying
            if roll < threshold { return .failBeforeApplying }
            threshold += plan.failAfterApplying
            if roll < threshold { return .failAfterApplying }
            threshold += plan.throttle
            if roll < threshold { return .throttle }
            threshold += isWrite ? plan.duplicate : 0
            if roll < threshold { return .duplicate }
            threshold += plan.delay
            if roll < threshold {
                return .delay(milliseconds: Int(nextUnit() * Double(max(0, plan.maximumDelayMilliseconds))))
            }
            return nil
        }
    }

    /// The wrapped store.
    public let base: Base
    private let state: Locked<State>

    /// Wraps `base`, injecting faults at `plan`'s rates.
    public init(_ base: Base, plan: Plan = Plan()) {
        self.base = base
        self.state = Locked(State(plan: plan, random: plan.seed))
    }

    /// The wrapped store's description, marked as faulty.
    public var description: String { "faulty(\(base.description))" }

    /// Replaces the random fault rates (for example with `Plan()` to stop injecting).
    public func setPlan(_ plan: Plan) {
        state.withLock { $0.plan = plan }
    }

    /// Queues faults for the next requests, in order, ahead of random ones.
    public func injectNext(_ faults: ObjectStoreFault...) {
        state.withLock { $0.scripted += faults }
    }

    /// How many faults of each kind were injected so far, by name (`failBeforeApplying`, …).
    public var injectedCounts: [String: Int] { state.withLock { $0.injected } }

    /// Stores the object if `condition` holds (see ``ObjectStore/put(_:_:condition:)``).
    public func put(_ key: String, _ bytes: [UInt8], condition: WriteCondition) async throws -> ETag {
        try await perform("PUT", key, isWrite: true) { try await base.put(key, bytes, condition: condition) }
    }

    /// The object's bytes within `range` (see ``ObjectStore/get(_:range:)``).
    public func get(_ key: String, range: Range<UInt64>?) async throws -> [UInt8] {
        try await perform("GET", key, isWrite: false) { try await base.get(key, range: range) }
    }

    /// The object's size and tag, or `nil` (see ``ObjectStore/head(_:)``).
    public func head(_ key: String) async throws -> ObjectInfo? {
        try await perform("HEAD", key, isWrite: false) { try await base.head(key) }
    }

    /// One page of a listing (see ``ObjectStore/list(prefix:startAfter:limit:)``).
    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try await perform("LIST", prefix, isWrite: false) { try await base.list(prefix: prefix, startAfter: startAfter, limit: limit) }
    }

    /// Removes the object; a missing one is fine (see ``ObjectStore/delete(_:)``).
    public func delete(_ key: String) async throws {
        try await perform("DELETE", key, isWrite: true) { try await base.delete(key) }
    }

    /// Starts a multipart upload (see ``ObjectStore/createMultipartUpload(_:)``).
    public func createMultipartUpload(_ key: String) async throws -> MultipartUploadID {
        // Duplicating a create would leave an orphan upload, as on S3; allowed.
        try await perform("CREATE-UPLOAD", key, isWrite: true) { try await base.createMultipartUpload(key) }
    }

    /// Stores one part of an upload (see ``ObjectStore/uploadPart(_:upload:partNumber:bytes:)``).
    public func uploadPart(_ key: String, upload: MultipartUploadID, partNumber: Int, bytes: [UInt8]) async throws -> ETag {
        try await perform("UPLOAD-PART", key, isWrite: true) {
            try await base.uploadPart(key, upload: upload, partNumber: partNumber, bytes: bytes)
        }
    }

    /// Joins the parts into the object (see ``ObjectStore/completeMultipartUpload(_:upload:parts:)``).
    public func completeMultipartUpload(_ key: String, upload: MultipartUploadID, parts: [CompletedPart]) async throws -> ETag {
        try await perform("COMPLETE-UPLOAD", key, isWrite: true) {
            try await base.completeMultipartUpload(key, upload: upload, parts: parts)
        }
    }

    /// Abandons an upload (see ``ObjectStore/abortMultipartUpload(_:upload:)``).
    public func abortMultipartUpload(_ key: String, upload: MultipartUploadID) async throws {
        try await perform("ABORT-UPLOAD", key, isWrite: true) { try await base.abortMultipartUpload(key, upload: upload) }
    }

    private func perform<Result: Sendable>(
        _ operation: String, _ key: String, isWrite: Bool, _ request: () async throws -> Result
    ) async throws -> Result {
        let fault = state.withLock { state -> ObjectStoreFault? in
            let fault = state.draw(isWrite: isWrite)
            if let fault { state.injected[Self.name(of: fault), default: 0] += 1 }
            return fault
        }
        switch fault {
        case nil:
            return try await request()
        case .failBeforeApplying:
            throw failure(.unavailable, operation, key, "injected: the connection failed before the request was sent")
        case .throttle:
            throw failure(.throttled, operation, key, "injected: SlowDown", status: 503)
        case .failAfterApplying:
            _ = try await request()
            throw failure(.unavailable, operation, key, "injected: the response was lost after the store applied the request")
        case .duplicate:
            let first = try await request()
            _ = try? await request()
            return first
        case .delay(let milliseconds):
            try await Task.sleep(for: .milliseconds(milliseconds))
            return try await request()
        }
    }

    private func failure(_ kind: ObjectStoreFailure.Kind, _ operation: String, _ key: String, _ message: String, status: Int? = nil) -> StrataError {
        .objectStore(ObjectStoreFailure(kind: kind, store: description, operation: operation, key: key, status: status, message: message))
    }

    private static func name(of fault: ObjectStoreFault) -> String {
        switch fault {
        case .failBeforeApplying: return "failBeforeApplying"
        case .failAfterApplying: return "failAfterApplying"
        case .throttle: return "throttle"
        case .duplicate: return "duplicate"
        case .delay: return "delay"
        }
    }
}
