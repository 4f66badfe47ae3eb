import Encoding

/// Where an ``S3ObjectStore`` sends its requests and how: bucket, key prefix, region,
/// endpoint, addressing style, credentials, timeouts and retries.
public struct S3Configuration: Sendable {
    /// The bucket (3...63 characters: lower-case letters, digits, `.` and `-`).
    public var bucket: String
    /// Prepended to every object key: empty, or ending with `/`.
    public var prefix: String
    /// The region requests are signed for.
    public var region: String
    /// The endpoint as `http[s]://host[:port]`; `nil`: AWS's, `https://s3.REGION.amazonaws.com`.
    public var endpoint: String?
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted
    /// (`bucket.endpoint/key`). Self-hosted stores and moto need it.
    public var pathStyle: Bool
    /// The credentials requests are signed with.
    public var credentials: S3Credentials
    /// The longest a single request may take, in seconds, before it counts as failed.
    public var requestTimeoutSeconds: Double = 30
    /// How failed requests are repeated.
    public var retry = S3RetryPolicy()

    /// A configuration from an `s3://bucket/prefix` URL and explicit settings.
    ///
    /// - Parameters:
    ///   - pathStyle: `nil` chooses path-style when an endpoint is given, virtual-hosted for AWS.
    /// - Throws: `StrataError.invalidArgument` for a malformed URL, bucket or endpoint.
    public init(url: String, credentials: S3Credentials, region: String = "us-east-1", endpoint: String? = nil, pathStyle: Bool? = nil) throws {
        guard url.hasPrefix("s3://") else { throw StrataError.invalidArgument("object store URL \(url.debugDescription) does not start with s3://") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        var prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        try Self.validateBucket(bucket)
        if let endpoint { _ = try S3Endpoint(endpoint) }
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle ?? (endpoint != nil)
        self.credentials = credentials
    }

    /// A configuration for `url` with what AWS's tools read from the environment:
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`; else `us-east-1`), `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`.
    /// Explicit arguments win over the environment.
    ///
    /// - Throws: `StrataError.invalidArgument` when no credentials are set or the URL is malformed.
    public static func fromEnvironment(url: String, region: String? = nil, endpoint: String? = nil, pathStyle: Bool? = nil) throws -> S3Configuration {
        guard let credentials = S3Credentials.fromEnvironment() else {
            throw StrataError.invalidArgument("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let region = region ?? S3Credentials.environment("AWS_REGION") ?? S3Credentials.environment("AWS_DEFAULT_REGION") ?? "us-east-1"
        let endpoint = endpoint ?? S3Credentials.environment("AWS_ENDPOINT_URL_S3") ?? S3Credentials.environment("AWS_ENDPOINT_URL")
        return try S3Configuration(url: url, credentials: credentials, region: region, endpoint: endpoint, pathStyle: pathStyle)
    }

    /// `s3://bucket/prefix`.
    public var url: String { "s3://\(bucket)/\(prefix)" }

    /// S3's bucket naming rules (the part every provider shares).
    static func validateBucket(_ bucket: String) throws {
        let allowed = bucket.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D }
        guard (3...63).contains(bucket.utf8.count), allowed,
              let first = bucket.utf8.first, let last = bucket.utf8.last,
              first != 0x2E, first != 0x2D, last != 0x2E, last != 0x2D else {
            throw StrataError.invalidArgument("bucket name \(bucket.debugDescription) is not valid: 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit")
        }
    }
}

/// An endpoint URL taken apart: `http[s]://authority`.
struct S3Endpoint: Sendable, Equatable {
    var scheme: String
    var authority: String

    init(_ text: String) throws {
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "http" || parts[0] == "https" else {
            throw StrataError.invalidArgument("S3 endpoint \(text.debugDescription) must start with http:// or https://")
        }
        let authority = String(parts[1].prefix { $0 != "/" })
        guard !authority.isEmpty, !authority.contains("@") else {
            throw StrataError.invalidArgument("S3 endpoint \(text.debugDescription) has no host")
        }
        scheme = String(parts[0])
        self.authority = authority
    }
}

/// How an ``S3ObjectStore`` repeats failed requests: on 5xx, throttling (503 SlowDown, 429),
/// 409 ConditionalRequestConflict, timeouts and connection errors — never on other 4xx —
/// with exponential backoff and full jitter.
public struct S3RetryPolicy: Sendable {
    /// Attempts per request, the first included (at least 1).
    public var maxAttempts = 6
    /// The first backoff's upper bound, in milliseconds; doubled per attempt.
    public var baseDelayMilliseconds = 50
    /// The largest backoff, in milliseconds.
    public var maxDelayMilliseconds = 2000

    /// The default policy: 6 attempts, 50 ms doubling to at most 2 s.
    public init() {}

    /// The wait before attempt `attempt + 1` (after `attempt` failures): uniform in
    /// 0...min(max, base × 2^(attempt-1)).
    func delayMilliseconds(afterAttempt attempt: Int) -> Int {
        let ceiling = min(maxDelayMilliseconds, baseDelayMilliseconds << min(20, max(0, attempt - 1)))
        return ceiling <= 0 ? 0 : Int.random(in: 0...ceiling)
    }
}
