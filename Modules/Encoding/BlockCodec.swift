/// The codec id byte stored with every compressed block. Part of the on-disk formats: never
/// reuse a retired number (see Docs/formats/compression.md).
package enum CodecID: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Stored as is.
    case none = 0
    /// LZ4 block format (liblz4).
    case lz4 = 1
    /// Zstandard frame (libzstd).
    case zstd = 2

    /// A one-line, human-readable description.
    public var description: String {
        switch self {
        case .none: return "none"
        case .lz4: return "lz4"
        case .zstd: return "zstd"
        }
    }
}

/// Which compression a writer applies to its blocks.
public enum Compression: Sendable, Hashable, CustomStringConvertible {
    /// No compression.
    case none
    /// LZ4: fastest; the default choice for 4 KiB blocks (guide B.8).
    case lz4
    /// Zstandard at `level` (1…22; 1 is fast, higher is smaller and slower).
    case zstd(level: Int32)

    /// The id byte blocks written with this setting carry when they are compressed.
    package var codecID: CodecID {
        switch self {
        case .none: return .none
        case .lz4: return .lz4
        case .zstd: return .zstd
        }
    }

    /// A codec instance for this setting. Codecs are not thread-safe: make one per thread.
    package func makeCodec() -> any BlockCodec {
        switch self {
        case .none: return NoneCodec()
        case .lz4: return LZ4Codec()
        case .zstd(let level): return ZstdCodec(level: level)
        }
    }

    /// A one-line, human-readable description.
    public var description: String {
        switch self {
        case .none: return "none"
        case .lz4: return "lz4"
        case .zstd(let level): return "zstd(\(level))"
        }
    }
}

/// A block compressor/decompressor.
///
/// Codecs work on raw bytes and know nothing of framing; `BlockCompression` adds the
/// uncompressed-size prefix, the 12.5% rule and error context.
///
/// Thread safety: an instance may hold reusable native contexts and must not be used by two
/// threads at once.
package protocol BlockCodec {
    /// The id stored with blocks this codec compressed.
    var id: CodecID { get }

    /// An upper bound of the compressed size of `count` input bytes.
    func maxCompressedSize(_ count: Int) -> Int

    /// Compresses `source` into `destination`.
    ///
    /// - Returns: the number of bytes written, or `nil` when the output does not fit.
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int?

    /// Decompresses `source` into `destination`, whose size is the declared uncompressed size.
    ///
    /// - Returns: the number of bytes produced, or `nil` when `source` is malformed or does not
    ///   decode to exactly `destination.count` bytes.
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int?
}

/// The identity codec: copies bytes.
package struct NoneCodec: BlockCodec {
    /// Creates the identity codec.
    package init() {}

    package var id: CodecID { .none }

    package func maxCompressedSize(_ count: Int) -> Int { count }

    package func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        guard source.count <= destination.count else { return nil }
        if let base = source.baseAddress, source.count > 0 {
            destination.baseAddress!.copyMemory(from: base, byteCount: source.count)
        }
        return source.count
    }

    package func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        guard source.count == destination.count else { return nil }
        return compress(source, into: destination)
    }
}
