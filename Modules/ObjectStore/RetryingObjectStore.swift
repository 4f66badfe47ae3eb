import Encoding

/// A store that repeats requests which failed transiently — throttled, or unavailable (a
/// connection error, a 5xx, a timeout) — with jittered exponential backoff.
///
/// What callers may rely on:
/// - Only failures whose ``ObjectStoreFailure/isRetryable`` holds are repeated; any other error,
///   and the last transient one once `maxAttempts` are spent, is thrown unchanged.
/// - A repeated request may find that its first attempt took effect after all (the response was
///   lost): a conditional `put` then fails with `.preconditionFailed`, and completing a
///   multipart upload with `.notFound`. Callers of conditional writes must tell their own
///   object from another writer's (the Engine compares the stored bytes).
///
/// The Engine puts every attached store behind one, so an open, a checkpoint or an upload rides
/// out a short outage of a store that does not retry by itself (a directory on a network file
/// system, a custom store); `S3ObjectStore` retries on its own first, so there this adds a
/// second, coarser layer.
public struct RetryingObjectStore<Base: ObjectStore>: ObjectStore {
    /// How often and how patiently to repeat.
    public struct Policy: Sendable, Equatable {
        /// Attempts per request, the first included (at least 1).
        public var maxAttempts = 4
        /// The backoff before the second attempt; it doubles for each later one.
        public var baseDelayMilliseconds = 50
        /// The longest backoff.
        public var maxDelayMilliseconds = 1_000

        /// The default policy: 4 attempts, backoff 50, 100, 200 ms (each with jitter).
        public init() {}
    }

    /// The store the requests go to.
    public let base: Base
    /// The retry policy.
    public let policy: Policy

    /// Wraps `base`.
    public init(_ base: Base, policy: Policy = Policy()) {
        self.base = base
        self.policy = policy
    }

    /// The wrapped store's description (errors name the real store).
    public var description: String { base.description }

    /// Stores an object (see ``ObjectStore/put(_:_:condition:)``), repeating transient failures.
    public func put(_ key: String, _ bytes: [UInt8], condition: WriteCondition) async throws -> ETag {
        try await retrying { try await base.put(key, bytes, condition: condition) }
    }

    /// Reads an object (see ``ObjectStore/get(_:range:)``), repeating transient failures.
    public func get(_ key: String, range: Range<UInt64>?) async throws -> [UInt8] {
        try await retrying { try await base.get(key, range: range) }
    }

    /// Describes an object (see ``ObjectStore/head(_:)``), repeating transient failures.
    public func head(_ key: String) async throws -> ObjectInfo? {
        try await retrying { try await base.head(key) }
    }

    /// Lists a page of keys (see ``ObjectStore/list(prefix:startAfter:limit:)``), repeating
    /// transient failures.
    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try await retrying { try await base.list(prefix: prefix, startAfter: startAfter, limit: limit) }
    }

    /// Deletes an object (see ``ObjectStore/delete(_:)``), repeating transient failures.
    public func delete(_ key: String) async throws {
        try await retrying { try await base.delete(key) }
    }

    /// Starts a multipart upload (see ``ObjectStore/createMultipartUpload(_:)``), repeating
    /// transient failures (a lost response leaves an unused upload, which the store expires).
    public func createMultipartUpload(_ key: String) async throws -> MultipartUploadID {
        try await retrying { try await base.createMultipartUpload(key) }
    }

    /// Uploads one part (see ``ObjectStore/uploadPart(_:upload:partNumber:bytes:)``), repeating
    /// transient failures (a part uploaded twice replaces itself).
    public func uploadPart(_ key: String, upload: MultipartUploadID, partNumber: Int, bytes: [UInt8]) async throws -> ETag {
        try await retrying { try await base.uploadPart(key, upload: upload, partNumber: partNumber, bytes: bytes) }
    }

    /// Completes a multipart upload (see
    /// ``ObjectStore/completeMultipartUpload(_:upload:parts:)``), repeating transient failures.
    public func completeMultipartUpload(_ key: String, upload: MultipartUploadID, parts: [CompletedPart]) async throws -> ETag {
        try await retrying { try await base.completeMultipartUpload(key, upload: upload, parts: parts) }
    }

    /// Abandons a multipart upload (see ``ObjectStore/abortMultipartUpload(_:upload:)``),
    /// repeating transient failures.
    public func abortMultipartUpload(_ key: String, upload: MultipartUploadID) async throws {
        try await retrying { try await base.abortMultipartUpload(key, upload: upload) }
    }

    private func retrying<Result: Sendable>(_ request: () async throws -> Result) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await request()
            } catch StrataError.objectStore(let failure) where failure.isRetryable && attempt < max(policy.maxAttempts, 1) {
                // Full jitter: anywhere up to the exponential step, so retrying clients spread out.
                let step = min(policy.baseDelayMilliseconds << min(attempt - 1, 20), policy.maxDelayMilliseconds)
                try await Task.sleep(for: .milliseconds(Int.random(in: step / 2...max(step, 1))))
                attempt += 1
            }
        }
    }
}
