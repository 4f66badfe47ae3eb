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

    /// Appends this value's encoding.
    func write(to out: inout ByteWriter) {
        switch self {
        case .null: out.appendUInt8(RecordTag.null.rawValue)
        case let .bool(value): out.appendUInt8(value ? RecordTag.true.rawValue : RecordTag.false.rawValue)
        case let .signed(value):
            out.appendUInt8(RecordTag.signed.rawValue)
            out.appendVarint64(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
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
            var value = value
            value.withUTF8 { utf8 in
                out.appendVarint64(UInt64(utf8.count))
                out.bytes.append(contentsOf: utf8)
            }
        case let .bytes(value):
            out.appendUInt8(RecordTag.bytes.rawValue)
            out.appendVarint64(UInt64(value.count))
            out.bytes.append(contentsOf: value)
        case let .array(array):
            var body = ByteWriter()
            body.appendVarint64(UInt64(array.items.count))
            for item in array.items { item.write(to: &body) }
            out.appendUInt8(RecordTag.array.rawValue)
            out.appendVarint64(UInt64(body.count))
            out.bytes.append(contentsOf: body.bytes)
        case let .object(object):
            var body = ByteWriter()
            body.appendVarint64(UInt64(object.fields.count))
            for (name, value) in object.fields {
                var name = name
                name.withUTF8 { utf8 in
                    body.appendVarint64(UInt64(utf8.count))
                    body.bytes.append(contentsOf: utf8)
                }
                value.write(to: &body)
            }
            out.appendUInt8(RecordTag.object.rawValue)
            out.appendVarint64(UInt64(body.count))
            out.bytes.append(contentsOf: body.bytes)
        }
    }
}

/// An unkeyed container's elements, shared by the container and its encoder until written.
final class RecordArray {
    var items: [RecordNode] = []
}

/// A keyed container's fields in the order they were encoded (a key encoded twice keeps its
/// last value).
final class RecordObject {
    var fields: [(String, RecordNode)] = []

    func set(_ name: String, _ value: RecordNode) {
        if let index = fields.firstIndex(where: { $0.0 == name }) {
            fields[index].1 = value
        } else {
            fields.append((name, value))
        }
    }
}
