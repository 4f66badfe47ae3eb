/// A growable byte buffer that encoders append to.
///
/// All fixed-width integers are written little-endian; varints are LEB128 (see `Varint`).
/// The buffer is meant to be reused: `reset()` empties it but keeps its capacity, so a builder
/// that encodes one block after another allocates only while its largest block grows.
package struct ByteWriter: Sendable {
    /// The bytes written so far.
    package var bytes: [UInt8]

    /// Creates an empty writer with room for `capacity` bytes before it must grow.
    package init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The number of bytes written so far.
    @inlinable package var count: Int { bytes.count }

    /// `true` when nothing has been written since creation or the last `reset()`.
    @inlinable package var isEmpty: Bool { bytes.isEmpty }

    /// Forgets the contents, keeping the allocated capacity.
    @inlinable
    package mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends one byte.
    @inlinable
    package mutating func appendUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends `value` as 2 little-endian bytes.
    @inlinable
    package mutating func appendFixed16(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as 4 little-endian bytes.
    @inlinable
    package mutating func appendFixed32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as 8 little-endian bytes.
    @inlinable
    package mutating func appendFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as a LEB128 varint of 1–5 bytes.
    @inlinable
    package mutating func appendVarint32(_ value: UInt32) {
        appendVarint64(UInt64(value))
    }

    /// Appends `value` as a LEB128 varint of 1–10 bytes.
    @inlinable
    package mutating func appendVarint64(_ value: UInt64) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            return
        }
        // Encode into a 16-byte stack scratch and append once: one capacity check instead of one
        // per byte.
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let length = Varint.write(value, to: raw.baseAddress!)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<length]))
        }
    }

    /// Appends raw bytes with no length.
    @inlinable
    package mutating func appendBytes(_ source: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: source)
    }

    /// Appends raw bytes with no length.
    @inlinable
    package mutating func appendBytes(_ source: some Collection<UInt8>) {
        bytes.append(contentsOf: source)
    }

    /// Appends a varint length followed by the bytes.
    @inlinable
    package mutating func appendLengthPrefixed(_ source: UnsafeRawBufferPointer) {
        appendVarint64(UInt64(source.count))
        bytes.append(contentsOf: source)
    }

    /// Appends a varint length followed by the bytes.
    @inlinable
    package mutating func appendLengthPrefixed(_ source: some Collection<UInt8>) {
        appendVarint64(UInt64(source.count))
        bytes.append(contentsOf: source)
    }

    /// Overwrites 4 bytes at `offset` with `value`, little-endian (for back-patching lengths).
    ///
    /// - Precondition: `offset + 4 <= count`.
    @inlinable
    package mutating func setFixed32(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= bytes.count, "setFixed32 out of range")
        withUnsafeBytes(of: value.littleEndian) { source in
            for index in 0..<4 { bytes[offset + index] = source[index] }
        }
    }
}
