import Encoding

// See Docs/formats/sstable.md ("Filter block").

/// A cache-line-blocked Bloom filter: every key's probes fall in one 64-byte line, so a query
/// touches a single cache line.
package enum BloomFilter {
    /// Bytes per line.
    static let lineBytes = 64
    /// The filter format byte this build writes and reads.
    static let format: UInt8 = 1

    /// The hash a key is filtered by.
    @inlinable
    package static func hash(_ userKey: UnsafeRawBufferPointer) -> UInt64 {
        Checksum.xxh3(userKey)
    }

    /// The number of probes for `bitsPerKey` (about `bitsPerKey × ln 2`, rounded down, 1…30).
    static func probes(bitsPerKey: Int) -> Int {
        min(30, max(1, Int(Double(bitsPerKey) * 0.69)))
    }

    @inline(__always)
    static func line(_ hash: UInt64, lines: Int) -> Int {
        // Multiply-shift range reduction of the upper 32 bits: uniform, no division.
        Int((UInt64(UInt32(truncatingIfNeeded: hash >> 32)) &* UInt64(lines)) >> 32)
    }

    /// Builds the filter payload for `hashes` (one per distinct user key).
    package static func build(hashes: [UInt64], bitsPerKey: Int) -> [UInt8] {
        let lines = max(1, (hashes.count * bitsPerKey + 511) / 512)
        let probes = probes(bitsPerKey: bitsPerKey)
        var bytes = [UInt8](repeating: 0, count: lines * lineBytes)
        bytes.withUnsafeMutableBytes { bits in
            for hash in hashes {
                let lineStart = line(hash, lines: lines) * lineBytes
                var h = UInt32(truncatingIfNeeded: hash)
                for _ in 0..<probes {
                    let bit = Int(h >> 23)
                    bits[lineStart + (bit >> 3)] |= UInt8(1) << UInt8(bit & 7)
                    h = h &* 0x9E37_79B9
                }
            }
        }
        var writer = ByteWriter(capacity: bytes.count + 6)
        writer.appendBytes(bytes)
        writer.appendFixed32(UInt32(lines))
        writer.appendUInt8(UInt8(probes))
        writer.appendUInt8(format)
        return writer.bytes
    }
}

/// A loaded filter, answering "may the table contain this user key?".
///
/// `@unchecked Sendable`: the filter bytes are immutable and `owner` keeps them alive.
package struct BloomFilterReader: @unchecked Sendable {
    /// Keeps `base` valid (the buffer or mapped file holding the filter).
    let owner: AnyObject & Sendable
    let base: UnsafeRawPointer
    let lines: Int
    let probes: Int

    /// Validates a filter block held in `storage`.
    ///
    /// - Throws: `StrataError.corruption` for an unknown format or inconsistent sizes.
    init(storage: RawBuffer, size: Int, file: String, offset: Int) throws {
        guard size <= storage.count else { throw StrataError.corruption(file: file, offset: offset, reason: "filter larger than its storage") }
        try self.init(base: storage.base, size: size, owner: storage, file: file, offset: offset)
    }

    /// Validates a filter block at `base`, kept alive by `owner`.
    package init(base: UnsafeRawPointer, size: Int, owner: AnyObject & Sendable, file: String, offset: Int) throws {
        guard size >= 6 else { throw StrataError.corruption(file: file, offset: offset, reason: "filter block of \(size) bytes is too short") }
        let format = base.load(fromByteOffset: size - 1, as: UInt8.self)
        let probes = Int(base.load(fromByteOffset: size - 2, as: UInt8.self))
        let lines = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: size - 6, as: UInt32.self)))
        guard format == BloomFilter.format else {
            throw StrataError.corruption(file: file, offset: offset + size - 1, reason: "unknown filter format \(format)")
        }
        guard probes >= 1, probes <= 30, lines >= 1, lines * BloomFilter.lineBytes == size - 6 else {
            throw StrataError.corruption(file: file, offset: offset + size - 6, reason: "filter sizes are inconsistent (\(lines) lines, \(probes) probes, \(size) bytes)")
        }
        self.owner = owner
        self.base = base
        self.lines = lines
        self.probes = probes
    }

    /// `false` only when the key is certainly absent.
    @inline(__always)
    package func mayContain(hash: UInt64) -> Bool {
        let line = base + BloomFilter.line(hash, lines: lines) * BloomFilter.lineBytes
        var h = UInt32(truncatingIfNeeded: hash)
        for _ in 0..<probes {
            let bit = Int(h >> 23)
            if line.load(fromByteOffset: bit >> 3, as: UInt8.self) & (UInt8(1) << UInt8(bit & 7)) == 0 { return false }
            h = h &* 0x9E37_79B9
        }
        return true
    }

    /// `false` only when `userKey` is certainly absent.
    package func mayContain(_ userKey: UnsafeRawBufferPointer) -> Bool {
        mayContain(hash: BloomFilter.hash(userKey))
    }

    /// The filter's size in bytes.
    package var byteCount: Int { lines * BloomFilter.lineBytes + 6 }
}
