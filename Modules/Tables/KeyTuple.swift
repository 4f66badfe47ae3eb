/// A composite key: its fields encoded one after another, so it sorts by the first field, then
/// the second, and so on, and the encoding of its leading fields is a prefix of its own (a
/// range over `KeyTuple(country)` covers every `KeyTuple(country, city)`).
///
/// ```swift
/// let key = KeyTuple("fr", 75001, UUID())
/// let (country, code, id) = key.fields
/// ```
public struct KeyTuple<each Field: OrderedKey>: OrderedKey {
    /// The fields, in order.
    public let fields: (repeat each Field)

    /// A tuple of `fields`.
    public init(_ fields: repeat each Field) {
        self.fields = (repeat each fields)
    }

    /// Each field's encoding, in order.
    public func encode(to encoder: inout OrderedKeyEncoder) {
        for field in repeat each fields { field.encode(to: &encoder) }
    }

    /// Reads each field in order.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> KeyTuple<repeat each Field> {
        func next<Value: OrderedKey>(_: Value.Type) throws -> Value { try Value.decode(from: &decoder) }
        return KeyTuple(repeat try next((each Field).self))
    }
}
