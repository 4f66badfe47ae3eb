import NIOCore

/// One reply to a RESP command, written in the protocol version the connection negotiated
/// (RESP2 by default, RESP3 after `HELLO 3`).
package indirect enum RESPReply: Equatable, Sendable {
    /// `+OK`.
    case simple(String)
    /// `-ERR …`: the text must start with the error code (`ERR`, `WRONGTYPE`, `NOAUTH`, …).
    case error(String)
    /// `:42`.
    case integer(Int)
    /// `$5 hello`.
    case bulk([UInt8])
    /// The null reply (`$-1` in RESP2, `_` in RESP3).
    case null
    /// The null array (`*-1` in RESP2, `_` in RESP3): `EXEC` after a watched key changed.
    case nullArray
    /// `*n …`.
    case array([RESPReply])
    /// `%n …` in RESP3; a flat array of keys and values in RESP2.
    case map([(RESPReply, RESPReply)])

    static let ok = RESPReply.simple("OK")

    /// A bulk reply of UTF-8 text.
    package static func text(_ string: String) -> RESPReply { .bulk(Array(string.utf8)) }

    package static func == (lhs: RESPReply, rhs: RESPReply) -> Bool {
        switch (lhs, rhs) {
        case let (.simple(a), .simple(b)), let (.error(a), .error(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.bulk(a), .bulk(b)): return a == b
        case (.null, .null), (.nullArray, .nullArray): return true
        case let (.array(a), .array(b)): return a == b
        case let (.map(a), .map(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Appends the reply to `buffer` in protocol version `protocolVersion` (2 or 3).
    package func write(to buffer: inout ByteBuffer, protocolVersion: Int) {
        switch self {
        case .simple(let text):
            buffer.writeInteger(UInt8(ascii: "+"))
            buffer.writeString(Self.singleLine(text))
            buffer.writeStaticString("\r\n")
        case .error(let text):
            buffer.writeInteger(UInt8(ascii: "-"))
            buffer.writeString(Self.singleLine(text))
            buffer.writeStaticString("\r\n")
        case .integer(let value):
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeString(String(value))
            buffer.writeStaticString("\r\n")
        case .bulk(let bytes):
            buffer.writeInteger(UInt8(ascii: "$"))
            buffer.writeString(String(bytes.count))
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(bytes)
            buffer.writeStaticString("\r\n")
        case .null:
            buffer.writeStaticString(protocolVersion >= 3 ? "_\r\n" : "$-1\r\n")
        case .nullArray:
            buffer.writeStaticString(protocolVersion >= 3 ? "_\r\n" : "*-1\r\n")
        case .array(let elements):
            buffer.writeInteger(UInt8(ascii: "*"))
            buffer.writeString(String(elements.count))
            buffer.writeStaticString("\r\n")
            for element in elements { element.write(to: &buffer, protocolVersion: protocolVersion) }
        case .map(let pairs):
            buffer.writeInteger(UInt8(ascii: protocolVersion >= 3 ? "%" : "*"))
            buffer.writeString(String(protocolVersion >= 3 ? pairs.count : pairs.count * 2))
            buffer.writeStaticString("\r\n")
            for (key, value) in pairs {
                key.write(to: &buffer, protocolVersion: protocolVersion)
                value.write(to: &buffer, protocolVersion: protocolVersion)
            }
        }
    }

    /// Simple strings and errors cannot hold line breaks.
    private static func singleLine(_ text: String) -> String {
        // Bytes, not Characters: "\r\n" is one Character and would slip past a check for "\r".
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 == 13 || $0 == 10 }) else { return text }
        return String(decoding: bytes.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self)
    }
}
