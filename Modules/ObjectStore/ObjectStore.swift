import Encoding

/// A store of immutable-by-convention objects addressed by string keys: Amazon S3 or anything
/// that speaks its API, a directory, or memory.
///
/// The protocol is the subset of S3 that Strata relies on, with S3's guarantees:
/// - **Read-after-write**: once `put` returns, `get`, `head` and `list` see the object.
/// - **Atomic replacement**: a reader sees a whole old object or a whole new one, never a mix.
/// - **Conditional writes** are atomic: of two `put(…, condition: .ifAbsent)` calls for one key,
///   exactly one succeeds and the other throws ``ObjectStoreFailure/Kind/preconditionFailed``.
///
/// Keys follow ``ObjectKey/validate(_:)`` in every store, so data moves between stores unchanged.
/// Errors are `StrataError.objectStore(_:)` (see ``ObjectStoreFailure``) or
/// `StrataError.invalidArgument` for a key or range no store accepts.
///
/// Every method is `async`; implementations never block a thread of the cooperative pool on I/O.
public protocol ObjectStore: Sendable, CustomStringConvertible {
    /// Stores `bytes` under `key` if `condition` holds, replacing any object there, and returns
    /// the new object's entity tag.
    ///
    /// - Throws: `.preconditionFailed` when the condition does not hold (nothing is written).
    func put(_ key: String, _ bytes: [UInt8], condition: WriteCondition) async throws -> ETag

    /// The object's bytes within `range` (clamped to the object's end; `nil`: all of it).
    /// A range that starts at or past the end returns no bytes.
    ///
    /// - Throws: `.notFound` when there is no such object.
    func get(_ key: String, range: Range<UInt64>?) async throws -> [UInt8]

    /// The object's size and tag, or `nil` when there is no such object.
    func head(_ key: String) async throws -> ObjectInfo?

    /// One page of the objects whose keys start with `prefix` and sort after `startAfter`, in
    /// key order (bytewise on the UTF-8), at most `limit` of them (1...1000).
    func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing

    /// Removes the object. Removing an object that does not exist succeeds.
    func delete(_ key: String) async throws

    /// Starts a multipart upload to `key`: parts are uploaded separately and become one object
    /// when the upload completes. Nothing is visible under `key` before then.
    func createMultipartUpload(_ key: String) async throws -> MultipartUploadID

    /// Uploads part `partNumber` (1...10000) of an upload; uploading a number again replaces it.
    /// Every part but the last must hold at least ``ObjectStoreLimits/minimumPartSize`` bytes.
    func uploadPart(_ key: String, upload: MultipartUploadID, partNumber: Int, bytes: [UInt8]) async throws -> ETag

    /// Joins the listed parts, in order, into the object at `key` (replacing any object there)
    /// and returns its tag.
    ///
    /// - Throws: `.rejected` or `.notFound` when a part is missing or its tag differs.
    func completeMultipartUpload(_ key: String, upload: MultipartUploadID, parts: [CompletedPart]) async throws -> ETag

    /// Abandons an upload and frees its parts. Aborting an unknown upload succeeds.
    func abortMultipartUpload(_ key: String, upload: MultipartUploadID) async throws
}

/// When a `put` may take effect.
public enum WriteCondition: Sendable, Equatable, CustomStringConvertible {
    /// Always (create or replace).
    case none
    /// Only if no object exists under the key (S3's `If-None-Match: *`): create-if-absent.
    case ifAbsent
    /// Only if the current object has this tag (S3's `If-Match`): compare-and-swap.
    case ifMatch(ETag)

    /// `none`, `if-absent` or `if-match <tag>`.
    public var description: String {
        switch self {
        case .none: return "none"
        case .ifAbsent: return "if-absent"
        case .ifMatch(let tag): return "if-match \(tag)"
        }
    }
}

/// An object version's entity tag, as the store reports it (opaque; compare for equality only).
public struct ETag: Hashable, Sendable, CustomStringConvertible {
    /// The tag's text, including any quotes the store puts around it.
    public let value: String

    /// Wraps a tag's text.
    public init(_ value: String) { self.value = value }

    /// The tag's text.
    public var description: String { value }
}

/// What `head` and `list` report about an object.
public struct ObjectInfo: Sendable, Equatable {
    /// The object's key.
    public var key: String
    /// Its size in bytes.
    public var size: UInt64
    /// Its entity tag.
    public var etag: ETag

    /// Creates a description.
    public init(key: String, size: UInt64, etag: ETag) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// One page of a listing.
public struct ObjectListing: Sendable, Equatable {
    /// The objects of this page, in key order.
    public var objects: [ObjectInfo]
    /// `true` when more objects follow: list again with `startAfter` = the last key.
    public var isTruncated: Bool

    /// Creates a page.
    public init(objects: [ObjectInfo], isTruncated: Bool) {
        self.objects = objects
        self.isTruncated = isTruncated
    }
}

/// The store's identifier of a multipart upload in progress.
public struct MultipartUploadID: Hashable, Sendable, CustomStringConvertible {
    /// The identifier's text.
    public let value: String

    /// Wraps an identifier.
    public init(_ value: String) { self.value = value }

    /// The identifier's text.
    public var description: String { value }
}

/// A part to join when completing a multipart upload.
public struct CompletedPart: Sendable, Equatable {
    /// The part's number (1...10000).
    public var partNumber: Int
    /// The tag `uploadPart` returned for it.
    public var etag: ETag

    /// Creates a part reference.
    public init(partNumber: Int, etag: ETag) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// The limits every store enforces alike (S3's).
public enum ObjectStoreLimits {
    /// The smallest part of a multipart upload, except the last: 5 MiB.
    public static let minimumPartSize = 5 * 1024 * 1024
    /// The highest part number: 10,000.
    public static let maximumPartNumber = 10_000
    /// The most objects one `list` call returns: 1,000.
    public static let maximumListLimit = 1000
    /// The longest key, in UTF-8 bytes: 1,024.
    public static let maximumKeyLength = 1024
}
