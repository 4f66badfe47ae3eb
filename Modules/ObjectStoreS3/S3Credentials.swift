#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An access key pair, with a session token for temporary credentials.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key id (`AKIA…`).
    public var accessKeyID: String
    /// The secret access key. Never printed.
    public var secretAccessKey: String
    /// The session token of temporary credentials (`x-amz-security-token`).
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, as AWS's own tools
    /// read them; `nil` when the first two are not both set.
    public static func fromEnvironment() -> S3Credentials? {
        guard let id = environment("AWS_ACCESS_KEY_ID"), let secret = environment("AWS_SECRET_ACCESS_KEY") else { return nil }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment("AWS_SESSION_TOKEN"))
    }

    /// The key id only: the secret stays out of logs.
    public var description: String { "S3Credentials(\(accessKeyID), secret hidden)" }

    /// A non-empty environment variable.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
