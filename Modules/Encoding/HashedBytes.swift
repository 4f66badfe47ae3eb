/// A byte string as a set member or dictionary key, hashed once with XXH3.
///
/// `[UInt8]`'s own `Hashable` feeds the hasher one element at a time, and a set or dictionary
/// hashes a key again on every insert, lookup and union (measured: about a tenth of a
/// transactional insert's time went there). This computes a 64-bit XXH3 digest once and gives
/// the hasher only that; equality compares digests first, then the bytes.
package struct HashedBytes: Hashable, Sendable {
    /// The bytes.
    package let bytes: [UInt8]
    /// XXH3 of `bytes` (a digest, not a checksum: equality still compares the bytes).
    let digest: UInt64

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        digest = Checksum.xxh3(bytes)
    }

    package func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    package static func == (a: HashedBytes, b: HashedBytes) -> Bool { a.digest == b.digest && a.bytes == b.bytes }
}
