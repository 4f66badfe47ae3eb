import Encoding
import Foundation

/// Decodes the binary record format (`BinaryRecordCodec`) into `Decodable` values, reading the
/// bytes in place: a keyed container finds its fields once, nested values are decoded where
/// they lie. Every read is bounds-checked: bytes that are not an encoding of the requested type
/// throw `DecodingError`, never trap.
final class BinaryRecordDecoder: Decoder {
    let bytes: [UInt8]
    /// Where this decoder's value (its tag) starts.
    let start: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(bytes: [UInt8], start: Int, codingPath: [any CodingKey]) {
        self.bytes = bytes
        self.start = start
        self.codingPath = codingPath
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        var reader = RecordReader(bytes: bytes, position: 0, end: bytes.count, codingPath: [])
        let end = try reader.skipValue()
        guard end == bytes.count else { throw reader.corrupted("\(bytes.count - end) bytes after the value") }
        return try value(type, at: 0, in: bytes, parentPath: [], key: nil)
    }

    /// The top-level object's field `name` alone (`nil` when absent or null).
    static func decodeField<Field: Decodable>(_ name: String, as type: Field.Type, from bytes: [UInt8]) throws -> Field? {
        // The search is not generic: a generic body instantiated `Optional<Field>`'s metadata
        // and specialised `withUTF8` at run time on every call (a filter calls this per row).
        guard let start = try fieldValueStart(name, in: bytes) else { return nil }
        return try value(type, at: start, in: bytes, parentPath: [], key: NamedCodingKey(name))
    }

    /// A field filter's test (see `BinaryRecordCodec.fieldTest(_:as:satisfying:)`), prepared
    /// once: the name's UTF-8 is taken here, strings are then read in place on the borrowed
    /// bytes (`RecordFieldProbe`: no copy, no decoder), and any other type — or bytes the probe
    /// does not expect — go through the checked decoder on a copy, which throws the precise
    /// error.
    static func fieldTest<Field: Decodable & SendableMetatype>(_ name: String, as type: Field.Type, satisfying predicate: @escaping @Sendable (Field) -> Bool) -> RecordFieldTest {
        let checked: RecordFieldTest = { bytes in
            guard let field = try decodeField(name, as: Field.self, from: Array(bytes)) else { return false }
            return predicate(field)
        }
        // A function cast (not a bit cast: a generic closure's calling convention differs from
        // a concrete one's); it succeeds exactly when `Field` is `String`.
        guard let stringPredicate = predicate as? @Sendable (String) -> Bool else { return checked }
        let wanted = Array(name.utf8)
        return { bytes in
            if let located = wanted.withUnsafeBytes({ RecordFieldProbe.valueStart(of: $0, in: bytes) }) {
                guard let start = located else { return false }
                if let string = RecordFieldProbe.string(at: start, in: bytes) { return stringPredicate(string) }
            }
            return try checked(bytes)
        }
    }

    /// Where the value of the top-level object's field `name` starts; `nil` when the field is
    /// absent or null. Walks the fields without collecting them.
    static func fieldValueStart(_ name: String, in bytes: [UInt8]) throws -> Int? {
        var reader = RecordReader(bytes: bytes, position: 0, end: bytes.count, codingPath: [])
        let (bodyEnd, count) = try reader.enter(.object, as: [String: Any].self)
        reader = RecordReader(bytes: bytes, position: reader.position, end: bodyEnd, codingPath: [])
        var name = name
        return try name.withUTF8 { wanted -> Int? in
            try bytes.withUnsafeBufferPointer { all -> Int? in
                for _ in 0..<count {
                    let nameLength = try reader.length()
                    // In bounds: length() checked position + nameLength <= bodyEnd <= bytes.count.
                    let matches = nameLength == wanted.count && (nameLength == 0 || memcmp(all.baseAddress! + reader.position, wanted.baseAddress!, nameLength) == 0)
                    reader.position += nameLength
                    if matches { return try reader.decodeNil() ? nil : reader.position }
                    _ = try reader.skipValue()
                }
                return nil
            }
        }
    }

