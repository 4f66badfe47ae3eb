/// Writes benchmark keys as db_bench (LevelDB's) does: the key's index in decimal, zero-padded
/// on the left to `keySize` bytes (`%016d` for the default 16 bytes), so byte order is numeric
/// order. An index with more digits than `keySize` keeps its low-order digits.
struct KeyFormatter: Sendable {
    /// Bytes per key.
    let keySize: Int

    /// A fresh key buffer of the right size.
    func makeBuffer() -> [UInt8] { [UInt8](repeating: UInt8(ascii: "0"), count: keySize) }

    /// Overwrites `key` (from `makeBuffer`) with `index`, without allocating.
    @inline(__always)
    func format(_ index: UInt64, into key: inout [UInt8]) {
        key.withUnsafeMutableBufferPointer { bytes in
            var remaining = index
            var position = bytes.count - 1
            while position >= 0 {
                bytes[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
                remaining /= 10
                position -= 1
            }
        }
    }

    /// The key for `index` as a new array.
    func key(_ index: UInt64) -> [UInt8] {
        var key = makeBuffer()
        format(index, into: &key)
        return key
    }
}
