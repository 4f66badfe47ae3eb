#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VFS

/// Produces benchmark values as db_bench does: slices of a 1 MiB buffer (or larger, for huge
/// values) built from pieces that compress to about `compressionRatio` of their size — each
/// 100-byte piece is `ratio × 100` random printable bytes repeated to fill it.
///
/// Each thread owns one generator; `next` hands out consecutive slices (no allocation).
final class ValueGenerator {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    private var position = 0

    /// Creates a generator with its own deterministic contents.
    init(seed: UInt64, compressionRatio: Double, largestValue: Int) {
        let size = max(1 << 20, largestValue * 2)
        storage = .allocate(capacity: size)
        var random = SplitMix64(seed: seed)
        let pieceSize = 100
        let rawSize = max(1, min(pieceSize, Int((Double(pieceSize) * compressionRatio).rounded())))
        var filled = 0
        var raw = [UInt8](repeating: 0, count: rawSize)
        while filled < size {
            for index in 0..<rawSize { raw[index] = UInt8(ascii: " ") &+ UInt8(truncatingIfNeeded: random.next() % 95) }
            var written = 0
            while written < pieceSize && filled < size {
                storage[filled] = raw[written % rawSize]
                written += 1
                filled += 1
            }
        }
    }

    deinit { storage.deallocate() }

    /// The next `length` bytes of generated data. Valid until the generator is destroyed.
    @inline(__always)
    func next(_ length: Int) -> UnsafeBufferPointer<UInt8> {
        if position + length > storage.count { position = 0 }
        defer { position += length }
        return UnsafeBufferPointer(rebasing: storage[position..<(position + length)])
    }
}
