#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// The algorithm (AWS's "Create a signed AWS API request"): a canonical request (method, URI,
/// sorted query, sorted lower-cased headers, the names of the signed headers, the payload's
/// SHA-256) is hashed into a string to sign together with the time and the credential scope
/// (`DATE/REGION/SERVICE/aws4_request`); the signing key is an HMAC-SHA256 chain over the secret,
/// date, region, service and `aws4_request`; the signature is the HMAC of the string to sign.
/// Tested against AWS's published examples (`SigV4SignerTests`).
public struct SigV4Signer: Sendable {
    /// The credentials requests are signed with.
    public var credentials: S3Credentials
    /// The region of the credential scope (`us-east-1`).
    public var region: String
    /// The service of the credential scope (`s3`).
    public var service: String

    /// Creates a signer.
    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What signing a request produced: the header value and the intermediate texts (for tests
    /// and for debugging a signature mismatch).
    public struct Signature: Sendable {
        /// The `Authorization` header's value.
        public var authorization: String
        /// The canonical request that was hashed.
        public var canonicalRequest: String
        /// The string the signature signs.
        public var stringToSign: String
        /// The signature, lower-case hexadecimal.
        public var signature: String
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - method: `GET`, `PUT`, … .
    ///   - path: the request path exactly as sent, already percent-encoded (S3 encodes it once).
    ///   - query: the query parameters, not encoded (they are encoded and sorted here).
    ///   - headers: every header to sign, `host` and `x-amz-date` included (and
    ///     `x-amz-content-sha256` for S3, `x-amz-security-token` with temporary credentials).
    ///   - payloadHash: the body's SHA-256 in lower-case hexadecimal (or `UNSIGNED-PAYLOAD`).
    ///   - amzDate: the request time as `YYYYMMDDTHHMMSSZ`, the value of `x-amz-date`.
    public func sign(
        method: String, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, amzDate: String
    ) -> Signature {
        let encoded: [(name: String, value: String)] = query.map { pair in
            (Self.uriEncode(pair.0, encodeSlash: true), Self.uriEncode(pair.1, encodeSlash: true))
        }
        let sortedQuery = encoded.sorted { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        let canonicalQuery = sortedQuery.map { $0.name + "=" + $0.value }.joined(separator: "&")
        // Header names lower-cased and sorted; values trimmed with inner runs of spaces folded;
        // repeated names joined with commas.
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(Self.trimmed(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [method, path.isEmpty ? "/" : path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")

        let date = String(amzDate.prefix(8))
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.sha256Hex(Array(canonicalRequest.utf8))].joined(separator: "\n")

        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(authorization: authorization, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    /// The SHA-256 of `bytes`, lower-case hexadecimal.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(Array(SHA256.hash(data: bytes)))
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (and `/` unless
    /// `encodeSlash`), with upper-case hex digits, as SigV4 requires.
    public static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where !encodeSlash:
                encoded.append("/")
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
                encoded.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0xF)]))
            }
        }
        return encoded
    }

    /// `seconds` since the epoch as `YYYYMMDDTHHMMSSZ` (UTC).
    public static func amzDate(epochSeconds seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
            text.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0xF)]))
        }
        return text
    }

    private static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
