import Encoding
import Foundation

/// Turns a table's values into the bytes stored under their keys and back.
///
/// Two codecs ship: `BinaryRecordCodec` (the default; Strata's own compact format, see
/// `Docs/formats/record-values.md`) and `JSONRecordCodec` (Foundation's JSON, readable by any
/// tool). A table's codec is fixed for its life: records written by one codec do not decode
/// with the other.
public protocol RecordCodec: Sendable {
    /// The bytes of `value`.
    ///
    /// - Throws: whatever `value`'s `encode(to:)` throws (`EncodingError`).
    func encode<Value: Encodable>(_ value: Value) throws -> [UInt8]

    /// A `Value` from bytes this codec wrote.
    ///
    /// - Throws: `DecodingError` when the bytes are not an encoding of a `Value`.
    func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value
}

/// Values as JSON through Foundation's `JSONEncoder` and `JSONDecoder` (sorted keys; types
/// encode themselves as they choose, so a `Date` is its seconds since 2001 as a number). Larger and slower than `BinaryRecordCodec` (figures in
/// `Docs/TABLES.md`), but any JSON tool reads the stored values.
public struct JSONRecordCodec: RecordCodec {
    /// A JSON codec.
    public init() {}

    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}

/// Values in Strata's compact, self-describing binary format (`Docs/formats/record-values.md`):
/// a type tag per value, varints for integers, field names for keyed containers (so fields
/// may be added, removed and reordered: a missing optional field decodes as `nil`, an unknown
/// field is skipped). The default codec of a table.
public struct BinaryRecordCodec: RecordCodec {
    /// A binary codec.
    public init() {}

    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        try BinaryRecordEncoder.encode(value)
    }

    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try BinaryRecordDecoder.decode(type, from: bytes)
    }
}
