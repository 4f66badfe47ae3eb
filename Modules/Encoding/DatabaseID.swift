/// A database's 16-byte identity (a random RFC 4122 version-4 UUID), created once when the
/// database is created and stored in its manifest and in every WAL segment header, so files of
/// one database are never replayed into another.
public struct DatabaseID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes, in UUID byte order.
    public let bytes: [UInt8]

    /// Wraps 16 bytes.
    ///
    /// - Returns: `nil` unless `bytes` has exactly 16 elements.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    /// A new random identity from the system's secure random source.
    public static func random() -> DatabaseID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return DatabaseID(bytes: bytes)!
    }

    /// The canonical `8-4-4-4-12` hex form.
    public var description: String {
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
