internal import CXXHash

/// The one checksum every Strata format uses: XXH3-64 from libxxhash (13.5 GB/s here, guide B.7).
///
/// Formats that store 4 bytes keep the low 32 bits (`xxh3Low32`); formats that store 8 keep all
/// 64. A format that wants a type byte covered without copying it next to the payload passes it
/// as the `seed`: flipping the type then changes the checksum exactly as flipping a payload byte.
@usableFromInline
package enum Checksum {
    /// XXH3-64 of `bytes` with `seed` (0 unless a format says otherwise).
    @usableFromInline
    package static func xxh3(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        // XXH3 accepts a null pointer only with length 0, which is what an empty buffer gives.
        XXH3_64bits_withSeed(bytes.baseAddress, bytes.count, seed)
    }

    /// XXH3-64 of `bytes` with `seed`.
    @usableFromInline
    package static func xxh3(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { xxh3($0, seed: seed) }
    }

    /// The low 32 bits of XXH3-64, for formats with a 4-byte checksum field.
    @usableFromInline
    package static func xxh3Low32(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt32 {
        UInt32(truncatingIfNeeded: xxh3(bytes, seed: seed))
    }

    /// The low 32 bits of XXH3-64 of `bytes`.
    @usableFromInline
    package static func xxh3Low32(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt32 {
        bytes.withUnsafeBytes { xxh3Low32($0, seed: seed) }
    }
}
