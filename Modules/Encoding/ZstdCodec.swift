internal import CZstd

/// Zstandard compression through libzstd, reusing one compression and one decompression context
/// per instance (creating contexts per block costs more than compressing a 4 KiB block).
///
/// Thread safety: not thread-safe (the contexts are mutable native state). Use one per thread;
/// readers keep a small pool.
package final class ZstdCodec: BlockCodec {
    /// The compression level (1…22).
    package let level: Int32
    // Both contexts are created in init and freed in deinit; nothing else owns them.
    private let compressionContext: OpaquePointer
    private let decompressionContext: OpaquePointer

    /// Creates a codec compressing at `level` (clamped to libzstd's supported range).
    package init(level: Int32 = 1) {
        self.level = min(max(level, ZSTD_minCLevel()), ZSTD_maxCLevel())
        guard let compression = ZSTD_createCCtx(), let decompression = ZSTD_createDCtx() else {
            // Only an out-of-memory condition makes context creation fail.
            fatalError("libzstd could not allocate a context")
        }
        compressionContext = compression
        decompressionContext = decompression
    }

    deinit {
        ZSTD_freeCCtx(compressionContext)
        ZSTD_freeDCtx(decompressionContext)
    }

    package var id: CodecID { .zstd }

    package func maxCompressedSize(_ count: Int) -> Int {
        ZSTD_compressBound(count)
    }

    package func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        guard let output = destination.baseAddress else { return nil }
        let written = withNonNullBase(source) { input in
            ZSTD_compressCCtx(compressionContext, output, destination.count, input, source.count, level)
        }
        return ZSTD_isError(written) != 0 ? nil : written
    }

    package func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        guard let input = source.baseAddress else { return nil }
        var scratch: UInt8 = 0
        // libzstd checks the frame and never writes past the capacity it is given.
        let produced = withUnsafeMutablePointer(to: &scratch) { scratchPointer in
            ZSTD_decompressDCtx(
                decompressionContext, destination.baseAddress ?? UnsafeMutableRawPointer(scratchPointer),
                destination.count, input, source.count)
        }
        guard ZSTD_isError(produced) == 0, produced == destination.count else { return nil }
        return produced
    }
}
