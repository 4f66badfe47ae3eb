import Encoding
import Foundation

/// Encodes `Encodable` values in the binary record format (`BinaryRecordCodec`): builds the
/// value's `RecordNode` tree through the `Encoder` protocol, then writes it.
///
/// Special cases, mirrored by the decoder: `Data` and `[UInt8]` are one byte string (not an
/// array of numbers); `Date` is a `Double`, its `timeIntervalSinceReferenceDate` (exact).
final class BinaryRecordEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What this encoder's value encoded to; `nil` until it encodes something.
    var node: RecordNode?

    init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        try node(for: value, at: []).encoded
    }

    /// The tree of one value (a value that encodes nothing is an empty object, as in JSON).
    static func node<Value: Encodable>(for value: Value, at path: [any CodingKey]) throws -> RecordNode {
        // Type checks before the casts: a dynamic cast of every record cost more than its
        // encoding (and an empty array of any element type casts to [UInt8]).
        if Value.self == Data.self, let data = value as? Data { return .bytes(Array(data)) }
        if Value.self == [UInt8].self, let bytes = value as? [UInt8] { return .bytes(bytes) }
        if Value.self == Date.self, let date = value as? Date { return .double(date.timeIntervalSinceReferenceDate) }
        let encoder = BinaryRecordEncoder(codingPath: path)
        try value.encode(to: encoder)
        return encoder.node ?? .object(RecordObject())
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: RecordObject
        if case let .object(existing) = node {
            object = existing
        } else {
            object = RecordObject()
            node = .object(object)
        }
        return KeyedEncodingContainer(KeyedRecordEncoding<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: RecordArray
        if case let .array(existing) = node {
            array = existing
        } else {
            array = RecordArray()
            node = .array(array)
        }
        return UnkeyedRecordEncoding(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleRecordEncoding(encoder: self) }
}

/// A keyed container writing into a `RecordObject`.
private struct KeyedRecordEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: RecordObject
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { object.set(key.stringValue, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { object.set(key.stringValue, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { object.set(key.stringValue, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { object.set(key.stringValue, .double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { object.set(key.stringValue, .float(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { object.set(key.stringValue, .signed(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { object.set(key.stringValue, .signed(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { object.set(key.stringValue, .signed(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { object.set(key.stringValue, .signed(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { object.set(key.stringValue, .signed(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { object.set(key.stringValue, .unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { object.set(key.stringValue, .unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { object.set(key.stringValue, .unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { object.set(key.stringValue, .unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { object.set(key.stringValue, .unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try BinaryRecordEncoder.node(for: value, at: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = RecordObject()
        object.set(key.stringValue, .object(nested))
        return KeyedEncodingContainer(KeyedRecordEncoding<NestedKey>(object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = RecordArray()
        object.set(key.stringValue, .array(nested))
        return UnkeyedRecordEncoding(array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { SuperRecordEncoder(object: object, name: "super", codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { SuperRecordEncoder(object: object, name: key.stringValue, codingPath: codingPath + [key]) }
}

/// An unkeyed container appending to a `RecordArray`.
private struct UnkeyedRecordEncoding: UnkeyedEncodingContainer {
    let array: RecordArray
    let codingPath: [any CodingKey]
    var count: Int { array.items.count }

    mutating func encodeNil() throws { array.items.append(.null) }
    mutating func encode(_ value: Bool) throws { array.items.append(.bool(value)) }
    mutating func encode(_ value: String) throws { array.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { array.items.append(.double(value)) }
    mutating func encode(_ value: Float) throws { array.items.append(.float(value)) }
    mutating func encode(_ value: Int) throws { array.items.append(.signed(Int64(value))) }
    mutating func encode(_ value: Int8) throws { array.items.append(.signed(Int64(value))) }
    mutating func encode(_ value: Int16) throws { array.items.append(.signed(Int64(value))) }
    mutating func encode(_ value: Int32) throws { array.items.append(.signed(Int64(value))) }
    mutating func encode(_ value: Int64) throws { array.items.append(.signed(value)) }
    mutating func encode(_ value: UInt) throws { array.items.append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { array.items.append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { array.items.append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { array.items.append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { array.items.append(.unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.items.append(try BinaryRecordEncoder.node(for: value, at: codingPath + [IndexKey(array.items.count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = RecordObject()
        let path = codingPath + [IndexKey(array.items.count)]
        array.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedRecordEncoding<NestedKey>(object: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = RecordArray()
        let path = codingPath + [IndexKey(array.items.count)]
        array.items.append(.array(nested))
        return UnkeyedRecordEncoding(array: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let nested = RecordObject()
        array.items.append(.object(nested))
        return SuperRecordEncoder(object: nested, name: nil, codingPath: codingPath)
    }
}

/// A single-value container: sets its encoder's node.
private struct SingleRecordEncoding: SingleValueEncodingContainer {
    let encoder: BinaryRecordEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func encodeNil() throws { encoder.node = .null }
    func encode(_ value: Bool) throws { encoder.node = .bool(value) }
    func encode(_ value: String) throws { encoder.node = .string(value) }
    func encode(_ value: Double) throws { encoder.node = .double(value) }
    func encode(_ value: Float) throws { encoder.node = .float(value) }
    func encode(_ value: Int) throws { encoder.node = .signed(Int64(value)) }
    func encode(_ value: Int8) throws { encoder.node = .signed(Int64(value)) }
    func encode(_ value: Int16) throws { encoder.node = .signed(Int64(value)) }
    func encode(_ value: Int32) throws { encoder.node = .signed(Int64(value)) }
    func encode(_ value: Int64) throws { encoder.node = .signed(value) }
    func encode(_ value: UInt) throws { encoder.node = .unsigned(UInt64(value)) }
    func encode(_ value: UInt8) throws { encoder.node = .unsigned(UInt64(value)) }
    func encode(_ value: UInt16) throws { encoder.node = .unsigned(UInt64(value)) }
    func encode(_ value: UInt32) throws { encoder.node = .unsigned(UInt64(value)) }
    func encode(_ value: UInt64) throws { encoder.node = .unsigned(value) }
    func encode<T: Encodable>(_ value: T) throws { encoder.node = try BinaryRecordEncoder.node(for: value, at: codingPath) }
}

/// The encoder a class hands its superclass: whatever the superclass encodes lands in one
/// field of the subclass's object (`name`), or, from an unkeyed container, in a new element.
private final class SuperRecordEncoder: Encoder {
    let object: RecordObject
    let name: String?
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private let inner: BinaryRecordEncoder

    init(object: RecordObject, name: String?, codingPath: [any CodingKey]) {
        self.object = object
        self.name = name
        self.codingPath = codingPath
        self.inner = BinaryRecordEncoder(codingPath: codingPath)
    }

    deinit {
        // The superclass is done with the encoder: place what it wrote.
        let node = inner.node ?? .object(RecordObject())
        if let name {
            object.set(name, node)
        } else if case let .object(target) = node {
            target.fields.forEach { object.set($0.0, $0.1) }
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

/// A coding key for an array position.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
