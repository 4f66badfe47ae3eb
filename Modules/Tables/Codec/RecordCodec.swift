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

    /// The top-level field `name` (its coding key) of a keyed value this codec wrote, decoded
    /// alone — what a query's field filter reads, without decoding the rest of the record.
    ///
    /// - Returns: `nil` when the value has no such field (or it is `null`).
    /// - Throws: `DecodingError` when the bytes are not a keyed value or the field is not a `Field`.
    func decodeField<Field: Decodable>(_ name: String, as type: Field.Type, from bytes: [UInt8]) throws -> Field?

    /// A keyed value holding only the top-level fields `names` of the keyed value `bytes`
    /// (those present), encoded so that `decodeField` reads them: what an index stores beside
    /// its entries (`TableSchema.index(_:storing:_:)`).
    ///
    /// - Throws: `DecodingError` when `bytes` is not a keyed value.
    func extractFields(_ names: [String], from bytes: [UInt8]) throws -> [UInt8]

    /// A field filter's test, prepared once per query and then run on every row: whether the
    /// top-level field `name` of the bytes it is given, decoded as `Field`, satisfies
    /// `predicate` (`false` when the field is absent or `null`). The bytes are a keyed value
    /// this codec wrote (a record, or an index entry's stored fields), borrowed for the call
    /// only. The default decodes the field with `decodeField`; a codec may answer without
    /// decoding it or copying the bytes.
    ///
    /// The test throws as `decodeField(_:as:from:)`.
    func fieldTest<Field: Decodable & SendableMetatype>(_ name: String, as type: Field.Type, satisfying predicate: @escaping @Sendable (Field) -> Bool) -> RecordFieldTest
}

/// A prepared field filter (`RecordCodec.fieldTest(_:as:satisfying:)`): whether a record's (or
/// an index entry's stored fields') bytes pass, the bytes borrowed for the call.
public typealias RecordFieldTest = @Sendable (_ bytes: UnsafeRawBufferPointer) throws -> Bool

extension RecordCodec {
    /// `fieldTest(_:as:satisfying:)` through `decodeField(_:as:from:)` on a copy of the bytes.
    public func fieldTest<Field: Decodable & SendableMetatype>(_ name: String, as type: Field.Type, satisfying predicate: @escaping @Sendable (Field) -> Bool) -> RecordFieldTest {
        { bytes in
            guard let field = try decodeField(name, as: type, from: Array(bytes)) else { return false }
            return predicate(field)
        }
    }
}

/// A coding key with any name: the key a field filter asks for.
struct NamedCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Decodes one field of a keyed value, named by the decoder's `userInfo` (the JSON codec's way
/// to a single field).
private struct FieldProbe<Field: Decodable>: Decodable {
    static var nameKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "strata.field")! }
    let value: Field?

    init(from decoder: any Decoder) throws {
        let name = decoder.userInfo[Self.nameKey] as? String ?? ""
        value = try decoder.container(keyedBy: NamedCodingKey.self).decodeIfPresent(Field.self, forKey: NamedCodingKey(name))
    }
}

/// Values as JSON through Foundation's `JSONEncoder` and `JSONDecoder` (sorted keys; types
/// encode themselves as they choose, so a `Date` is its seconds since 2001 as a number). Larger and slower than `BinaryRecordCodec` (figures in
/// `Docs/TABLES.md`), but any JSON tool reads the stored values.
public struct JSONRecordCodec: RecordCodec {
    /// A JSON codec.
    public init() {}

    /// The value's bytes (see `RecordCodec.encode(_:)`).
    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    /// A value from its bytes (see `RecordCodec.decode(_:from:)`).
    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// One field, through a probe type that asks for it alone (JSON is still parsed whole).
    public func decodeField<Field: Decodable>(_ name: String, as type: Field.Type, from bytes: [UInt8]) throws -> Field? {
        let decoder = JSONDecoder()
        decoder.userInfo[FieldProbe<Field>.nameKey] = name
        return try decoder.decode(FieldProbe<Field>.self, from: Data(bytes)).value
    }

    /// The fields through `JSONSerialization`: a JSON object of just them.
    public func extractFields(_ names: [String], from bytes: [UInt8]) throws -> [UInt8] {
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw DecodingError.typeMismatch([String: Any].self, DecodingError.Context(codingPath: [], debugDescription: "not a JSON object"))
        }
        let kept = object.filter { names.contains($0.key) }
        return Array(try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys, .fragmentsAllowed]))
    }
}

/// Values in Strata's compact, self-describing binary format (`Docs/formats/record-values.md`):
/// a type tag per value, varints for integers, field names for keyed containers (so fields
/// may be added, removed and reordered: a missing optional field decodes as `nil`, an unknown
/// field is skipped). The default codec of a table.
public struct BinaryRecordCodec: RecordCodec {
    /// A binary codec.
    public init() {}

    /// The value's bytes (see `RecordCodec.encode(_:)`).
    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        try BinaryRecordEncoder.encode(value)
    }

    /// A value from its bytes (see `RecordCodec.decode(_:from:)`).
    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try BinaryRecordDecoder.decode(type, from: bytes)
    }

    /// One field: finds it among the top-level object's fields and decodes only its bytes.
    public func decodeField<Field: Decodable>(_ name: String, as type: Field.Type, from bytes: [UInt8]) throws -> Field? {
        try BinaryRecordDecoder.decodeField(name, as: type, from: bytes)
    }

    /// The field tested in place on the borrowed bytes: strings without decoding or copying;
    /// other types decode only the field (see `RecordCodec.fieldTest(_:as:satisfying:)`).
    public func fieldTest<Field: Decodable & SendableMetatype>(_ name: String, as type: Field.Type, satisfying predicate: @escaping @Sendable (Field) -> Bool) -> RecordFieldTest {
        BinaryRecordDecoder.fieldTest(name, as: type, satisfying: predicate)
    }

    /// The fields' bytes copied as they are into a new object (no decoding).
    public func extractFields(_ names: [String], from bytes: [UInt8]) throws -> [UInt8] {
        try BinaryRecordDecoder.extractFields(names, from: bytes)
    }
}
