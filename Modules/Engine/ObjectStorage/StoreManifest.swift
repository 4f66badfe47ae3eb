import Encoding

/// A manifest object: which writer epoch it belongs to and the checkpoint that restores the
/// database up to a sequence number (Docs/formats/object-store.md).
///
///     magic "STRMANOB" | version fixed16 | reserved fixed16 (0) | writer nonce fixed32 |
///     epoch fixed64 | number fixed64 | last sequence fixed64 | first WAL object fixed64 |
///     file count varint32 | file × count | checksum fixed64 (XXH3 of everything before)
///     file: local name (length-prefixed) | object key (length-prefixed) | size fixed64
struct StoreManifest: Sendable, Equatable {
    static let magic = Array("STRMANOB".utf8)
    static let version: UInt16 = 1

    /// One file of the checkpoint: its name in a database directory, and where it is stored.
    struct File: Sendable, Equatable {
        var name: String
        var key: String
        var size: UInt64
    }

    /// The writer epoch that wrote this manifest.
    var epoch: UInt64
    /// A random number of the process that wrote it: two processes claiming the same epoch at
    /// once write different bytes, so neither can take the other's claim for its own.
    var nonce: UInt32 = 0
    /// Its number (the `manifest/` key).
    var number: UInt64
    /// The checkpoint holds every write up to this sequence and none after.
    var lastSequence: UInt64
    /// The first WAL object that may hold a write after `lastSequence`: restoring replays the
    /// WAL objects from here on.
    var firstWALObject: UInt64
    /// The checkpoint's files.
    var files: [File]

    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.appendBytes(Self.magic)
        writer.appendFixed16(Self.version)
        writer.appendFixed16(0)
        writer.appendFixed32(nonce)
        writer.appendFixed64(epoch)
        writer.appendFixed64(number)
        writer.appendFixed64(lastSequence)
        writer.appendFixed64(firstWALObject)
        writer.appendVarint32(UInt32(files.count))
        for file in files {
            writer.appendLengthPrefixed(Array(file.name.utf8))
            writer.appendLengthPrefixed(Array(file.key.utf8))
            writer.appendFixed64(file.size)
        }
        writer.appendFixed64(Checksum.xxh3(writer.bytes))
        return writer.bytes
    }

    /// Decodes and checks a manifest object.
    ///
    /// - Throws: `StrataError.corruption` naming `key` for damage; `.incompatible` for a newer version.
    init(decoding bytes: [UInt8], key: String) throws {
        let decoded = try bytes.withUnsafeBytes { buffer -> StoreManifest in
            var reader = ByteReader(buffer, file: key)
            guard buffer.count >= 60 else { throw reader.corruption("a manifest object is \(buffer.count) bytes, too short") }
            let stored = UnsafeRawBufferPointer(rebasing: buffer[(buffer.count - 8)...]).loadUnaligned(as: UInt64.self)
            guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count - 8)])) == UInt64(littleEndian: stored) else {
                throw reader.corruption("manifest object checksum mismatch", at: buffer.count - 8)
            }
            guard Array(try reader.readBytes(count: 8, "magic")) == Self.magic else { throw reader.corruption("not a manifest object (bad magic)") }
            let version = try reader.readFixed16("version")
            guard version == Self.version else {
                throw StrataError.incompatible(file: key, reason: "manifest object version \(version); this build reads \(Self.version)")
            }
            try reader.skip(2, "reserved")
            let nonce = try reader.readFixed32("writer nonce")
            let epoch = try reader.readFixed64("epoch")
            let number = try reader.readFixed64("number")
            let last = try reader.readFixed64("last sequence")
            let firstWAL = try reader.readFixed64("first WAL object")
            let count = try reader.readVarint32("file count")
            guard Int(count) <= buffer.count / 10 else { throw reader.corruption("file count \(count) cannot fit") }
            var files: [File] = []
            for index in 0..<Int(count) {
                let name = String(decoding: try reader.readLengthPrefixed("file \(index) name"), as: UTF8.self)
                let fileKey = String(decoding: try reader.readLengthPrefixed("file \(index) key"), as: UTF8.self)
                let size = try reader.readFixed64("file \(index) size")
                guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                    throw reader.corruption("file \(index) has an unusable name \(name.debugDescription)")
                }
                files.append(File(name: name, key: fileKey, size: size))
            }
            guard reader.remaining == 8 else { throw reader.corruption("\(reader.remaining - 8) unexpected bytes before the checksum") }
            var manifest = StoreManifest(epoch: epoch, number: number, lastSequence: last, firstWALObject: firstWAL, files: files)
            manifest.nonce = nonce
            return manifest
        }
        self = decoded
    }

    init(epoch: UInt64, number: UInt64, lastSequence: UInt64, firstWALObject: UInt64, files: [File]) {
        self.epoch = epoch
        self.number = number
        self.lastSequence = lastSequence
        self.firstWALObject = firstWALObject
        self.files = files
    }
}
