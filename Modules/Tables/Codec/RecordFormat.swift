import Encoding

// The binary record format's tags and primitive layouts; Docs/formats/record-values.md is the
// byte-by-byte description. Encoder and decoder both go through these, so they cannot drift.

/// The one-byte tag in front of every value of a binary-encoded record.
enum RecordTag: UInt8 {
    case null = 0x00
    case `false` = 0x01
    case `true` = 0x02
    /// A signed integer, zigzag-encoded as a varint.
    case signed = 0x03
    /// An unsigned integer as a varint.
    case unsigned = 0x04
    /// A `Float`'s bits, 4 bytes little-endian.
    case float = 0x05
    /// A `Double`'s bits, 8 bytes little-endian.
    case double = 0x06
    /// A varint byte count, then UTF-8.
    case string = 0x07
    /// A varint byte count, then the bytes (`Data`, `[UInt8]`).
    case bytes = 0x08
    /// A varint byte count of the body; the body is a varint element count, then the elements.
    case array = 0x09
    /// A varint byte count of the body; the body is a varint field count, then per field a
    /// varint name length, the UTF-8 name and the value.
    case object = 0x0A
}

/// Signed integers' zigzag mapping (0, −1, 1, −2, … ↔ 0, 1, 2, 3, …), so small magnitudes of
/// either sign make short varints.
enum Zigzag {
    @inline(__always)
    static func encode(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    @inline(__always)
    static func decode(_ raw: UInt64) -> Int64 { Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1) }
}

/// A string value's bytes as a `String`.
enum RecordText {
    /// The string whose UTF-8 is `utf8`; `nil` when it is not valid UTF-8. ASCII (most strings)
    /// is valid as it stands and takes the non-validating initialiser (the validating one's
    /// generic path cost twice as much); anything else is validated.
    @inline(__always)
    static func string(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
        isASCII(utf8) ? String(decoding: utf8, as: UTF8.self) : String(validating: utf8, as: UTF8.self)
    }

    /// Whether every byte is below 0x80 (eight at a time).
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        var seen: UInt64 = 0
        if let base = bytes.baseAddress {
            while index + 8 <= bytes.count {
                seen |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                index += 8
            }
        }
        while index < bytes.count {
            seen |= UInt64(bytes[index])
            index += 1
        }
        return seen & 0x8080_8080_8080_8080 == 0
    }
}

/// A value being encoded: the tree `BinaryRecordEncoder` builds before it writes bytes (a
/// container's byte length is written in front of it, so it must be complete first).
enum RecordNode {
    case null
    case bool(Bool)
    case signed(Int64)
    case unsigned(UInt64)
    case float(Float)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case array(RecordArray)
    case object(RecordObject)

    /// The length of this value's encoding (tag included): computed first, so that writing
    /// puts every container's length before its body without building the body apart.
    var encodedSize: Int {
        switch self {
        case .null, .bool: return 1
        case let .signed(value): return 1 + Varint.encodedLength(Zigzag.encode(value))
        case let .unsigned(value): return 1 + Varint.encodedLength(value)
        case .float: return 5
        case .double: return 9
        case let .string(value):
            let count = value.utf8.count
            return 1 + Varint.encodedLength(UInt64(count)) + count
        case let .bytes(value): return 1 + Varint.encodedLength(UInt64(value.count)) + value.count
        case let .array(array):
            let body = array.bodySize
            return 1 + Varint.encodedLength(UInt64(body)) + body
        case let .object(object):
            let body = object.bodySize
            return 1 + Varint.encodedLength(UInt64(body)) + body
        }
    }

    /// Appends this value's encoding.
    func write(to out: inout ByteWriter) {
        switch self {
        case .null: out.appendUInt8(RecordTag.null.rawValue)
        case let .bool(value): out.appendUInt8(value ? RecordTag.true.rawValue : RecordTag.false.rawValue)
        case let .signed(value):
            out.appendUInt8(RecordTag.signed.rawValue)
            out.appendVarint64(Zigzag.encode(value))
        case let .unsigned(value):
            out.appendUInt8(RecordTag.unsigned.rawValue)
            out.appendVarint64(value)
        case let .float(value):
            out.appendUInt8(RecordTag.float.rawValue)
            out.appendFixed32(value.bitPattern)
        case let .double(value):
            out.appendUInt8(RecordTag.double.rawValue)
            out.appendFixed64(value.bitPattern)
        case let .string(value):
            out.appendUInt8(RecordTag.string.rawValue)
            RecordNode.appendCounted(value, to: &out)
        case let .bytes(value):
            out.appendUInt8(RecordTag.bytes.rawValue)
            out.appendVarint64(UInt64(value.count))
            out.bytes.append(contentsOf: value)
        case let .array(array):
            out.appendUInt8(RecordTag.array.rawValue)
            out.appendVarint64(UInt64(array.bodySize))
            out.appendVarint64(UInt64(array.items.count))
            for item in array.items { item.write(to: &out) }
        case let .object(object):
            out.appendUInt8(RecordTag.object.rawValue)
            out.appendVarint64(UInt64(object.bodySize))
            out.appendVarint64(UInt64(object.fields.count))
            for (name, value) in object.fields {
                RecordNode.appendCounted(name, to: &out)
                value.write(to: &out)
            }
        }
    }

    /// Appends `string`'s UTF-8 length as a varint, then its bytes.
    static func appendCounted(_ string: String, to out: inout ByteWriter) {
        var string = string
        string.withUTF8 { utf8 in
            out.appendVarint64(UInt64(utf8.count))
            out.bytes.append(contentsOf: utf8)
        }
    }

    /// The encoding of the value: its size computed first, the bytes written once.
    var encoded: [UInt8] {
        var out = ByteWriter(capacity: encodedSize)
        write(to: &out)
        return out.bytes
    }
}

/// An unkeyed container's elements, shared by the container and its encoder until written.
final class RecordArray {
    var items: [RecordNode] = []

    /// The body's length: the element count's varint, then the elements.
    var bodySize: Int {
        items.reduce(Varint.encodedLength(UInt64(items.count))) { $0 + $1.encodedSize }
    }
}

/// A keyed container's fields in the order they were encoded (a key encoded twice keeps its
/// last value).
final class RecordObject {
    var fields: [(String, RecordNode)]

    init() {
        fields = []
        fields.reserveCapacity(8)  // most records: one allocation for their fields
    }

    /// The body's length: the field count's varint, then each name (counted) and value.
    var bodySize: Int {
        fields.reduce(Varint.encodedLength(UInt64(fields.count))) { size, field in
            let nameCount = field.0.utf8.count
            return size + Varint.encodedLength(UInt64(nameCount)) + nameCount + field.1.encodedSize
        }
    }

    func set(_ name: String, _ value: RecordNode) {
        if let index = fields.firstIndex(where: { $0.0 == name }) {
            fields[index].1 = value
        } else {
            fields.append((name, value))
        }
    }
}
