// See Docs/formats/internal-key.md.

/// A user key tagged with the sequence number and kind of the write that produced it.
///
/// Encoded form (what every table, block and memtable stores):
///
///     user key bytes | trailer: fixed64 little-endian of (sequence << 8) | kind
///
/// Internal keys sort by user key ascending, then by trailer descending — so for one user key
/// the newest write comes first, and a seek to `(key, s)` lands on the newest version visible at
/// snapshot `s`. `InternalKeyComparator` implements that order on encoded keys.
public struct InternalKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The user's key.
    public var userKey: [UInt8]
    /// The sequence number of the write.
    public var sequence: SequenceNumber
    /// What the write was.
    public var kind: ValueKind

    /// Creates an internal key.
    public init(userKey: [UInt8], sequence: SequenceNumber, kind: ValueKind) {
        self.userKey = userKey
        self.sequence = sequence
        self.kind = kind
    }

    /// Decodes an encoded internal key.
    ///
    /// - Throws: `StrataError.corruption` when `encoded` is shorter than the trailer or carries an
    ///   unknown kind.
    public init(decoding encoded: UnsafeRawBufferPointer, file: String = "<memory>", offset: Int = 0) throws {
        guard encoded.count >= InternalKey.trailerSize else {
            throw StrataError.corruption(
                file: file, offset: offset,
                reason: "internal key of \(encoded.count) bytes is shorter than its 8-byte trailer")
        }
        let trailer = InternalKey.trailer(of: encoded)
        guard let kind = ValueKind(rawValue: UInt8(truncatingIfNeeded: trailer)) else {
            throw StrataError.corruption(
                file: file, offset: offset + encoded.count - InternalKey.trailerSize,
                reason: "unknown value kind \(UInt8(truncatingIfNeeded: trailer))")
        }
        self.userKey = Array(UnsafeRawBufferPointer(rebasing: encoded[0..<(encoded.count - InternalKey.trailerSize)]))
        self.sequence = SequenceNumber(unchecked: trailer >> 8)
        self.kind = kind
    }

    /// Decodes an encoded internal key held in an array.
    public init(decoding encoded: [UInt8], file: String = "<memory>", offset: Int = 0) throws {
        self = try encoded.withUnsafeBytes { try InternalKey(decoding: $0, file: file, offset: offset) }
    }

    /// The size of the trailer that follows the user key.
    public static let trailerSize = 8

    /// The kind byte used in seek keys: larger than every real kind, so that a seek key sorts
    /// before (or at) every entry of the same user key and sequence.
    @usableFromInline
    package static let seekKindByte: UInt8 = 0xFF

    /// The encoded form: user key followed by the trailer.
    public var encoded: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(userKey.count + InternalKey.trailerSize)
        bytes.append(contentsOf: userKey)
        withUnsafeBytes(of: InternalKey.packTrailer(sequence, kind).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Packs a sequence and kind into the trailer integer.
    @inlinable
    package static func packTrailer(_ sequence: SequenceNumber, _ kind: ValueKind) -> UInt64 {
        (sequence.rawValue << 8) | UInt64(kind.rawValue)
    }

    /// The trailer of a seek key for `sequence`: sorts before every entry of the same user key
    /// whose sequence is ≤ `sequence`, and after every entry with a larger sequence.
    @inlinable
    package static func seekTrailer(_ sequence: SequenceNumber) -> UInt64 {
        (sequence.rawValue << 8) | UInt64(seekKindByte)
    }

    /// Appends the encoded form of `(userKey, trailer)` to `bytes`.
    @inlinable
    package static func append(userKey: UnsafeRawBufferPointer, trailer: UInt64, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: userKey)
        withUnsafeBytes(of: trailer.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// The encoded seek key for `(userKey, sequence)`.
    @inlinable
    public static func seekKey(_ userKey: [UInt8], at sequence: SequenceNumber) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(userKey.count + trailerSize)
        userKey.withUnsafeBytes { append(userKey: $0, trailer: seekTrailer(sequence), to: &bytes) }
        return bytes
    }

    /// The trailer integer of an encoded internal key.
    ///
    /// - Precondition: `encoded.count >= 8` (checked by whoever accepted the key).
    @inlinable
    @inline(__always)
    public static func trailer(of encoded: UnsafeRawBufferPointer) -> UInt64 {
        UInt64(littleEndian: encoded.loadUnaligned(fromByteOffset: encoded.count &- trailerSize, as: UInt64.self))
    }

    /// The user-key part of an encoded internal key.
    @inlinable
    @inline(__always)
    public static func userKey(of encoded: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: encoded[0..<(encoded.count &- trailerSize)])
    }

    /// The sequence number of an encoded internal key.
    @inlinable
    public static func sequence(of encoded: UnsafeRawBufferPointer) -> SequenceNumber {
        SequenceNumber(unchecked: trailer(of: encoded) >> 8)
    }

    /// The raw kind byte of an encoded internal key (unvalidated).
    @inlinable
    public static func kindByte(of encoded: UnsafeRawBufferPointer) -> UInt8 {
        UInt8(truncatingIfNeeded: trailer(of: encoded))
    }

    /// Orders values as the format sorts them.
    public static func < (lhs: InternalKey, rhs: InternalKey) -> Bool {
        let order = BytewiseComparator.compare(lhs.userKey, rhs.userKey)
        if order != 0 { return order < 0 }
        return packTrailer(lhs.sequence, lhs.kind) > packTrailer(rhs.sequence, rhs.kind)
    }

    /// A one-line, human-readable description.
    public var description: String {
        "\(InternalKey.printable(userKey))@\(sequence.rawValue):\(kind)"
    }

    /// Renders bytes as text when they are printable ASCII, otherwise as `0x…` hex.
    package static func printable(_ bytes: some Collection<UInt8>) -> String {
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        return "0x" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

/// The order of encoded internal keys: user key ascending, then trailer (sequence, kind) descending.
public enum InternalKeyComparator {
    /// Three-way comparison of two encoded internal keys.
    ///
    /// - Precondition: Both keys are at least 8 bytes long.
    @inlinable
    @inline(__always)
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let order = BytewiseComparator.compare(
            a.baseAddress!, a.count &- InternalKey.trailerSize, b.baseAddress!, b.count &- InternalKey.trailerSize)
        if order != 0 { return order }
        let x = InternalKey.trailer(of: a)
        let y = InternalKey.trailer(of: b)
        return x == y ? 0 : (x > y ? -1 : 1)
    }

    /// Three-way comparison of two encoded internal keys held in arrays.
    ///
    /// - Precondition: Both keys are at least 8 bytes long.
    public static func compareArrays(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in compare(x, y) } }
    }

    /// Compares the user key of encoded internal key `a` with user key `b`.
    @inlinable
    @inline(__always)
    package static func compareUserKey(_ a: UnsafeRawBufferPointer, _ userKey: UnsafeRawBufferPointer) -> Int {
        BytewiseComparator.compare(InternalKey.userKey(of: a), userKey)
    }
}

extension String {
    /// The string left-padded with zeros to `width` characters.
    package func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
