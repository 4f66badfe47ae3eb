// See Docs/formats/compression.md.

/// Block-level compression as every Strata format stores it.
///
/// A compressed payload is `varint32 uncompressedLength | codec output`; the codec id byte is
/// stored next to the payload by the format that owns it (the SSTable block trailer). A block
/// that does not shrink by at least 12.5% is stored uncompressed with codec id `none`, so readers
/// never pay decompression for nothing.
package enum BlockCompression {
    /// The minimum saving, as a fraction of the input (1/8 = 12.5%), for a compressed block to be kept.
    package static let minimumSavingDivisor = 8

    /// The largest uncompressed size a payload may declare; larger is treated as corruption.
    package static let maxUncompressedSize = 1 << 30
}

/// Compresses blocks with one codec, reusing its scratch memory.
///
/// Thread safety: not thread-safe; one per writer.
package final class BlockCompressor {
    /// The compression this compressor applies.
    package let compression: Compression
    private let codec: any BlockCodec
    private var scratch: RawBuffer

    /// Creates a compressor for `compression`.
    package init(_ compression: Compression) {
        self.compression = compression
        self.codec = compression.makeCodec()
        self.scratch = RawBuffer(count: 0)
    }

    /// Compresses `raw` unless that saves less than 12.5%.
    ///
    /// - Returns: the codec id to store and the payload bytes. When the id is `.none` the payload
    ///   is `raw` itself; otherwise it lives in the compressor's scratch memory and stays valid
    ///   until the next call.
    package func compress(_ raw: UnsafeRawBufferPointer) -> (codec: CodecID, payload: UnsafeRawBufferPointer) {
        guard compression != .none, raw.count <= BlockCompression.maxUncompressedSize else { return (.none, raw) }
        let bound = codec.maxCompressedSize(raw.count)
        guard bound < Int.max - Varint.maxLength32 else { return (.none, raw) }
        let needed = bound + Varint.maxLength32
        if scratch.count < needed { scratch = RawBuffer(count: needed) }
        let prefix = Varint.write(UInt64(raw.count), to: scratch.base)
        let output = UnsafeMutableRawBufferPointer(start: scratch.base + prefix, count: needed - prefix)
        guard let written = codec.compress(raw, into: output) else { return (.none, raw) }
        let total = prefix + written
        // Keep the compressed form only when it saves at least 1/8 of the input.
        guard total <= raw.count - raw.count / BlockCompression.minimumSavingDivisor, total < raw.count else {
            return (.none, raw)
        }
        return (codec.id, UnsafeRawBufferPointer(start: scratch.base, count: total))
    }
}

/// Decompresses stored payloads of any codec, checking every declared size.
///
/// Thread safety: not thread-safe (it owns a Zstandard context); one per thread, or pooled.
package final class BlockDecompressor {
    private var zstd: ZstdCodec?

    /// Creates a decompressor. The Zstandard context is allocated on first use.
    package init() {}

    /// Decodes a stored payload into a new buffer.
    ///
    /// - Parameters:
    ///   - payload: the stored bytes (for `.none`, the block itself).
    ///   - codecByte: the codec id byte stored with the payload.
    ///   - file: the file the payload came from, for errors.
    ///   - offset: the payload's offset in `file`, for errors.
    /// - Returns: the uncompressed block.
    /// - Throws: `StrataError.corruption` when the codec id is unknown, the declared size is
    ///   malformed or too large, or the codec output is not exactly the declared size.
    package func decompress(_ payload: UnsafeRawBufferPointer, codecByte: UInt8, file: String, offset: Int) throws -> RawBuffer {
        guard let codecID = CodecID(rawValue: codecByte) else {
            throw StrataError.corruption(file: file, offset: offset, reason: "unknown compression codec id \(codecByte)")
        }
        if codecID == .none { return RawBuffer(copying: payload) }
        var reader = ByteReader(payload, file: file, baseOffset: offset)
        let size = try reader.readLength(max: BlockCompression.maxUncompressedSize, "uncompressed block size")
        let compressed = UnsafeRawBufferPointer(rebasing: payload[reader.position...])
        let output = RawBuffer(count: size)
        let produced: Int?
        switch codecID {
        case .none:
            produced = nil  // handled above
        case .lz4:
            produced = LZ4Codec().decompress(compressed, into: output.mutableBytes)
        case .zstd:
            let codec = zstd ?? ZstdCodec()
            zstd = codec
            produced = codec.decompress(compressed, into: output.mutableBytes)
        }
        guard produced == size else {
            throw StrataError.corruption(
                file: file, offset: offset,
                reason: "\(codecID) block does not decompress to its declared \(size) bytes")
        }
        return output
    }

    /// Decodes a stored payload held in an array (convenience for tools and tests).
    package func decompress(_ payload: [UInt8], codec: CodecID, file: String = "<memory>", offset: Int = 0) throws -> [UInt8] {
        try payload.withUnsafeBytes { try decompress($0, codecByte: codec.rawValue, file: file, offset: offset).array }
    }
}
