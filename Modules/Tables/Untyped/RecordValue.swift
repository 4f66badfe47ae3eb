#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Encoding

// See Docs/formats/record-values.md: the binary format is self-describing, which is what lets a
// record be read without its Swift type.

/// A record read without its Swift type: what a tool or the server sees of a table's values.
///
/// Binary records (`BinaryRecordCodec`, the default) carry a tag per value and field names, so
/// they decode exactly; JSON records (`JSONRecordCodec`) decode through JSON's types (a number
/// is `int`, `uint` or `double`, whichever holds it; object fields sorted by name).
public enum RecordValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case array([RecordValue])
    /// A keyed container's fields, in stored order.
    case object([RecordField])

    /// The deepest nesting decoded (deeper records are refused, never a stack overflow).
    public static let maxDepth = 64

    /// Decodes a stored record: JSON when it starts with `{`, `[` or a space (no binary tag
    /// is one of those bytes), binary otherwise.
    ///
    /// - Throws: `StrataError.corruption` for bytes that are neither (or are damaged).
    public init(storedRecord bytes: [UInt8]) throws {
        guard let first = bytes.first else { throw StrataError.corruption(file: "<record>", offset: 0, reason: "an empty record") }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") || first == UInt8(ascii: " ") {
            do {
                self = try JSONDecoder().decode(JSONRecordValue.self, from: Data(bytes)).value
            } catch {
                throw StrataError.corruption(file: "<record>", offset: 0, reason: "a JSON record that does not parse: \(error)")
            }
            return
        }
        self = try bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, file: "<record>")
            let value = try RecordValue.readBinary(&reader, depth: 0)
            guard reader.isAtEnd else { throw reader.corruption("\(reader.remaining) bytes after the record") }
            return value
        }
    }

    /// The value of field `name` of an object (`nil` when absent or not an object).
    public subscript(field name: String) -> RecordValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.last { $0.name == name }?.value
    }

    /// The order of two values of comparable kinds: numbers with numbers (integers exactly,
    /// otherwise as `Double`), strings by their UTF-8 bytes, byte strings bytewise, `false` before
    /// `true`; `nil` for other pairs (a filter comparing them does not match).
    public static func compare(_ a: RecordValue, _ b: RecordValue) -> Int? {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case let (.int(x), .int(y)): return sign(x, y)
        case let (.uint(x), .uint(y)): return sign(x, y)
        case let (.int(x), .uint(y)): return x < 0 ? -1 : sign(UInt64(x), y)
        case let (.uint(x), .int(y)): return y < 0 ? 1 : sign(x, UInt64(y))
        case let (.string(x), .string(y)): return BytewiseComparator.compare(Array(x.utf8), Array(y.utf8))
        case let (.bytes(x), .bytes(y)): return BytewiseComparator.compare(x, y)
        case let (.bool(x), .bool(y)): return sign(x ? 1 : 0, y ? 1 : 0)
        case (.null, .null): return 0
        default:
            guard let x = a.number, let y = b.number, !x.isNaN, !y.isNaN else { return nil }
            return sign(x, y)
        }
    }

    /// A number as a `Double` (`nil` for other kinds).
    var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .uint(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    private static func readBinary(_ reader: inout ByteReader, depth: Int) throws -> RecordValue {
        guard depth < maxDepth else { throw reader.corruption("a record nested deeper than \(maxDepth)") }
        let tagOffset = reader.position
        let raw = try reader.readUInt8("value tag")
        guard let tag = RecordTag(rawValue: raw) else { throw reader.corruption("unknown value tag \(raw)", at: tagOffset - reader.position) }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .signed:
            let zigzag = try reader.readVarint64("signed integer")
            return .int(Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1))))
        case .unsigned: return .uint(try reader.readVarint64("unsigned integer"))
        case .float: return .double(Double(Float(bitPattern: try reader.readFixed32("float"))))
        case .double: return .double(Double(bitPattern: try reader.readFixed64("double")))
        case .string:
            let count = try reader.readLength(max: reader.remaining, "string length")
            let bytes = try reader.readBytes(count: count, "string")
            guard let string = String(validating: bytes, as: UTF8.self) else { throw reader.corruption("a string that is not UTF-8", at: -count) }
            return .string(string)
        case .bytes:
            let count = try reader.readLength(max: reader.remaining, "byte string length")
            return .bytes(Array(try reader.readBytes(count: count, "byte string")))
        case .array, .object:
            let length = try reader.readLength(max: reader.remaining, "container length")
            let end = reader.position + length
            let count = try reader.readLength(max: length, "element count")
            var items: [RecordValue] = []
            var fields: [RecordField] = []
            for _ in 0..<count {
                if tag == .object {
                    let nameLength = try reader.readLength(max: reader.remaining, "field name length")
                    let nameBytes = try reader.readBytes(count: nameLength, "field name")
                    guard let name = String(validating: nameBytes, as: UTF8.self) else { throw reader.corruption("a field name that is not UTF-8") }
                    fields.append(RecordField(name: name, value: try readBinary(&reader, depth: depth + 1)))
                } else {
                    items.append(try readBinary(&reader, depth: depth + 1))
                }
                guard reader.position <= end else { throw reader.corruption("a container's values run past its length") }
            }
            guard reader.position == end else { throw reader.corruption("a container's length does not match its values") }
            return tag == .object ? .object(fields) : .array(items)
        }
    }
}

/// One field of a `RecordValue.object`.
public struct RecordField: Sendable, Equatable {
    /// The field's name.
    public var name: String
    /// Its value.
    public var value: RecordValue

    /// Creates a field.
    public init(name: String, value: RecordValue) {
        self.name = name
        self.value = value
    }
}

/// `RecordValue` read through `JSONDecoder` (strict about types: `true` is never a number).
private struct JSONRecordValue: Decodable {
    let value: RecordValue

    private struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Name.self) {
            value = .object(try object.allKeys.sorted { $0.stringValue < $1.stringValue }.map { key in
                RecordField(name: key.stringValue, value: try object.decode(JSONRecordValue.self, forKey: key).value)
            })
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [RecordValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONRecordValue.self).value) }
            value = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            value = .null
        } else if let bool = try? single.decode(Bool.self) {
            value = .bool(bool)
        } else if let int = try? single.decode(Int64.self) {
            value = .int(int)
        } else if let uint = try? single.decode(UInt64.self) {
            value = .uint(uint)
        } else if let double = try? single.decode(Double.self) {
            value = .double(double)
        } else {
            value = .string(try single.decode(String.self))
        }
    }
}
