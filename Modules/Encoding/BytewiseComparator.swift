/// Lexicographic byte-string order: the order of user keys.
///
/// Compares eight bytes at a time as big-endian integers (a big-endian load turns byte order into
/// integer order), which on shared prefixes is about 10× faster than
/// `lexicographicallyPrecedes` (guide B.2). All functions are `@inlinable` because they run in
/// every other module's inner loops.
public enum BytewiseComparator {
    /// The name recorded in the manifest so a database is never opened with another order.
    public static let name = "strata.BytewiseComparator"

    /// Three-way comparison of `[a, a + aCount)` and `[b, b + bCount)`.
    ///
    /// - Returns: a negative number if `a` sorts first, zero if equal, positive if `b` sorts first.
    @inlinable
    @inline(__always)
    package static func compare(_ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer, _ bCount: Int) -> Int {
        let common = aCount < bCount ? aCount : bCount
        var index = 0
        while index &+ 8 <= common {
            let x = a.loadUnaligned(fromByteOffset: index, as: UInt64.self).bigEndian
            let y = b.loadUnaligned(fromByteOffset: index, as: UInt64.self).bigEndian
            if x != y { return x < y ? -1 : 1 }
            index &+= 8
        }
        if index < common {
            if common >= 8 {
                // The tail as the last 8 common bytes: those before `index` are already known
                // equal, so the first difference in the word is the first in the tail.
                let x = a.loadUnaligned(fromByteOffset: common &- 8, as: UInt64.self).bigEndian
                let y = b.loadUnaligned(fromByteOffset: common &- 8, as: UInt64.self).bigEndian
                if x != y { return x < y ? -1 : 1 }
            } else {
                while index < common {
                    let x = a.load(fromByteOffset: index, as: UInt8.self)
                    let y = b.load(fromByteOffset: index, as: UInt8.self)
                    if x != y { return x < y ? -1 : 1 }
                    index &+= 1
                }
            }
        }
        return aCount == bCount ? 0 : (aCount < bCount ? -1 : 1)
    }

    /// Three-way comparison of two byte buffers (either may be empty).
    @inlinable
    @inline(__always)
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        // An empty buffer may have a nil base address; it sorts before any non-empty one.
        guard let aBase = a.baseAddress, a.count > 0 else { return b.count == 0 ? 0 : -1 }
        guard let bBase = b.baseAddress, b.count > 0 else { return 1 }
        return compare(aBase, a.count, bBase, b.count)
    }

    /// Three-way comparison of two byte arrays.
    @inlinable
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in compare(a, b) } }
    }

    /// The length of the common prefix of `a` and `b`.
    @inlinable
    package static func sharedPrefixLength(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = Swift.min(a.count, b.count)
        guard common > 0, let aBase = a.baseAddress, let bBase = b.baseAddress else { return 0 }
        var index = 0
        while index &+ 8 <= common {
            let x = aBase.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let y = bBase.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if x != y {
                // The first differing byte is the lowest differing byte in little-endian memory order.
                let differing = (x ^ y).littleEndian
                return index &+ differing.trailingZeroBitCount / 8
            }
            index &+= 8
        }
        while index < common && aBase.load(fromByteOffset: index, as: UInt8.self) == bBase.load(fromByteOffset: index, as: UInt8.self) {
            index &+= 1
        }
        return index
    }
}
