import Encoding

/// A replica's lease (`leases/ID`): what of the store it still needs, and until when
/// (Docs/formats/object-store.md). The writer's garbage collection keeps, for every lease not
/// yet expired, the manifest it names with that manifest's files, and every WAL object from
/// `nextWALObject` on.
///
///     magic "STRLEASE" | version fixed16 | reserved fixed16 (0) | reserved fixed32 (0) |
///     manifest fixed64 (0: none) | next WAL object fixed64 | expiry fixed64 (Unix ms) |
///     checksum fixed64 (XXH3 of bytes 0..<40)
struct ReplicaLease: Sendable, Equatable {
    static let magic = Array("STRLEASE".utf8)
    static let version: UInt16 = 1
    static let size = 48

    /// The manifest whose tables the replica reads (0: none installed yet).
    var manifest: UInt64
    /// The first WAL object a restart of the replica replays.
    var nextWALObject: UInt64
    /// Wall-clock expiry, milliseconds since 1970.
    var expiryMilliseconds: UInt64

    init(manifest: UInt64, nextWALObject: UInt64, expiryMilliseconds: UInt64) {
        self.manifest = manifest
        self.nextWALObject = nextWALObject
        self.expiryMilliseconds = expiryMilliseconds
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.appendBytes(Self.magic)
        writer.appendFixed16(Self.version)
        writer.appendFixed16(0)
        writer.appendFixed32(0)
        writer.appendFixed64(manifest)
        writer.appendFixed64(nextWALObject)
        writer.appendFixed64(expiryMilliseconds)
        writer.appendFixed64(Checksum.xxh3(writer.bytes))
        return writer.bytes
    }

    /// Decodes and checks a lease.
    ///
    /// - Throws: `StrataError.corruption` naming `key` for a wrong size, magic or checksum;
    ///   `.incompatible` for a newer version.
    init(decoding bytes: [UInt8], key: String) throws {
        let decoded = try bytes.withUnsafeBytes { buffer -> ReplicaLease in
            var reader = ByteReader(buffer, file: key)
            guard buffer.count == Self.size else { throw reader.corruption("a lease is \(buffer.count) bytes, not \(Self.size)") }
            let stored = UnsafeRawBufferPointer(rebasing: buffer[40..<48]).loadUnaligned(as: UInt64.self)
            guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: buffer[0..<40])) == UInt64(littleEndian: stored) else {
                throw reader.corruption("lease checksum mismatch", at: 40)
            }
            guard Array(try reader.readBytes(count: 8, "magic")) == Self.magic else { throw reader.corruption("not a lease (bad magic)") }
            let version = try reader.readFixed16("version")
            guard version == Self.version else {
                throw StrataError.incompatible(file: key, reason: "lease version \(version); this build reads \(Self.version)")
            }
            try reader.skip(6, "reserved")
            return ReplicaLease(
                manifest: try reader.readFixed64("manifest"), nextWALObject: try reader.readFixed64("next WAL object"),
                expiryMilliseconds: try reader.readFixed64("expiry"))
        }
        self = decoded
    }

    /// `true` while the lease holds at `nowMilliseconds` (wall clock).
    func isLive(atMilliseconds nowMilliseconds: UInt64) -> Bool { expiryMilliseconds > nowMilliseconds }
}
