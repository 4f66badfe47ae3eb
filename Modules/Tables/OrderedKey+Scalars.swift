#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Fixed-width encodings (Docs/formats/ordered-keys.md, "Numbers, Bool, UUID and Date").

extension UInt8: OrderedKey {
    /// One byte.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.append(self) }
    /// Reads one byte.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> UInt8 { try decoder.readByte("UInt8") }
}

extension UInt16: OrderedKey {
    /// Two bytes, big-endian.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(self) }
    /// Reads two big-endian bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> UInt16 { try decoder.readBigEndian(UInt16.self, "UInt16") }
}

extension UInt32: OrderedKey {
    /// Four bytes, big-endian.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(self) }
    /// Reads four big-endian bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> UInt32 { try decoder.readBigEndian(UInt32.self, "UInt32") }
}

extension UInt64: OrderedKey {
    /// Eight bytes, big-endian.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(self) }
    /// Reads eight big-endian bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> UInt64 { try decoder.readBigEndian(UInt64.self, "UInt64") }
}

extension UInt: OrderedKey {
    /// Eight bytes, big-endian (as `UInt64`, on every platform).
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(UInt64(self)) }
    /// Reads eight big-endian bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> UInt {
        let value = try decoder.readBigEndian(UInt64.self, "UInt")
        guard let fitted = UInt(exactly: value) else { throw decoder.failure("UInt: \(value) does not fit") }
        return fitted
    }
}

/// Signed integers: the two's-complement bits with the sign bit flipped, big-endian — so
/// negative values (sign bit 1 → 0) sort before positive ones, each in numeric order.
extension Int8: OrderedKey {
    /// One byte: the bits with the sign bit flipped.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.append(UInt8(bitPattern: self) ^ 0x80) }
    /// Reads one byte.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Int8 { Int8(bitPattern: try decoder.readByte("Int8") ^ 0x80) }
}

extension Int16: OrderedKey {
    /// Two bytes, big-endian, sign bit flipped.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(UInt16(bitPattern: self) ^ 0x8000) }
    /// Reads two bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Int16 {
        Int16(bitPattern: try decoder.readBigEndian(UInt16.self, "Int16") ^ 0x8000)
    }
}

extension Int32: OrderedKey {
    /// Four bytes, big-endian, sign bit flipped.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(UInt32(bitPattern: self) ^ 0x8000_0000) }
    /// Reads four bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Int32 {
        Int32(bitPattern: try decoder.readBigEndian(UInt32.self, "Int32") ^ 0x8000_0000)
    }
}

extension Int64: OrderedKey {
    /// Eight bytes, big-endian, sign bit flipped.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(UInt64(bitPattern: self) ^ (1 << 63)) }
    /// Reads eight bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Int64 {
        Int64(bitPattern: try decoder.readBigEndian(UInt64.self, "Int64") ^ (1 << 63))
    }
}

extension Int: OrderedKey {
    /// Eight bytes, as `Int64`, on every platform.
    public func encode(to encoder: inout OrderedKeyEncoder) { Int64(self).encode(to: &encoder) }
    /// Reads eight bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Int {
        let value = try Int64.decode(from: &decoder)
        guard let fitted = Int(exactly: value) else { throw decoder.failure("Int: \(value) does not fit") }
        return fitted
    }
}

extension Bool: OrderedKey {
    /// One byte: 0 for `false`, 1 for `true`.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.append(self ? 1 : 0) }
    /// Reads one byte, 0 or 1.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Bool {
        switch try decoder.readByte("Bool") {
        case 0: return false
        case 1: return true
        case let other: throw decoder.failure("Bool: byte \(other), not 0 or 1")
        }
    }
}

/// IEEE 754 doubles: positive values (and +0) with the sign bit set, negative values with every
/// bit flipped, big-endian — numeric order, -0 just before +0, NaNs after +infinity (positive
/// NaNs) or before -infinity (negative ones). The bits round-trip exactly.
extension Double: OrderedKey {
    /// Eight bytes (see the type's note).
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(orderedBits(bitPattern)) }
    /// Reads eight bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Double {
        Double(bitPattern: floatBits(fromOrdered: try decoder.readBigEndian(UInt64.self, "Double")))
    }
}

extension Float: OrderedKey {
    /// Four bytes, as for `Double`.
    public func encode(to encoder: inout OrderedKeyEncoder) { encoder.appendBigEndian(orderedBits(bitPattern)) }
    /// Reads four bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Float {
        Float(bitPattern: floatBits(fromOrdered: try decoder.readBigEndian(UInt32.self, "Float")))
    }
}

/// An IEEE 754 bit pattern made to sort numerically: the sign bit set for a positive value,
/// every bit flipped for a negative one.
private func orderedBits<Bits: FixedWidthInteger & UnsignedInteger>(_ bits: Bits) -> Bits {
    let sign: Bits = 1 << (Bits.bitWidth - 1)
    return bits & sign == 0 ? bits | sign : ~bits
}

/// The bit pattern `orderedBits` came from.
private func floatBits<Bits: FixedWidthInteger & UnsignedInteger>(fromOrdered stored: Bits) -> Bits {
    let sign: Bits = 1 << (Bits.bitWidth - 1)
    return stored & sign != 0 ? stored & ~sign : ~stored
}

extension UUID: OrderedKey {
    /// Its 16 bytes as they are (UUIDs sort by their bytes).
    public func encode(to encoder: inout OrderedKeyEncoder) {
        withUnsafeBytes(of: uuid) { for byte in $0 { encoder.append(byte) } }
    }
    /// Reads 16 bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> UUID {
        var raw = [UInt8](repeating: 0, count: 16)
        for index in 0..<16 { raw[index] = try decoder.readByte("UUID") }
        return UUID(uuid: (raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]))
    }
}

extension Date: OrderedKey {
    /// `timeIntervalSince1970` as a `Double` (eight bytes): time order, exact round trip.
    public func encode(to encoder: inout OrderedKeyEncoder) { timeIntervalSince1970.encode(to: &encoder) }
    /// Reads eight bytes.
    public static func decode(from decoder: inout OrderedKeyDecoder) throws -> Date {
        Date(timeIntervalSince1970: try Double.decode(from: &decoder))
    }
}
