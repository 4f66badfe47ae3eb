/// LEB128 variable-length unsigned integers (the varints of LevelDB and protobuf).
///
/// Seven value bits per byte, least significant group first; the high bit of a byte is set when
/// another byte follows. A `UInt32` takes 1–5 bytes, a `UInt64` 1–10 bytes.
///
/// These are the raw-pointer primitives used by hot decoding loops (block iteration, skiplist
/// nodes). Structured decoders should use `ByteReader`, which wraps them with error context.
package enum Varint {
    /// The largest encoding of a `UInt32`.
    package static let maxLength32 = 5
    /// The largest encoding of a `UInt64`.
    package static let maxLength64 = 10

    /// How many bytes `value` takes when encoded.
    @inlinable
    package static func encodedLength(_ value: UInt64) -> Int {
        // Each byte carries 7 bits; the bit width rounded up to a multiple of 7 decides.
        let bits = 64 - value.leadingZeroBitCount
        return bits == 0 ? 1 : (bits + 6) / 7
    }

    /// Writes `value` at `pointer` and returns the number of bytes written.
    ///
    /// - Precondition: At least `encodedLength(value)` writable bytes at `pointer`.
    @inlinable
    package static func write(_ value: UInt64, to pointer: UnsafeMutableRawPointer) -> Int {
        var value = value
        var index = 0
        while value >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: index, as: UInt8.self)
            value >>= 7
            index += 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: index, as: UInt8.self)
        return index + 1
    }

    /// Decodes a varint that may hold up to 64 bits from `[pointer, end)`.
    ///
    /// - Returns: the value and the number of bytes it took, or `nil` when the input ends before
    ///   the varint does, or the encoding is longer than 10 bytes or overflows 64 bits.
    @inlinable
    @inline(__always)
    package static func decode64(_ pointer: UnsafeRawPointer, end: UnsafeRawPointer) -> (value: UInt64, length: Int)? {
        guard pointer < end else { return nil }
        let first = pointer.load(as: UInt8.self)
        if first < 0x80 { return (UInt64(first), 1) }
        return decode64Slow(pointer, end: end)
    }

    @usableFromInline
    static func decode64Slow(_ pointer: UnsafeRawPointer, end: UnsafeRawPointer) -> (value: UInt64, length: Int)? {
        // With 10 or more bytes available no byte can be out of bounds, so the loop needs no
        // bounds test; only the tail of a buffer takes the checked loop.
        let limit = end - pointer >= maxLength64 ? pointer + maxLength64 : end
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var cursor = pointer
        repeat {
            let byte = cursor.load(as: UInt8.self)
            cursor += 1
            // The 10th byte may contribute only the single top bit.
            if shift == 63 && byte > 1 { return nil }
            result |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 { return (result, cursor - pointer) }
            shift &+= 7
        } while cursor < limit
        return nil
    }

    /// Decodes a varint that must fit in 32 bits from `[pointer, end)`.
    ///
    /// - Returns: the value and its length, or `nil` when truncated, longer than 5 bytes, or
    ///   larger than `UInt32.max`.
    @inlinable
    @inline(__always)
    package static func decode32(_ pointer: UnsafeRawPointer, end: UnsafeRawPointer) -> (value: UInt32, length: Int)? {
        guard pointer < end else { return nil }
        let first = pointer.load(as: UInt8.self)
        if first < 0x80 { return (UInt32(first), 1) }
        guard let (value, length) = decode64Slow(pointer, end: end),
            length <= maxLength32, value <= UInt64(UInt32.max)
        else { return nil }
        return (UInt32(value), length)
    }
}
