import Encoding

// See Docs/formats/ordered-keys.md for every byte.

/// A value that encodes to bytes whose bytewise order is the value's order: for two values
/// `a` and `b` of one type, `a < b` exactly when `a`'s encoding sorts before `b`'s. Encodings
/// are self-delimiting, so values concatenate into composite keys (`KeyTuple`) that sort field
/// by field, and a prefix of a tuple's fields encodes to a prefix of the tuple's bytes — what
/// range scans over a leading field rely on.
///
/// Strata's tables use these as primary and index keys. Conformances: every fixed-width integer
/// type, `Bool`, `Double`, `Float`, `String`, `[UInt8]`, `UUID`, `Date`, and `KeyTuple`.
public protocol OrderedKey: Sendable {
    /// Appends this value's encoding.
    func encode(to encoder: inout OrderedKeyEncoder)

    /// Reads one value from the decoder's position and moves past it.
    ///
    /// - Throws: `StrataError.corruption` when the bytes there are not this type's encoding
    ///   (too short, an invalid escape, a missing terminator).
    static func decode(from decoder: inout OrderedKeyDecoder) throws -> Self
}

extension OrderedKey {
    /// This value's encoding on its own.
    public var orderedKeyBytes: [UInt8] {
        var encoder = OrderedKeyEncoder()
        encode(to: &encoder)
        return encoder.bytes
    }

    /// Decodes a value that occupies all of `bytes`.
    ///
    /// - Throws: `StrataError.corruption` for bytes that are not exactly one encoding.
    public init(orderedKeyBytes bytes: [UInt8]) throws {
        var decoder = OrderedKeyDecoder(bytes)
        self = try Self.decode(from: &decoder)
        try decoder.finish()
    }
}

/// Accumulates ordered-key encodings.
public struct OrderedKeyEncoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty encoder.
    public init() {}

    /// Appends `value`'s big-endian bytes (most significant first, so byte order is numeric
    /// order for unsigned values).
    public mutating func appendBigEndian<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        var bigEndian = value.bigEndian
        withUnsafeBytes(of: &bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte.
    public mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// Appends a byte string escaped and terminated: each `0x00` becomes `0x00 0xFF`, and
    /// `0x00 0x00` ends it — so it sorts like the raw bytes and is self-delimiting.
    public mutating func appendEscaped(_ raw: some Sequence<UInt8>) {
        for byte in raw {
            bytes.append(byte)
            if byte == 0 { bytes.append(0xFF) }
        }
        bytes.append(0)
        bytes.append(0)
    }
}

/// Reads ordered-key encodings, bounds-checked: bad input throws, never traps.
public struct OrderedKeyDecoder: Sendable {
    /// The bytes being decoded.
    public let bytes: [UInt8]
    /// The next byte to read.
    public private(set) var position = 0

    /// A decoder at the start of `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { position == bytes.count }

    /// An error naming the position and what was expected there.
    func failure(_ reason: String) -> StrataError {
        StrataError.corruption(file: "<ordered key>", offset: position, reason: reason)
    }

    /// Reads a big-endian unsigned integer of `Value`'s width.
    public mutating func readBigEndian<Value: FixedWidthInteger & UnsignedInteger>(_: Value.Type, _ what: String) throws -> Value {
        let width = Value.bitWidth / 8
        guard bytes.count - position >= width else { throw failure("\(what): \(width) bytes needed, \(bytes.count - position) left") }
        var value: Value = 0
        for index in 0..<width { value = value << 8 | Value(bytes[position + index]) }
        position += width
        return value
    }

    /// Reads one byte.
    public mutating func readByte(_ what: String) throws -> UInt8 {
        guard position < bytes.count else { throw failure("\(what): the key ends here") }
        defer { position += 1 }
        return bytes[position]
    }

    /// Reads an escaped, terminated byte string (see `OrderedKeyEncoder.appendEscaped`).
    public mutating func readEscaped(_ what: String) throws -> [UInt8] {
        var raw: [UInt8] = []
        while true {
            let byte = try readByte(what)
            guard byte == 0 else {
                raw.append(byte)
                continue
            }
            switch try readByte(what) {
            case 0: return raw
            case 0xFF: raw.append(0)
            case let other: throw failure("\(what): 0x00 followed by 0x\(String(other, radix: 16)), not an escape or the end")
            }
        }
    }

    /// Checks that every byte was read.
    public func finish() throws {
        guard isAtEnd else { throw failure("\(bytes.count - position) bytes after the key's last field") }
    }
}
