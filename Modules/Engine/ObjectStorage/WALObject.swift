import Encoding

/// A WAL object: committed write batches shipped to the object store, or a writer's fence
/// (Docs/formats/object-store.md).
///
///     header (56 bytes): magic "STRWALOB" | version fixed16 | kind fixed16 | records fixed32 |
///                        epoch fixed64 | number fixed64 | first sequence fixed64 |
///                        last sequence fixed64 | header checksum fixed64 (XXH3 of bytes 0..<48)
///     records × count:   length fixed32 | checksum fixed64 (XXH3 of the payload) | payload
///
/// A payload is an encoded `WriteBatch`, its sequence number set, exactly as in the local log.
struct WALObject: Sendable, Equatable {
    static let magic = Array("STRWALOB".utf8)
    static let version: UInt16 = 1
    static let headerSize = 56

    enum Kind: UInt16, Sendable {
        case records = 0
        case fence = 1
    }

    var kind: Kind
    var epoch: UInt64
    var number: UInt64
    var firstSequence: UInt64
    var lastSequence: UInt64
    var records: [[UInt8]]

    init(kind: Kind, epoch: UInt64, number: UInt64, firstSequence: UInt64, lastSequence: UInt64, records: [[UInt8]]) {
        self.kind = kind
        self.epoch = epoch
        self.number = number
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.records = records
    }

    /// The object's bytes.
    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + records.reduce(0) { $0 + 12 + $1.count })
        writer.appendBytes(Self.magic)
        writer.appendFixed16(Self.version)
        writer.appendFixed16(kind.rawValue)
        writer.appendFixed32(UInt32(records.count))
        writer.appendFixed64(epoch)
        writer.appendFixed64(number)
        writer.appendFixed64(firstSequence)
        writer.appendFixed64(lastSequence)
        writer.appendFixed64(Checksum.xxh3(Array(writer.bytes[0..<48])))
        for record in records {
            writer.appendFixed32(UInt32(record.count))
            writer.appendFixed64(Checksum.xxh3(record))
            writer.appendBytes(record)
        }
        return writer.bytes
    }

    /// Decodes and checks an object.
    ///
    /// - Throws: `StrataError.corruption` naming `key` and the offset for a wrong magic, version,
    ///   checksum, count, or length.
    init(decoding bytes: [UInt8], key: String) throws {
        let decoded = try bytes.withUnsafeBytes { buffer -> WALObject in
            var reader = ByteReader(buffer, file: key)
            guard buffer.count >= Self.headerSize else { throw reader.corruption("a WAL object is \(buffer.count) bytes, shorter than its 56-byte header") }
            let magic = try reader.readBytes(count: 8, "magic")
            guard Array(magic) == Self.magic else { throw reader.corruption("not a WAL object (bad magic)", at: -8) }
            let version = try reader.readFixed16("version")
            guard version == Self.version else {
                throw StrataError.incompatible(file: key, reason: "WAL object version \(version); this build reads \(Self.version)")
            }
            let kindValue = try reader.readFixed16("kind")
            let count = try reader.readFixed32("record count")
            let epoch = try reader.readFixed64("epoch")
            let number = try reader.readFixed64("number")
            let first = try reader.readFixed64("first sequence")
            let last = try reader.readFixed64("last sequence")
            let expected = try reader.readFixed64("header checksum")
            guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: buffer[0..<48])) == expected else {
                throw reader.corruption("WAL object header checksum mismatch", at: -8)
            }
            guard let kind = Kind(rawValue: kindValue) else { throw reader.corruption("unknown WAL object kind \(kindValue)", at: -48) }
            guard Int(count) <= (buffer.count - Self.headerSize) / 12 else {
                throw reader.corruption("record count \(count) cannot fit in \(buffer.count) bytes", at: -44)
            }
            var records: [[UInt8]] = []
            records.reserveCapacity(Int(count))
            for index in 0..<Int(count) {
                let length = try reader.readFixed32("record \(index) length")
                let checksum = try reader.readFixed64("record \(index) checksum")
                let payload = try reader.readBytes(count: Int(length), "record \(index)")
                guard Checksum.xxh3(payload) == checksum else { throw reader.corruption("record \(index) checksum mismatch", at: -Int(length)) }
                records.append(Array(payload))
            }
            guard reader.isAtEnd else { throw reader.corruption("\(reader.remaining) bytes after the last record") }
            return WALObject(kind: kind, epoch: epoch, number: number, firstSequence: first, lastSequence: last, records: records)
        }
        self = decoded
    }
}
