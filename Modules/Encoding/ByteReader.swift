/// A bounds-checked cursor over borrowed bytes, for decoding structured records.
///
/// Every read checks that the bytes exist; a short or malformed input throws
/// `StrataError.corruption` naming `file` and the absolute offset (`baseOffset` plus the position
/// in the buffer) — a decoder built on this type can never trap on bad input.
///
/// - Important: The reader borrows `buffer`; the memory must stay valid and unchanged for as
///   long as the reader or any buffer it returned is used.
package struct ByteReader {
    /// The bytes being decoded.
    package let buffer: UnsafeRawBufferPointer
    /// The index in `buffer` of the next byte to read.
    package private(set) var position: Int
    /// The file the bytes came from, used in error messages.
    package let file: String
    /// The offset in `file` of `buffer[0]`, used in error messages.
    package let baseOffset: Int

    /// Creates a reader positioned at the first byte of `buffer`.
    package init(_ buffer: UnsafeRawBufferPointer, file: String = "<memory>", baseOffset: Int = 0) {
        self.buffer = buffer
        self.position = 0
        self.file = file
        self.baseOffset = baseOffset
    }

    /// Bytes left to read.
    @inlinable package var remaining: Int { buffer.count - position }

    /// `true` when every byte has been read.
    @inlinable package var isAtEnd: Bool { position >= buffer.count }

    /// A corruption error at the current position (or `position + delta`) with `reason`.
    package func corruption(_ reason: String, at delta: Int = 0) -> StrataError {
        .corruption(file: file, offset: baseOffset + position + delta, reason: reason)
    }

    /// Reads one byte.
    package mutating func readUInt8(_ what: @autoclosure () -> String = "byte") throws -> UInt8 {
        try require(1, what())
        defer { position += 1 }
        return buffer.load(fromByteOffset: position, as: UInt8.self)
    }

    /// Reads a 2-byte little-endian integer.
    package mutating func readFixed16(_ what: @autoclosure () -> String = "fixed16") throws -> UInt16 {
        try require(2, what())
        defer { position += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    /// Reads a 4-byte little-endian integer.
    package mutating func readFixed32(_ what: @autoclosure () -> String = "fixed32") throws -> UInt32 {
        try require(4, what())
        defer { position += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// Reads an 8-byte little-endian integer.
    package mutating func readFixed64(_ what: @autoclosure () -> String = "fixed64") throws -> UInt64 {
        try require(8, what())
        defer { position += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// Reads a varint that must fit in 32 bits.
    package mutating func readVarint32(_ what: @autoclosure () -> String = "varint32") throws -> UInt32 {
        guard let base = buffer.baseAddress,
            let (value, length) = Varint.decode32(base + position, end: base + buffer.count)
        else { throw corruption("truncated or malformed \(what())") }
        position += length
        return value
    }

    /// Reads a varint of up to 64 bits.
    package mutating func readVarint64(_ what: @autoclosure () -> String = "varint64") throws -> UInt64 {
        guard let base = buffer.baseAddress,
            let (value, length) = Varint.decode64(base + position, end: base + buffer.count)
        else { throw corruption("truncated or malformed \(what())") }
        position += length
        return value
    }

    /// Reads a varint and checks that it is at most `limit`, returning it as an `Int`.
    package mutating func readLength(max limit: Int, _ what: @autoclosure () -> String = "length") throws -> Int {
        let start = position
        let value = try readVarint64(what())
        guard value <= UInt64(limit) else {
            throw corruption("\(what()) \(value) exceeds the limit \(limit)", at: start - position)
        }
        return Int(value)
    }

    /// Returns the next `count` bytes (borrowed from `buffer`) and advances past them.
    package mutating func readBytes(count: Int, _ what: @autoclosure () -> String = "bytes") throws -> UnsafeRawBufferPointer {
        guard count >= 0 else { throw corruption("negative length for \(what())") }
        try require(count, what())
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: buffer[position..<(position + count)])
    }

    /// Reads a varint length and then that many bytes (borrowed from `buffer`).
    package mutating func readLengthPrefixed(_ what: @autoclosure () -> String = "length-prefixed bytes") throws -> UnsafeRawBufferPointer {
        let start = position
        let length = try readVarint64("length of \(what())")
        guard length <= UInt64(remaining) else {
            throw corruption("\(what()) declares \(length) bytes but only \(remaining) remain", at: start - position)
        }
        return try readBytes(count: Int(length), what())
    }

    /// Skips `count` bytes.
    package mutating func skip(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws {
        guard count >= 0 else { throw corruption("negative skip over \(what())") }
        try require(count, what())
        position += count
    }

    private func require(_ count: Int, _ what: String) throws {
        guard count <= remaining else {
            throw corruption("truncated \(what): need \(count) bytes, \(remaining) remain")
        }
    }
}
