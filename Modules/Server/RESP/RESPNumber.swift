/// Numbers as Redis reads and prints them.
package enum RESPNumber {
    /// A 64-bit integer argument (`INCRBY k 5`, `EXPIRE k 10`), or `nil`.
    package static func integer(_ bytes: [UInt8]) -> Int? { Int(decimal: bytes) }

    /// A finite floating-point argument (`INCRBYFLOAT k 1.5`), or `nil`: decimal or exponent
    /// notation, no spaces, not NaN or infinite.
    package static func double(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, bytes.count <= 256,
            bytes.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
            let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite
        else { return nil }
        return value
    }

    /// `value` in plain decimal notation, shortest digits that read back as the same Double,
    /// without an exponent and without a trailing ".0" ("3", "10.5", "0.00001").
    package static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        let text = value.description  // shortest round-trip: "10.5", "1e-05", "1.5e+20"
        let negative = text.hasPrefix("-")
        let unsigned = negative ? String(text.dropFirst()) : text
        var mantissa = unsigned
        var exponent = 0
        if let e = unsigned.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(unsigned[..<e])
            exponent = Int(unsigned[unsigned.index(after: e)...].replacing("+", with: "")) ?? 0
        }
        var integerPart = mantissa
        var fraction = ""
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = String(mantissa[..<dot])
            fraction = String(mantissa[mantissa.index(after: dot)...])
        }
        // Shift the decimal point by `exponent`.
        var digits = integerPart + fraction
        var point = integerPart.count + exponent
        if point <= 0 {
            digits = String(repeating: "0", count: -point + 1) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        var whole = String(digits.prefix(point))
        var decimals = String(digits.dropFirst(point))
        while decimals.hasSuffix("0") { decimals.removeLast() }
        while whole.count > 1 && whole.hasPrefix("0") { whole.removeFirst() }
        let body = decimals.isEmpty ? whole : whole + "." + decimals
        return negative ? "-" + body : body
    }
}
