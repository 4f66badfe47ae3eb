/// How `strata` reads and writes keys and values: UTF-8 text, or hex with `--hex`.
///
/// Three places, three rules:
/// - **Arguments** (`put K V`, `--from K`): text is taken as it is — it must be valid UTF-8,
///   which `strata` checks before parsing (bytes are never replaced) — or hex, with an optional
///   `0x` prefix as `ldb` accepts.
/// - **Fields of line formats** (`scan` output, `load` input, `exec`): text is *escaped* so any
///   bytes survive a round trip: `\\` for a backslash, `\t`, `\n`, `\r`, and `\xHH` for any other
///   control byte or byte that is not part of valid UTF-8. `load` reads exactly what `scan`
///   prints. In hex, a field is hex.
/// - **Whole values** (`get`): text is printed as it is when it is valid UTF-8; otherwise the
///   command fails with a hint to use `--hex` (or `scan`, which escapes).
public struct ByteText: Sendable {
    /// Whether hex is used.
    public var hex: Bool

    /// Creates a codec.
    public init(hex: Bool) {
        self.hex = hex
    }

    // MARK: - Arguments

    /// Decodes a command-line argument.
    ///
    /// - Throws: `ToolFailure(.usage)` for malformed hex.
    public func decode(_ text: Substring) throws -> [UInt8] {
        hex ? try ByteText.decodeHex(text) : Array(text.utf8)
    }

    /// Decodes a command-line argument.
    public func decode(_ text: String) throws -> [UInt8] { try decode(Substring(text)) }

    // MARK: - Fields

    /// Decodes a field of a line format (escaped text, or hex).
    ///
    /// - Throws: `ToolFailure(.usage)` for malformed hex or a bad escape.
    public func decodeField(_ text: Substring) throws -> [UInt8] {
        hex ? try ByteText.decodeHex(text) : try ByteText.unescape(text)
    }

    /// Encodes bytes as a field of a line format (escaped text, or hex).
    public func encodeField(_ bytes: some Collection<UInt8>) -> String {
        hex ? ByteText.encodeHex(bytes) : ByteText.escape(bytes)
    }

    // MARK: - Whole values

    /// Encodes a whole value for output.
    ///
    /// - Throws: `ToolFailure(.usage)` when, in text mode, the bytes are not valid UTF-8.
    public func encodeValue(_ bytes: [UInt8]) throws -> String {
        if hex { return ByteText.encodeHex(bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ToolFailure(.usage, "the value (\(bytes.count) bytes) is not valid UTF-8; print it with --hex, or use scan, which escapes it")
        }
        return text
    }

    /// Encodes bytes as hex digits (for dumps and `--hex`).
    public func encode(_ bytes: some Collection<UInt8>) -> String {
        encodeField(bytes)
    }

    // MARK: - Codecs

    /// Lowercase hex digits.
    public static func encodeHex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex digits (either case), with an optional `0x`/`0X` prefix.
    public static func decodeHex(_ text: Substring) throws -> [UInt8] {
        var digits = text.utf8[...]
        if digits.count >= 2, digits.first == UInt8(ascii: "0"), digits.dropFirst().first == UInt8(ascii: "x") || digits.dropFirst().first == UInt8(ascii: "X") {
            digits = digits.dropFirst(2)
        }
        guard digits.count % 2 == 0 else { throw ToolFailure(.usage, "hex \"\(text)\" has an odd number of digits") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var high: UInt8? = nil
        for character in digits {
            guard let digit = hexValue(character) else { throw ToolFailure(.usage, "\"\(text)\" is not hex") }
            if let pending = high {
                bytes.append(pending << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        return bytes
    }

    /// Escaped text: printable UTF-8 as it is; `\\`, `\t`, `\n`, `\r`; `\xHH` for other control
    /// bytes, DEL, and bytes that are not part of valid UTF-8.
    public static func escape(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let digits = Array("0123456789abcdef".utf8)
        func escapeByte(_ byte: UInt8) {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0..<0x20, 0x7F: escapeByte(byte)
            case 0x20..<0x7F: out.append(byte)
            default:
                // A multi-byte UTF-8 sequence is kept when it is valid, otherwise each byte escaped.
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0
                if length > 0, index + length <= bytes.count, String(validating: bytes[index..<index + length], as: UTF8.self) != nil {
                    out.append(contentsOf: bytes[index..<index + length])
                    index += length
                    continue
                }
                escapeByte(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The inverse of `escape`.
    ///
    /// - Throws: `ToolFailure(.usage)` for a backslash not followed by `\`, `t`, `n`, `r` or `xHH`.
    public static func unescape(_ text: Substring) throws -> [UInt8] {
        let input = Array(text.utf8)
        guard input.contains(UInt8(ascii: "\\")) else { return input }
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < input.count else { throw ToolFailure(.usage, "\"\(text.prefix(40))\" ends in a lone backslash (write \\\\ for one)") }
            switch input[index + 1] {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "t"): out.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "r"): out.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "x"):
                guard index + 3 < input.count, let high = hexValue(input[index + 2]), let low = hexValue(input[index + 3]) else {
                    throw ToolFailure(.usage, "\"\(text.prefix(40))\" has a \\x escape without two hex digits")
                }
                out.append(high << 4 | low)
                index += 4
                continue
            default:
                throw ToolFailure(.usage, "\"\(text.prefix(40))\" has an unknown escape \\\(Character(Unicode.Scalar(input[index + 1]))) (known: \\\\ \\t \\n \\r \\xHH)")
            }
            index += 2
        }
        return out
    }

    static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
