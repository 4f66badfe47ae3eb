import AsyncHTTPClient
import Encoding
import NIOCore
import NIOHTTP1
import ObjectStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An ``ObjectStore`` on Amazon S3 or any service that speaks its REST API (MinIO, moto, …),
/// over async-http-client, with requests signed by ``SigV4Signer``.
///
/// - Keys are stored under the configuration's prefix; `list` strips it again.
/// - Conditional writes use `If-None-Match: *` and `If-Match`.
/// - Failed requests are repeated by the configuration's ``S3RetryPolicy``. A create-if-absent
///   `put` whose earlier attempt may have been stored before its response was lost, and whose
///   retry then finds the key taken, reads the object back: when it holds exactly these bytes,
///   the `put` succeeded (a retry never reports its own write as someone else's).
/// - Errors are `StrataError.objectStore` with the HTTP status, S3's error code and message and
///   the request id.
///
/// Thread safety: every method may be called concurrently.
public final class S3ObjectStore: ObjectStore {
    /// What the store was created with.
    public let configuration: S3Configuration
    private let client: HTTPClient
    private let endpoint: S3Endpoint
    private let signer: SigV4Signer
    private let storeName: String
    /// The largest response body read for anything but an object's bytes.
    private static let metadataBodyLimit = 16 << 20
    /// The largest object a whole-object `get` returns; larger ones need ranged reads.
    public static let wholeObjectLimit = 256 << 20

