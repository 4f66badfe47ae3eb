internal import CLZ4

/// LZ4 block compression through liblz4 (`LZ4_compress_default` / `LZ4_decompress_safe`).
///
/// Stateless: the compressor's hash table lives on the C stack, so instances are free to create.
package struct LZ4Codec: BlockCodec {
    /// Creates an LZ4 codec.
    package init() {}

    package var id: CodecID { .lz4 }

    package func maxCompressedSize(_ count: Int) -> Int {
        guard count <= Int(LZ4_MAX_INPUT_SIZE) else { return Int.max }
        return Int(LZ4_compressBound(Int32(count)))
    }

    package func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        guard source.count <= Int(LZ4_MAX_INPUT_SIZE), let output = destination.baseAddress else { return nil }
        let capacity = Int32(clamping: destination.count)
        // liblz4 reads no input when the size is 0, but wants a non-null pointer.
        let written = withNonNullBase(source) { input in
            LZ4_compress_default(input, output.assumingMemoryBound(to: CChar.self), Int32(source.count), capacity)
        }
        return written > 0 ? Int(written) : nil
    }

    package func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
        guard source.count > 0, source.count <= Int(Int32.max), destination.count <= Int(Int32.max) else { return nil }
        var scratch: UInt8 = 0
        // `LZ4_decompress_safe` never writes past `capacity` and fails on malformed input, which is
        // what makes decoding untrusted blocks safe. A 0-byte output still needs a valid pointer.
        let produced = withUnsafeMutablePointer(to: &scratch) { scratchPointer in
            let output = destination.baseAddress ?? UnsafeMutableRawPointer(scratchPointer)
            return LZ4_decompress_safe(
                source.baseAddress!.assumingMemoryBound(to: CChar.self),
                output.assumingMemoryBound(to: CChar.self),
                Int32(source.count), Int32(destination.count))
        }
        guard produced >= 0, Int(produced) == destination.count else { return nil }
        return Int(produced)
    }
}

/// Calls `body` with `buffer`'s base address as `CChar`, or a pointer to a dummy byte when the
/// buffer is empty (C APIs want non-null pointers even for zero lengths).
func withNonNullBase<R>(_ buffer: UnsafeRawBufferPointer, _ body: (UnsafePointer<CChar>) -> R) -> R {
    if let base = buffer.baseAddress {
        return body(base.assumingMemoryBound(to: CChar.self))
    }
    var dummy: CChar = 0
    return withUnsafePointer(to: &dummy) { body($0) }
}
