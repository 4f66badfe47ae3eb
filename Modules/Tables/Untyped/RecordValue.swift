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
        do {
            var reader = RecordReader(bytes: bytes, position: 0, end: bytes.count, codingPath: [])
            self = try RecordValue.read(&reader, depth: 0)
            guard reader.position == bytes.count else { throw reader.corrupted("\(bytes.count - reader.position) bytes after the record") }
        } catch let error as DecodingError {
            throw StrataError.corruption(file: "<record>", offset: 0, reason: "a binary record that does not decode: \(error)")
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

    /// One value at the reader's position, through the binary codec's own reader (its tags,
    /// number encodings and bounds checks).
    private static func read(_ reader: inout RecordReader, depth: Int) throws -> RecordValue {
        guard depth < maxDepth else { throw reader.corrupted("a record nested deeper than \(maxDepth)") }
        // The typed reads below read the tag themselves: peek at it, then step back.
        let start = reader.position
        let tag = try reader.tag()
        if tag != .null && tag != .false && tag != .true { reader.position = start }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .signed: return .int(try reader.readInteger(Int64.self))
        case .unsigned: return .uint(try reader.readInteger(UInt64.self))
        case .float, .double: return .double(try reader.readFloatingPoint(Double.self))
        case .string: return .string(try reader.readString())
        case .bytes: return .bytes(try reader.readByteString())
        case .array, .object:
            let (end, count) = try reader.enter(tag, as: RecordValue.self)
            var body = RecordReader(bytes: reader.bytes, position: reader.position, end: end, codingPath: [])
            var items: [RecordValue] = []
            var fields: [RecordField] = []
            for _ in 0..<count {
                if tag == .object {
                    let length = try body.length()
                    guard let name = String(validating: body.bytes[body.position..<(body.position + length)], as: UTF8.self) else {
                        throw body.corrupted("a field name that is not UTF-8")
                    }
                    body.position += length
                    fields.append(RecordField(name: name, value: try read(&body, depth: depth + 1)))
                } else {
                    items.append(try read(&body, depth: depth + 1))
                }
            }
            guard body.position == end else { throw body.corrupted("a container's length does not match its values") }
            reader.position = end
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