    /// A store for `configuration`, sending through `client` (the process-wide shared client by
    /// default, which needs no shutdown).
    ///
    /// - Throws: `StrataError.invalidArgument` for an unusable endpoint.
    public init(_ configuration: S3Configuration, client: HTTPClient = .shared) throws {
        self.configuration = configuration
        self.client = client
        self.endpoint = try S3Endpoint(configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com")
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.storeName = "\(configuration.url) at \(endpoint.scheme)://\(endpoint.authority)"
    }

    /// `s3://bucket/prefix at ENDPOINT`.
    public var description: String { storeName }

    // MARK: Bucket

    /// Creates the bucket (for tests and first-time setup). An existing bucket you own is fine.
    public func createBucket() async throws {
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array("<CreateBucketConfiguration><LocationConstraint>\(S3XML.escape(configuration.region))</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        do {
            _ = try await send(S3Request(method: .PUT, operation: "CREATE-BUCKET", objectKey: nil, body: body))
        } catch StrataError.objectStore(let failure) where failure.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Checks that the bucket exists and the credentials may use it (a listing of one key):
    /// what opening a database on the store does first, so that a missing bucket or refused
    /// credentials are reported at open with S3's own error code and message.
    public func checkAccess() async throws {
        _ = try await list(prefix: "", startAfter: nil, limit: 1)
    }

    // MARK: ObjectStore

    /// Stores the object if `condition` holds (see ``ObjectStore/put(_:_:condition:)``).
    public func put(_ key: String, _ bytes: [UInt8], condition: WriteCondition) async throws -> ETag {
        try ObjectKey.validate(key)
        var request = S3Request(method: .PUT, operation: "PUT", objectKey: key, body: bytes)
        request.headers.append(("content-type", "application/octet-stream"))
        switch condition {
        case .none: break
        case .ifAbsent: request.headers.append(("if-none-match", "*"))
        case .ifMatch(let tag): request.headers.append(("if-match", tag.value))
        }
        var attempts = 0
        do {
            let response = try await send(request, attempts: &attempts)
            return try etag(of: response, request)
        } catch StrataError.objectStore(let failure) where failure.kind == .preconditionFailed && condition == .ifAbsent && attempts > 1 {
            // An earlier attempt may have stored the object before its response was lost.
            if let info = try await head(key), info.size == UInt64(bytes.count),
               try await get(key, range: nil) == bytes {
                return info.etag
            }
            throw StrataError.objectStore(failure)
        }
    }

    /// The object's bytes within `range` (see ``ObjectStore/get(_:range:)``).
    public func get(_ key: String, range: Range<UInt64>?) async throws -> [UInt8] {
        try ObjectKey.validate(key)
        try ObjectKey.validateRange(range)
        var request = S3Request(method: .GET, operation: "GET", objectKey: key)
        var limit = Self.wholeObjectLimit
        if let range {
            request.headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
            limit = Int(clamping: range.upperBound - range.lowerBound) + 1
        }
        request.acceptedStatuses = [200, 206, 416]
        request.bodyLimit = limit
        let response = try await send(request)
        switch response.status {
        case 416:
            return []
        case 200 where range != nil:
            // The server ignored the range: cut it out of the whole object.
            return Array(response.body[range!.clamped(toSize: UInt64(response.body.count))])
        default:
            return response.body
        }
    }

    /// The object's size and tag, or `nil` (see ``ObjectStore/head(_:)``).
    public func head(_ key: String) async throws -> ObjectInfo? {
        try ObjectKey.validate(key)
        var request = S3Request(method: .HEAD, operation: "HEAD", objectKey: key)
        request.acceptedStatuses = [200, 404]
        let response = try await send(request)
        guard response.status == 200 else { return nil }
        guard let length = response.headers.first(name: "content-length").flatMap(UInt64.init) else {
            throw invalidResponse(request, "HEAD answered without a Content-Length")
        }
        return ObjectInfo(key: key, size: length, etag: try etag(of: response, request))
    }

    /// One page of a listing (see ``ObjectStore/list(prefix:startAfter:limit:)``).
    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try ObjectKey.validatePrefix(prefix)
        try ObjectKey.validateListLimit(limit)
        var request = S3Request(method: .GET, operation: "LIST", objectKey: nil)
        request.logicalKey = prefix
        request.query = [("list-type", "2"), ("max-keys", String(limit)), ("prefix", configuration.prefix + prefix)]
        if let startAfter { request.query.append(("start-after", configuration.prefix + startAfter)) }
        let response = try await send(request)
        let document = Substring(decoding: response.body, as: UTF8.self)
        var objects: [ObjectInfo] = []
        for entry in S3XML.elements("Contents", in: document) {
            guard let fullKey = S3XML.text("Key", in: entry), fullKey.hasPrefix(configuration.prefix),
                  let size = S3XML.text("Size", in: entry).flatMap(UInt64.init),
                  let tag = S3XML.text("ETag", in: entry) else {
                throw invalidResponse(request, "a listed object lacks its Key, Size or ETag")
            }
            objects.append(ObjectInfo(key: String(fullKey.dropFirst(configuration.prefix.count)), size: size, etag: ETag(tag)))
        }
        let truncated = S3XML.text("IsTruncated", in: document) == "true"
        return ObjectListing(objects: objects, isTruncated: truncated && !objects.isEmpty)
    }

    /// Removes the object; a missing one is fine (see ``ObjectStore/delete(_:)``).
    public func delete(_ key: String) async throws {
        try ObjectKey.validate(key)
        var request = S3Request(method: .DELETE, operation: "DELETE", objectKey: key)
        request.acceptedStatuses = [200, 204, 404]
        _ = try await send(request)
    }

    /// Starts a multipart upload (see ``ObjectStore/createMultipartUpload(_:)``).
    public func createMultipartUpload(_ key: String) async throws -> MultipartUploadID {
        try ObjectKey.validate(key)
        var request = S3Request(method: .POST, operation: "CREATE-UPLOAD", objectKey: key, body: [])
        request.query = [("uploads", "")]
        request.headers.append(("content-type", "application/octet-stream"))
        let response = try await send(request)
        guard let id = S3XML.text("UploadId", in: Substring(decoding: response.body, as: UTF8.self)), !id.isEmpty else {
            throw invalidResponse(request, "no UploadId in the answer")
        }
        return MultipartUploadID(id)
    }

    /// Stores one part of an upload (see ``ObjectStore/uploadPart(_:upload:partNumber:bytes:)``).
    public func uploadPart(_ key: String, upload: MultipartUploadID, partNumber: Int, bytes: [UInt8]) async throws -> ETag {
        try ObjectKey.validate(key)
        try ObjectKey.validatePartNumber(partNumber)
        var request = S3Request(method: .PUT, operation: "UPLOAD-PART", objectKey: key, body: bytes)
        request.query = [("partNumber", String(partNumber)), ("uploadId", upload.value)]
        let response = try await send(request)
        return try etag(of: response, request)
    }

    /// Joins the parts into the object (see ``ObjectStore/completeMultipartUpload(_:upload:parts:)``).
    public func completeMultipartUpload(_ key: String, upload: MultipartUploadID, parts: [CompletedPart]) async throws -> ETag {
        try ObjectKey.validate(key)
        try ObjectKey.validateCompletedParts(parts)
        var xml = "<CompleteMultipartUpload>"
        for part in parts {
            xml += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(S3XML.escape(part.etag.value))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        var request = S3Request(method: .POST, operation: "COMPLETE-UPLOAD", objectKey: key, body: Array(xml.utf8))
        request.query = [("uploadId", upload.value)]
        request.headers.append(("content-type", "application/xml"))
        let response = try await send(request)
        let document = Substring(decoding: response.body, as: UTF8.self)
        // S3 may answer 200 and report a failure in the body.
        if !S3XML.elements("Error", in: document).isEmpty {
            throw classify(status: 200, document: document, headers: response.headers, request)
        }
        guard let tag = S3XML.text("ETag", in: document) else { throw invalidResponse(request, "no ETag in the answer") }
        return ETag(tag)
    }

    /// Abandons an upload (see ``ObjectStore/abortMultipartUpload(_:upload:)``).
    public func abortMultipartUpload(_ key: String, upload: MultipartUploadID) async throws {
        try ObjectKey.validate(key)
        var request = S3Request(method: .DELETE, operation: "ABORT-UPLOAD", objectKey: key)
        request.query = [("uploadId", upload.value)]
        request.acceptedStatuses = [200, 204, 404]
        _ = try await send(request)
    }

    // MARK: Requests

    private func etag(of response: S3Response, _ request: S3Request) throws -> ETag {
        guard let tag = response.headers.first(name: "etag"), !tag.isEmpty else {
            throw invalidResponse(request, "the answer has no ETag header")
        }
        return ETag(tag)
    }

    private func send(_ request: S3Request) async throws -> S3Response {
        var attempts = 0
        return try await send(request, attempts: &attempts)
    }

    /// Sends `request`, repeating it per the retry policy; `attempts` counts the tries made.
    private func send(_ request: S3Request, attempts: inout Int) async throws -> S3Response {
        let policy = configuration.retry
        while true {
            attempts += 1
            do {
                return try await sendOnce(request)
            } catch StrataError.objectStore(let failure) where failure.isRetryable && attempts < max(1, policy.maxAttempts) {
                try await Task.sleep(for: .milliseconds(policy.delayMilliseconds(afterAttempt: attempts)))
            }
        }
    }

    private func sendOnce(_ request: S3Request) async throws -> S3Response {
        let path = path(for: request.objectKey)
        let host = configuration.pathStyle ? endpoint.authority : "\(configuration.bucket).\(endpoint.authority)"
        let amzDate = SigV4Signer.amzDate(epochSeconds: time(nil))
        let payloadHash = SigV4Signer.sha256Hex(request.body ?? [])
        var headers = request.headers + [("host", host), ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = configuration.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        let signature = signer.sign(method: request.method.rawValue, path: path, query: request.query, headers: headers,
                                    payloadHash: payloadHash, amzDate: amzDate)
        let query = request.query
            .map { SigV4Signer.uriEncode($0.0, encodeSlash: true) + "=" + SigV4Signer.uriEncode($0.1, encodeSlash: true) }
            .joined(separator: "&")

        var http = HTTPClientRequest(url: "\(endpoint.scheme)://\(host)\(path)\(query.isEmpty ? "" : "?" + query)")
        http.method = request.method
        for (name, value) in headers { http.headers.add(name: name, value: value) }
        http.headers.add(name: "authorization", value: signature.authorization)
        if let body = request.body { http.body = .bytes(ByteBuffer(bytes: body)) }

        let response: S3Response
        do {
            response = try await exchange(http, bodyLimit: request.bodyLimit)
        } catch let error as StrataError {
            throw error
        } catch is CancellationError {
            try Task.checkCancellation()
            // Not our task's cancellation: the deadline's.
            throw StrataError.objectStore(ObjectStoreFailure(
                kind: .unavailable, store: storeName, operation: request.operation, key: request.logicalKey,
                message: "no complete answer within \(configuration.requestTimeoutSeconds) s"))
        } catch {
            throw StrataError.objectStore(ObjectStoreFailure(
                kind: .unavailable, store: storeName, operation: request.operation, key: request.logicalKey,
                message: "the request failed: \(error)"))
        }
        if request.acceptedStatuses.contains(response.status) {
            return response
        }
        throw classify(status: response.status, document: Substring(decoding: response.body, as: UTF8.self), headers: response.headers, request)
    }

    /// Sends the request and reads the whole answer, all within the request timeout (enforced
    /// here, for the body too, by racing a timer and cancelling the loser).
    private func exchange(_ http: HTTPClientRequest, bodyLimit: Int) async throws -> S3Response {
        let timeout = configuration.requestTimeoutSeconds
        let client = client
        return try await withThrowingTaskGroup(of: S3Response?.self) { group in
            group.addTask {
                let response = try await client.execute(http, timeout: .milliseconds(Int64(timeout * 1000)))
                let status = Int(response.status.code)
                let limit = (200..<300).contains(status) ? bodyLimit : Self.metadataBodyLimit
                var buffer = try await response.body.collect(upTo: limit)
                return S3Response(status: status, headers: response.headers, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else { throw CancellationError() }
            return response
        }
    }

    /// The request path, percent-encoded once: `/bucket/prefix+key` (path-style) or `/prefix+key`.
    private func path(for objectKey: String?) -> String {
        let bucketPath = configuration.pathStyle ? "/" + configuration.bucket : ""
        guard let objectKey else { return bucketPath.isEmpty ? "/" : bucketPath }
        return bucketPath + "/" + SigV4Signer.uriEncode(configuration.prefix + objectKey, encodeSlash: false)
    }

    /// The error for an unexpected status, from S3's `<Error>` document when there is one.
    private func classify(status: Int, document: Substring, headers: HTTPHeaders, _ request: S3Request) -> StrataError {
        let code = S3XML.text("Code", in: document)
        let message = S3XML.text("Message", in: document) ?? "HTTP \(status) without an error document"
        let requestID = S3XML.text("RequestId", in: document) ?? headers.first(name: "x-amz-request-id")
        let kind: ObjectStoreFailure.Kind
        switch (status, code) {
        case (412, _): kind = .preconditionFailed
        case (404, _): kind = .notFound
        case (401, _), (403, _): kind = .denied
        case (429, _), (503, "SlowDown"), (_, "SlowDown"), (_, "Throttling"), (_, "ThrottlingException"): kind = .throttled
        case (409, "ConditionalRequestConflict"): kind = .unavailable
        case (500..<600, _), (200, "InternalError"): kind = .unavailable
        default: kind = .rejected
        }
        return .objectStore(ObjectStoreFailure(kind: kind, store: storeName, operation: request.operation, key: request.logicalKey,
                                               status: status, code: code, message: message, requestID: requestID))
    }

    private func invalidResponse(_ request: S3Request, _ message: String) -> StrataError {
        .objectStore(ObjectStoreFailure(kind: .invalidResponse, store: storeName, operation: request.operation, key: request.logicalKey, message: message))
    }
}

/// One S3 request before signing.
struct S3Request: Sendable {
    var method: HTTPMethod
    /// The operation's name in errors.
    var operation: String
    /// The object key without the configured prefix; `nil` for a bucket-level request.
    var objectKey: String?
    /// The key named in errors.
    var logicalKey: String
    var query: [(String, String)] = []
    var headers: [(String, String)] = []
    var body: [UInt8]?
    var acceptedStatuses: Set<Int> = [200, 204]
    /// The largest successful response body read.
    var bodyLimit = 16 << 20

    init(method: HTTPMethod, operation: String, objectKey: String?, body: [UInt8]? = nil) {
        self.method = method
        self.operation = operation
        self.objectKey = objectKey
        self.logicalKey = objectKey ?? ""
        self.body = body
    }
}

/// A response: status, headers and the collected body.
struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}
