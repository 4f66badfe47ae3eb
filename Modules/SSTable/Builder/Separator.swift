import Encoding

// See Docs/formats/sstable.md ("Shortened separators").

/// Index keys shorter than the keys they separate.
enum Separator {
    /// An internal key `s` with `lastKey ≤ s < nextKey`, shorter than `lastKey` when possible.
    static func between(_ lastKey: [UInt8], _ nextKey: UnsafeRawBufferPointer) -> [UInt8] {
        lastKey.withUnsafeBytes { last in
            let a = InternalKey.userKey(of: last)
            let b = InternalKey.userKey(of: nextKey)
            let shared = BytewiseComparator.sharedPrefixLength(a, b)
            guard shared < min(a.count, b.count) else { return lastKey }
            let byte = a[shared]
            guard byte < 0xFF, byte + 1 < b[shared] else { return lastKey }
            var user = Array(a[0..<shared])
            user.append(byte + 1)
            return withSeekTrailer(user)
        }
    }

    /// A short internal key ≥ every entry of `lastKey`'s user key.
    static func successor(of lastKey: [UInt8]) -> [UInt8] {
        lastKey.withUnsafeBytes { last in
            let a = InternalKey.userKey(of: last)
            guard let index = a.firstIndex(where: { $0 != 0xFF }) else { return lastKey }
            var user = Array(a[0..<index])
            user.append(a[index] + 1)
            return withSeekTrailer(user)
        }
    }

    /// `userKey` with the largest trailer: sorts before every real entry of `userKey`.
    private static func withSeekTrailer(_ userKey: [UInt8]) -> [UInt8] {
        InternalKey.seekKey(userKey, at: .max)
    }
}
