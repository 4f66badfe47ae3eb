/// What went wrong with a request to an object store (S3, a directory, the in-memory store):
/// the payload of ``StrataError/objectStore(_:)``.
///
/// Every field a caller might act on or quote in a support ticket is here: which store, which
/// operation on which key, the HTTP status, the store's own error code and message, and the
/// request id the store assigned.
public struct ObjectStoreFailure: Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, which decides what a caller may do next.
    public enum Kind: String, Sendable, Equatable {
        /// A conditional write's condition did not hold (`If-None-Match: *` over an existing
        /// object, `If-Match` with a stale tag). Nothing was written.
        case preconditionFailed
        /// The object (or the bucket, with `code` saying so) does not exist.
        case notFound
        /// The store asked the client to slow down (HTTP 503 SlowDown, 429). Retryable.
        case throttled
        /// The credentials were refused or lack permission (HTTP 401, 403).
        case denied
        /// The store failed or could not be reached: a 5xx status, a connection error, a timeout.
        /// Retryable; whether a write took effect is unknown.
        case unavailable
        /// The store refused the request as malformed or unsupported (any other 4xx).
        case rejected
        /// The store answered with something this client cannot interpret.
        case invalidResponse
    }

    /// The kind of failure.
    public var kind: Kind
    /// The store, as its URL (`s3://bucket/prefix`, `file:///path`, `memory:`), plus the endpoint
    /// for remote stores.
    public var store: String
    /// The operation: `PUT`, `GET`, `HEAD`, `LIST`, `DELETE`, `UPLOAD-PART`, … .
    public var operation: String
    /// The object key the operation was about (empty for a listing or a bucket operation).
    public var key: String
    /// The HTTP status, when the store answered.
    public var status: Int?
    /// The store's error code (`NoSuchBucket`, `SlowDown`, `PreconditionFailed`, …), when given.
    public var code: String?
    /// The store's message, or what the client observed (a connection error's text).
    public var message: String
    /// The store's request id, when given.
    public var requestID: String?

    /// Creates a failure description.
    public init(
        kind: Kind, store: String, operation: String, key: String,
        status: Int? = nil, code: String? = nil, message: String, requestID: String? = nil
    ) {
        self.kind = kind
        self.store = store
        self.operation = operation
        self.key = key
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// `true` when repeating the request may succeed (throttled or unavailable).
    public var isRetryable: Bool { kind == .throttled || kind == .unavailable }

    /// One line: the store, the operation and key, the status and code, the message, the request id.
    public var description: String {
        var text = "\(store): \(operation)"
        if !key.isEmpty { text += " \(key)" }
        text += " failed (\(kind.rawValue)"
        if let status { text += ", HTTP \(status)" }
        if let code { text += ", \(code)" }
        text += "): \(message)"
        if let requestID { text += " [request id \(requestID)]" }
        return text
    }
}