    /// An object of the top-level object's fields named in `names`, each copied byte for byte.
    static func extractFields(_ names: [String], from bytes: [UInt8]) throws -> [UInt8] {
        let object = try KeyedRecordDecoding<NamedCodingKey>(bytes: bytes, start: 0, codingPath: [])
        let kept = object.fields.filter { field in names.contains { $0.utf8.elementsEqual(bytes[field.name]) } }
        var body = ByteWriter()
        body.appendVarint64(UInt64(kept.count))
        for field in kept {
            body.appendVarint64(UInt64(field.name.count))
            body.bytes.append(contentsOf: bytes[field.name])
            body.bytes.append(contentsOf: bytes[field.value])
        }
        var out = ByteWriter()
        out.appendUInt8(RecordTag.object.rawValue)
        out.appendVarint64(UInt64(body.count))
        out.bytes.append(contentsOf: body.bytes)
        return out.bytes
    }

    /// Decodes the value starting at `start` (special cases as in `BinaryRecordEncoder.node`).
    /// The value's coding path is `parentPath` and `key`, kept apart so that a scalar's read
    /// allocates no path (it is built only for an error or a nested decoder).
    static func value<Value: Decodable>(_ type: Value.Type, at start: Int, in bytes: [UInt8], parentPath: [any CodingKey], key: (any CodingKey)?) throws -> Value {
        // Common scalars directly, not through a decoder and its containers. Each branch has
        // checked that `Value` is exactly the scalar's type, so the bit cast is an identity
        // (a dynamic cast there cost more than the read).
        if type == String.self {
            var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, parentPath: parentPath, key: key)
            return unsafeBitCast(try reader.readString(), to: Value.self)
        }
        if type == Int.self {
            var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, parentPath: parentPath, key: key)
            return unsafeBitCast(try reader.readInteger(Int.self), to: Value.self)
        }
        if type == Double.self {
            var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, parentPath: parentPath, key: key)
            return unsafeBitCast(try reader.readFloatingPoint(Double.self), to: Value.self)
        }
        if type == Bool.self {
            var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, parentPath: parentPath, key: key)
            return unsafeBitCast(try reader.readBool(), to: Value.self)
        }
        if type == Data.self || type == [UInt8].self {
            var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, parentPath: parentPath, key: key)
            let raw = try reader.readByteString()
            return (type == Data.self ? Data(raw) as Any : raw as Any) as! Value  // checked just above
        }
        if type == Date.self {
            var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, parentPath: parentPath, key: key)
            return Date(timeIntervalSinceReferenceDate: try reader.readFloatingPoint(Double.self)) as! Value  // checked just above
        }
        return try Value(from: BinaryRecordDecoder(bytes: bytes, start: start, codingPath: key.map { parentPath + [$0] } ?? parentPath))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(try KeyedRecordDecoding<Key>(bytes: bytes, start: start, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try UnkeyedRecordDecoding(bytes: bytes, start: start, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleRecordDecoding(reader: RecordReader(bytes: bytes, position: start, end: bytes.count, codingPath: codingPath))
    }
}

/// A bounds-checked position in a record's bytes, reading one value at a time.
struct RecordReader {
    let bytes: [UInt8]
    var position: Int
    /// The end of the enclosing container (reads never pass it).
    let end: Int
    /// The coding path of the container the value is in, and the value's key in it: kept apart
    /// so that reading a field allocates no path (the path is built only for an error).
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?

    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }

    init(bytes: [UInt8], position: Int, end: Int, codingPath: [any CodingKey]) {
        self.init(bytes: bytes, position: position, end: end, parentPath: codingPath, key: nil)
    }

    init(bytes: [UInt8], position: Int, end: Int, parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.bytes = bytes
        self.position = position
        self.end = end
        self.parentPath = parentPath
        self.key = key
    }

    func corrupted(_ reason: String) -> DecodingError {
        .dataCorrupted(DecodingError.Context(codingPath: codingPath, debugDescription: "byte \(position): \(reason)"))
    }

    func mismatch(_ type: Any.Type, _ found: String) -> DecodingError {
        .typeMismatch(type, DecodingError.Context(codingPath: codingPath, debugDescription: "byte \(position): expected \(type), found \(found)"))
    }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw corrupted("the value ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        guard position < end else { throw corrupted("the value ends early") }
        // In bounds: position < end <= bytes.count, and Varint.decode64 reads no further than end.
        let decoded = bytes.withUnsafeBytes { raw in Varint.decode64(raw.baseAddress! + position, end: raw.baseAddress! + end) }
        guard let (value, length) = decoded else { throw corrupted("a truncated varint, or one longer than 64 bits") }
        position += length
        return value
    }

    /// A varint length that fits in what is left of the container.
    mutating func length() throws -> Int {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw corrupted("a length of \(length) with \(end - position) bytes left") }
        return Int(length)
    }

    mutating func fixed(_ width: Int) throws -> UInt64 {
        guard end - position >= width else { throw corrupted("\(width) bytes needed, \(end - position) left") }
        var value: UInt64 = 0
        for index in (0..<width).reversed() { value = value << 8 | UInt64(bytes[position + index]) }
        position += width
        return value
    }

    func tagName(_ raw: UInt8) -> String {
        RecordTag(rawValue: raw).map { "\($0)" } ?? "tag 0x\(String(raw, radix: 16))"
    }

    mutating func tag() throws -> RecordTag {
        let raw = try byte()
        guard let tag = RecordTag(rawValue: raw) else {
            position -= 1
            throw corrupted("unknown tag 0x\(String(raw, radix: 16))")
        }
        return tag
    }

    /// Skips one value and returns where it ended.
    mutating func skipValue() throws -> Int {
        switch try tag() {
        case .null, .false, .true: break
        case .signed, .unsigned: _ = try varint()
        case .float: _ = try fixed(4)
        case .double: _ = try fixed(8)
        case .string, .bytes, .array, .object: position += try length()
        }
        return position
    }

    /// Whether the next value is `nil` (consumes it if so).
    mutating func decodeNil() throws -> Bool {
        guard position < end else { throw corrupted("no value left") }
        guard bytes[position] == RecordTag.null.rawValue else { return false }
        position += 1
        return true
    }

    mutating func readBool() throws -> Bool {
        let start = position
        switch try tag() {
        case .true: return true
        case .false: return false
        case let other:
            position = start
            throw mismatch(Bool.self, "\(other)")
        }
    }

    /// An integer of `Value`'s type: signed and unsigned encodings both decode when the number
    /// fits (so a field may change between `Int` and `UInt` types).
    mutating func readInteger<Value: FixedWidthInteger>(_ type: Value.Type) throws -> Value {
        let start = position
        let result: Value?
        switch try tag() {
        case .signed:
            let raw = try varint()
            result = Value(exactly: Zigzag.decode(raw))
        case .unsigned:
            result = Value(exactly: try varint())
        case let other:
            position = start
            throw mismatch(type, "\(other)")
        }
        guard let result else {
            position = start
            throw corrupted("the number does not fit in \(type)")
        }
        return result
    }

    /// A `Double` or `Float` from either floating-point encoding, or from an integer.
    mutating func readFloatingPoint<Value: BinaryFloatingPoint>(_ type: Value.Type) throws -> Value {
        let start = position
        switch try tag() {
        case .float: return Value(Float(bitPattern: UInt32(try fixed(4))))
        case .double: return Value(Double(bitPattern: try fixed(8)))
        case .signed, .unsigned:
            position = start
            return Value(try readInteger(Int64.self))
        case let other:
            position = start
            throw mismatch(type, "\(other)")
        }
    }

    mutating func readString() throws -> String {
        let start = position
        guard try tag() == .string else {
            position = start
            throw mismatch(String.self, tagName(bytes[start]))
        }
        let count = try length()
        let string = bytes.withUnsafeBufferPointer { buffer -> String? in
            // In bounds: length() checked position + count <= end <= bytes.count.
            RecordText.string(UnsafeBufferPointer(rebasing: buffer[position..<(position + count)]))
        }
        guard let string else { throw corrupted("a string that is not UTF-8") }
        position += count
        return string
    }

    mutating func readByteString() throws -> [UInt8] {
        let start = position
        guard try tag() == .bytes else {
            position = start
            throw mismatch([UInt8].self, tagName(bytes[start]))
        }
        let count = try length()
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// Enters a container with `expected` tag: returns the end of its body and reads its count.
    /// `type` names the expected Swift type in an error only (an autoclosure: instantiating a
    /// generic type's metadata for every record cost more than reading it).
    mutating func enter(_ expected: RecordTag, as type: @autoclosure () -> Any.Type) throws -> (end: Int, count: Int) {
        let start = position
        guard position < end else { throw corrupted("no value left") }
        guard bytes[position] == expected.rawValue else { throw mismatch(type(), tagName(bytes[start])) }
        position += 1
        let bodyLength = try length()
        let bodyEnd = position + bodyLength
        var body = RecordReader(bytes: bytes, position: position, end: bodyEnd, codingPath: codingPath)
        let count = try body.varint()
        guard count <= UInt64(bodyLength) else { throw body.corrupted("\(count) elements in \(bodyLength) bytes") }
        position = body.position
        return (bodyEnd, Int(count))
    }
}

