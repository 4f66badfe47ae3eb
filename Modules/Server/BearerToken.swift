import Engine
import VFS

/// The shared secret clients present as `authorization: Bearer <token>`.
///
/// The token file holds the token on its first line (surrounding whitespace ignored); it must be
/// at least 16 bytes, so that a guessable token is refused at startup rather than in production.
public struct BearerToken: Sendable, Equatable {
    /// The token's bytes.
    let bytes: [UInt8]

    /// The shortest token accepted, in bytes.
    public static let minimumLength = 16

    /// A token from its text.
    ///
    /// - Throws: `StrataError.invalidArgument` when it is shorter than `minimumLength` or holds
    ///   whitespace or control characters (which cannot travel in an HTTP/2 header).
    public init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.count >= BearerToken.minimumLength else {
            throw StrataError.invalidArgument("the bearer token must be at least \(BearerToken.minimumLength) bytes long, not \(bytes.count)")
        }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw StrataError.invalidArgument("the bearer token must be printable ASCII without spaces")
        }
        self.bytes = bytes
    }

    /// Reads the token from the first line of `path`.
    ///
    /// - Throws: `StrataError.io` when the file cannot be read, `.invalidArgument` when its
    ///   content is not an acceptable token.
    public static func load(file path: String) throws -> BearerToken {
        let content = try PosixFileSystem().readFile(path)
        let firstLine = content.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        let text = String(decoding: firstLine, as: UTF8.self).trimmingWhitespace()
        do {
            return try BearerToken(text)
        } catch let StrataError.invalidArgument(message) {
            throw StrataError.invalidArgument("token file \(path): \(message)")
        }
    }

    /// The `authorization` header value that carries this token.
    public var headerValue: String { "Bearer " + String(decoding: bytes, as: UTF8.self) }

    /// Whether `header` (an `authorization` header value) carries this token. Takes the same time
    /// whatever the header holds, up to its length, so a caller cannot find the token byte by
    /// byte from response times.
    /// Whether `password` (RESP `AUTH`) is the token, compared in constant time.
    func accepts(password: [UInt8]) -> Bool {
        accepts(header: "Bearer " + String(decoding: password, as: UTF8.self))
    }

    func accepts(header: String) -> Bool {
        let presented = Array(header.utf8)
        let expected = Array(headerValue.utf8)
        // Compare every byte of the longer of the two; a length mismatch also makes a difference.
        var difference = UInt8(presented.count == expected.count ? 0 : 1)
        for index in 0..<max(presented.count, expected.count) {
            let left = index < presented.count ? presented[index] : 0
            let right = index < expected.count ? expected[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, carriage returns and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
