import Encoding

/// An object store in memory, with S3's semantics: for tests, and as the base that
/// ``FaultInjectingObjectStore`` wraps.
///
/// Thread safety: every method may be called concurrently; each is atomic.
public final class MemoryObjectStore: ObjectStore {
    private struct Object {
        var bytes: [UInt8]
        var etag: ETag
    }

    private struct Upload {
        var key: String
        var parts: [Int: Object] = [:]
    }

    private struct State {
        var objects: [String: Object] = [:]
        var uploads: [MultipartUploadID: Upload] = [:]
        // Upload ids are drawn from a counter.
        var counter: UInt64 = 0
    }

    /// A tag derived from the content, as S3's (an MD5 there): uploading the same part twice
    /// gives the same tag, so a duplicated request is harmless.
    private static func tag(of bytes: [UInt8]) -> ETag {
        ETag("\"\(String(Checksum.xxh3(bytes), radix: 16))-\(String(bytes.count, radix: 16))\"")
    }

    private let state = Locked(State())
    private let failures = ObjectStoreFailures(store: "memory:")

    /// Creates an empty store.
    public init() {}

    /// `memory:`.
    public var description: String { "memory:" }

    /// The number of objects stored (for tests).
    public var objectCount: Int { state.withLock { $0.objects.count } }

    /// Stores the object if `condition` holds (see ``ObjectStore/put(_:_:condition:)``).
    public func put(_ key: String, _ bytes: [UInt8], condition: WriteCondition) async throws -> ETag {
        try ObjectKey.validate(key)
        return try state.withLock { state in
            try checkCondition(condition, current: state.objects[key], key: key)
            let tag = Self.tag(of: bytes)
            state.objects[key] = Object(bytes: bytes, etag: tag)
            return tag
        }
    }

    /// The object's bytes within `range` (see ``ObjectStore/get(_:range:)``).
    public func get(_ key: String, range: Range<UInt64>?) async throws -> [UInt8] {
        try ObjectKey.validate(key)
        try ObjectKey.validateRange(range)
        guard let object = state.withLock({ $0.objects[key] }) else { throw failures.notFound("GET", key) }
        guard let range else { return object.bytes }
        return Array(object.bytes[range.clamped(toSize: UInt64(object.bytes.count))])
    }

    /// The object's size and tag, or `nil` (see ``ObjectStore/head(_:)``).
    public func head(_ key: String) async throws -> ObjectInfo? {
        try ObjectKey.validate(key)
        return state.withLock { state in
            state.objects[key].map { ObjectInfo(key: key, size: UInt64($0.bytes.count), etag: $0.etag) }
        }
    }

    /// One page of a listing (see ``ObjectStore/list(prefix:startAfter:limit:)``).
    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try ObjectKey.validatePrefix(prefix)
        try ObjectKey.validateListLimit(limit)
        let matching = state.withLock { state in
            state.objects.filter { $0.key.hasPrefix(prefix) }.map { ObjectInfo(key: $0.key, size: UInt64($0.value.bytes.count), etag: $0.value.etag) }
        }
        return ObjectListing.page(of: matching, startAfter: startAfter, limit: limit)
    }

    /// Removes the object; a missing one is fine (see ``ObjectStore/delete(_:)``).
    public func delete(_ key: String) async throws {
        try ObjectKey.validate(key)
        state.withLock { _ = $0.objects.removeValue(forKey: key) }
    }

    /// Starts a multipart upload (see ``ObjectStore/createMultipartUpload(_:)``).
    public func createMultipartUpload(_ key: String) async throws -> MultipartUploadID {
        try ObjectKey.validate(key)
        return state.withLock { state in
            state.counter += 1
            let id = MultipartUploadID("upload-\(state.counter)")
            state.uploads[id] = Upload(key: key)
            return id
        }
    }

    /// Stores one part of an upload (see ``ObjectStore/uploadPart(_:upload:partNumber:bytes:)``).
    public func uploadPart(_ key: String, upload: MultipartUploadID, partNumber: Int, bytes: [UInt8]) async throws -> ETag {
        try ObjectKey.validate(key)
        try ObjectKey.validatePartNumber(partNumber)
        return try state.withLock { state in
            guard state.uploads[upload]?.key == key else { throw failures.notFound("UPLOAD-PART", key, "no upload \(upload) for this key") }
            let tag = Self.tag(of: bytes)
            state.uploads[upload]!.parts[partNumber] = Object(bytes: bytes, etag: tag)
            return tag
        }
    }

    /// Joins the parts into the object (see ``ObjectStore/completeMultipartUpload(_:upload:parts:)``).
    public func completeMultipartUpload(_ key: String, upload: MultipartUploadID, parts: [CompletedPart]) async throws -> ETag {
        try ObjectKey.validate(key)
        try ObjectKey.validateCompletedParts(parts)
        return try state.withLock { state in
            guard let pending = state.uploads[upload], pending.key == key else {
                throw failures.notFound("COMPLETE-UPLOAD", key, "no upload \(upload) for this key")
            }
            var bytes: [UInt8] = []
            var sizes: [Int] = []
            for part in parts {
                guard let stored = pending.parts[part.partNumber], stored.etag == part.etag else {
                    throw failures.rejected("COMPLETE-UPLOAD", key, code: "InvalidPart", "part \(part.partNumber) with tag \(part.etag) was not uploaded")
                }
                bytes += stored.bytes
                sizes.append(stored.bytes.count)
            }
            try failures.checkPartSizes(key, sizes: sizes)
            // A joined object's tag covers its parts' tags and count, as S3's does.
            let tag = ETag("\"\(String(Checksum.xxh3(Array(parts.map(\.etag.value).joined().utf8)), radix: 16))-\(parts.count)\"")
            state.objects[key] = Object(bytes: bytes, etag: tag)
            state.uploads[upload] = nil
            return tag
        }
    }

    /// Abandons an upload (see ``ObjectStore/abortMultipartUpload(_:upload:)``).
    public func abortMultipartUpload(_ key: String, upload: MultipartUploadID) async throws {
        try ObjectKey.validate(key)
        state.withLock { state in
            if state.uploads[upload]?.key == key { state.uploads[upload] = nil }
        }
    }

    private func checkCondition(_ condition: WriteCondition, current: Object?, key: String) throws {
        switch condition {
        case .none:
            return
        case .ifAbsent:
            if current != nil { throw failures.preconditionFailed("PUT", key, "an object exists under the key (if-absent)") }
        case .ifMatch(let expected):
            guard let current else { throw failures.notFound("PUT", key, "no object to match \(expected) against") }
            if current.etag != expected {
                throw failures.preconditionFailed("PUT", key, "the object's tag is \(current.etag), not \(expected)")
            }
        }
    }
}

extension ObjectListing {
    /// The page of `objects` (any order) after `startAfter`, sorted bytewise by key.
    package static func page(of objects: [ObjectInfo], startAfter: String?, limit: Int) -> ObjectListing {
        var sorted = objects.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        if let startAfter {
            sorted.removeAll { !startAfter.utf8.lexicographicallyPrecedes($0.key.utf8) }
        }
        let truncated = sorted.count > limit
        return ObjectListing(objects: Array(sorted.prefix(limit)), isTruncated: truncated)
    }
}