/// A keyed container: the object's fields, found once.
private struct KeyedRecordDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let bytes: [UInt8]
    let codingPath: [any CodingKey]
    /// Each field's name and value (byte ranges).
    let fields: [(name: Range<Int>, value: Range<Int>)]

    init(bytes: [UInt8], start: Int, codingPath: [any CodingKey]) throws {
        self.bytes = bytes
        self.codingPath = codingPath
        var reader = RecordReader(bytes: bytes, position: start, end: bytes.count, codingPath: codingPath)
        let (bodyEnd, count) = try reader.enter(.object, as: [String: Any].self)
        reader = RecordReader(bytes: bytes, position: reader.position, end: bodyEnd, codingPath: codingPath)
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let nameLength = try reader.length()
            let name = reader.position..<(reader.position + nameLength)
            reader.position += nameLength
            let valueStart = reader.position
            fields.append((name, valueStart..<(try reader.skipValue())))
        }
        guard reader.position == bodyEnd else { throw reader.corrupted("\(bodyEnd - reader.position) bytes after the last field") }
        self.fields = fields
    }

    var allKeys: [Key] {
        fields.compactMap { field in String(validating: bytes[field.name], as: UTF8.self).flatMap { Key(stringValue: $0) } }
    }

    /// Where `key`'s value lies, `nil` when the object has no such field.
    func valueRange(of key: Key) -> Range<Int>? {
        var name = key.stringValue
        return name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { all -> Range<Int>? in
                for field in fields where field.name.count == wanted.count {
                    // In bounds: the field's name range was read within the bytes.
                    if wanted.isEmpty || memcmp(all.baseAddress! + field.name.lowerBound, wanted.baseAddress!, wanted.count) == 0 { return field.value }
                }
                return nil
            }
        }
    }

    /// `key`'s string read in place (`RecordFieldProbe`), or through a reader, which throws the
    /// precise error, when it is missing or not a well-formed string.
    private func string(forKey key: Key) throws -> String {
        if let range = valueRange(of: key), let string = bytes.withUnsafeBytes({ RecordFieldProbe.string(at: range.lowerBound, in: $0) }) {
            return string
        }
        var reader = try reader(for: key)
        return try reader.readString()
    }

    /// `key`'s integer read in place, or through a reader as `string(forKey:)`.
    private func integer<Value: FixedWidthInteger>(_ type: Value.Type, forKey key: Key) throws -> Value {
        if let range = valueRange(of: key), let value = bytes.withUnsafeBytes({ RecordFieldProbe.integer(type, at: range.lowerBound, in: $0) }) {
            return value
        }
        var reader = try reader(for: key)
        return try reader.readInteger(type)
    }

    func reader(for key: Key) throws -> RecordReader {
        guard let range = valueRange(of: key) else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "no field \"\(key.stringValue)\""))
        }
        return RecordReader(bytes: bytes, position: range.lowerBound, end: range.upperBound, parentPath: codingPath, key: key)
    }

    func contains(_ key: Key) -> Bool { valueRange(of: key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { var reader = try reader(for: key); return try reader.decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { var reader = try reader(for: key); return try reader.readBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try string(forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { var reader = try reader(for: key); return try reader.readFloatingPoint(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { var reader = try reader(for: key); return try reader.readFloatingPoint(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, forKey: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let reader = try reader(for: key)
        return try BinaryRecordDecoder.value(type, at: reader.position, in: bytes, parentPath: reader.parentPath, key: reader.key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let reader = try reader(for: key)
        return KeyedDecodingContainer(try KeyedRecordDecoding<NestedKey>(bytes: bytes, start: reader.position, codingPath: reader.codingPath))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let reader = try reader(for: key)
        return try UnkeyedRecordDecoding(bytes: bytes, start: reader.position, codingPath: reader.codingPath)
    }

    func superDecoder() throws -> any Decoder { try superDecoder(named: "super") }
    func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder(named: key.stringValue) }

    private func superDecoder(named name: String) throws -> any Decoder {
        guard let key = Key(stringValue: name), let start = valueRange(of: key)?.lowerBound else {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: codingPath, debugDescription: "no field \"\(name)\" for the superclass"))
        }
        return BinaryRecordDecoder(bytes: bytes, start: start, codingPath: codingPath)
    }
}

/// An unkeyed container: its elements in order.
private struct UnkeyedRecordDecoding: UnkeyedDecodingContainer {
    let bytes: [UInt8]
    let codingPath: [any CodingKey]
    let count: Int?
    private(set) var currentIndex = 0
    private var reader: RecordReader

    init(bytes: [UInt8], start: Int, codingPath: [any CodingKey]) throws {
        self.bytes = bytes
        self.codingPath = codingPath
        var outer = RecordReader(bytes: bytes, position: start, end: bytes.count, codingPath: codingPath)
        let (bodyEnd, count) = try outer.enter(.array, as: [Any].self)
        self.count = count
        self.reader = RecordReader(bytes: bytes, position: outer.position, end: bodyEnd, codingPath: codingPath)
    }

    var isAtEnd: Bool { currentIndex >= count ?? 0 }

    /// A reader at the next element, after checking there is one.
    private mutating func next(_ type: Any.Type) throws -> RecordReader {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, DecodingError.Context(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the array has \(count ?? 0) elements"))
        }
        return RecordReader(bytes: bytes, position: reader.position, end: reader.end, parentPath: codingPath, key: IndexKey(currentIndex))
    }

    /// Moves past the element `element` read.
    private mutating func advance(_ element: RecordReader) {
        reader.position = element.position
        currentIndex += 1
    }

    mutating func decodeNil() throws -> Bool {
        var element = try next(Never.self)
        guard try element.decodeNil() else { return false }
        advance(element)
        return true
    }

    private mutating func read<T>(_ type: T.Type, _ body: (inout RecordReader) throws -> T) throws -> T {
        var element = try next(type)
        let value = try body(&element)
        advance(element)
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try read(type) { try $0.readBool() } }
    mutating func decode(_ type: String.Type) throws -> String { try read(type) { try $0.readString() } }
    mutating func decode(_ type: Double.Type) throws -> Double { try read(type) { try $0.readFloatingPoint(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try read(type) { try $0.readFloatingPoint(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) { try $0.readInteger(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) { try $0.readInteger(type) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let bytes = self.bytes
        return try read(type) { element in
            let value = try BinaryRecordDecoder.value(type, at: element.position, in: bytes, parentPath: element.parentPath, key: element.key)
            _ = try element.skipValue()
            return value
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let bytes = self.bytes
        return try read(KeyedDecodingContainer<NestedKey>.self) { element in
            let container = try KeyedRecordDecoding<NestedKey>(bytes: bytes, start: element.position, codingPath: element.codingPath)
            _ = try element.skipValue()
            return KeyedDecodingContainer(container)
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let bytes = self.bytes
        return try read((any UnkeyedDecodingContainer).self) { element in
            let container = try UnkeyedRecordDecoding(bytes: bytes, start: element.position, codingPath: element.codingPath)
            _ = try element.skipValue()
            return container
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        let bytes = self.bytes
        return try read((any Decoder).self) { element in
            let decoder = BinaryRecordDecoder(bytes: bytes, start: element.position, codingPath: element.codingPath)
            _ = try element.skipValue()
            return decoder
        }
    }
}

/// A single-value container over one value.
private struct SingleRecordDecoding: SingleValueDecodingContainer {
    var reader: RecordReader
    var codingPath: [any CodingKey] { reader.codingPath }

    func decodeNil() -> Bool {
        reader.position < reader.end && reader.bytes[reader.position] == RecordTag.null.rawValue
    }

    private func read<T>(_ body: (inout RecordReader) throws -> T) throws -> T {
        var copy = reader
        return try body(&copy)
    }

    func decode(_ type: Bool.Type) throws -> Bool { try read { try $0.readBool() } }
    func decode(_ type: String.Type) throws -> String { try read { try $0.readString() } }
    func decode(_ type: Double.Type) throws -> Double { try read { try $0.readFloatingPoint(type) } }
    func decode(_ type: Float.Type) throws -> Float { try read { try $0.readFloatingPoint(type) } }
    func decode(_ type: Int.Type) throws -> Int { try read { try $0.readInteger(type) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try read { try $0.readInteger(type) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try read { try $0.readInteger(type) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try read { try $0.readInteger(type) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try read { try $0.readInteger(type) } }
    func decode(_ type: UInt.Type) throws -> UInt { try read { try $0.readInteger(type) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read { try $0.readInteger(type) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read { try $0.readInteger(type) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read { try $0.readInteger(type) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read { try $0.readInteger(type) } }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try BinaryRecordDecoder.value(type, at: reader.position, in: reader.bytes, parentPath: reader.parentPath, key: reader.key)
    }
}
