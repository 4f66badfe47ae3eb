/// A byte string as a set member or dictionary key, hashed in one pass over its bytes.
///
/// `[UInt8]`'s own `Hashable` feeds the hasher one element at a time (measured: about a tenth
/// of a transactional insert's time went there); this hashes the buffer as a whole. Equality is
/// the bytes' equality.
package struct HashedBytes: Hashable, Sendable {
    /// The bytes.
    package let bytes: [UInt8]

    @inlinable package init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable package func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inlinable package static func == (a: HashedBytes, b: HashedBytes) -> Bool { a.bytes == b.bytes }
}
