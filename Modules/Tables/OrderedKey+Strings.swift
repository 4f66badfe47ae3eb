// Variable-length encodings (Docs/formats/ordered-keys.md, "Strings and bytes").

extension String: OrderedKey {
    /// The UTF-8 bytes, escaped and terminated: sorts by UTF-8 bytes, which is Unicode scalar
    /// order (not `String`'s `<`, which compares canonically equivalent forms as equal).
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendEscaped(utf8) }
    /// Reads an escaped string; its bytes must be valid UTF-8.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> String {
        let raw = try decoder.readEscaped("String")
        guard let string = String(validating: raw, as: UTF8.self) else { throw decoder.failure("String: not valid UTF-8") }
        return string
    }
}

extension Array: OrderedKey where Element == UInt8 {
    /// The bytes, escaped and terminated: bytewise order.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendEscaped(self) }
    /// Reads escaped bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> [UInt8] { try decoder.readEscaped("bytes") }
}
