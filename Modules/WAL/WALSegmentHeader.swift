import Encoding
import VFS
// See Docs/formats/wal.md ("Segment header").

/// The fixed 64-byte header at the start of every WAL segment.
package struct WALSegmentHeader: Sendable, Equatable {
    /// The owning database's identity.
    package var databaseID: DatabaseID
    /// The segment number; must equal the number in the file name.
    package var segmentNumber: UInt64
    /// When the segment was created, in microseconds since the Unix epoch.
    package var creationTimeMicros: UInt64
    /// The format version the segment was written with.
    package var formatVersion: UInt16

    /// Creates a header for a new segment with the current format version.
    package init(databaseID: DatabaseID, segmentNumber: UInt64, creationTimeMicros: UInt64) {
        self.databaseID = databaseID
        self.segmentNumber = segmentNumber
        self.creationTimeMicros = creationTimeMicros
        self.formatVersion = WALFormat.formatVersion
    }

    /// The 64 encoded bytes.
    package var encoded: [UInt8] {
        var writer = ByteWriter(capacity: WALFormat.segmentHeaderSize)
        writer.appendBytes(WALFormat.magic)
        writer.appendFixed16(formatVersion)
        writer.appendFixed16(0)
        writer.appendFixed32(UInt32(WALFormat.blockSize))
        writer.appendBytes(databaseID.bytes)
        writer.appendFixed64(segmentNumber)
        writer.appendFixed64(creationTimeMicros)
        writer.appendFixed64(0)
        let checksum = writer.bytes.withUnsafeBytes { Checksum.xxh3($0) }
        writer.appendFixed64(checksum)
        return writer.bytes
    }

    /// Decodes and validates a header's own integrity (magic, checksum, version, block size).
    ///
    /// Identity (UUID and segment number) is checked by `validate(file:expectedNumber:databaseID:)`.
    ///
    /// - Throws: `StrataError.corruption` for a damaged header, `.incompatible` for a newer
    ///   format version or another block size.
    package init(decoding bytes: UnsafeRawBufferPointer, file: String) throws {
        guard bytes.count >= WALFormat.segmentHeaderSize else {
            throw StrataError.corruption(file: file, offset: 0, reason: "segment header is \(bytes.count) of 64 bytes")
        }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<WALFormat.segmentHeaderSize]), file: file)
        let magic = try reader.readBytes(count: 8, "magic")
        guard magic.elementsEqual(WALFormat.magic) else {
            throw StrataError.corruption(file: file, offset: 0, reason: "not a WAL segment (bad magic)")
        }
        let stored = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
        let computed = Checksum.xxh3(UnsafeRawBufferPointer(rebasing: bytes[0..<56]))
        guard stored == computed else {
            throw StrataError.corruption(file: file, offset: 56, reason: "segment header checksum mismatch")
        }
        formatVersion = try reader.readFixed16("format version")
        guard formatVersion <= WALFormat.formatVersion, formatVersion >= 1 else {
            throw StrataError.incompatible(
                file: file, reason: "WAL format version \(formatVersion) was written by a newer version of Strata (this build reads up to \(WALFormat.formatVersion))")
        }
        _ = try reader.readFixed16("reserved")
        let blockSize = try reader.readFixed32("block size")
        guard blockSize == UInt32(WALFormat.blockSize) else {
            throw StrataError.incompatible(file: file, reason: "WAL block size \(blockSize), this build uses \(WALFormat.blockSize)")
        }
        databaseID = DatabaseID(bytes: try reader.readBytes(count: 16, "database UUID"))!
        segmentNumber = try reader.readFixed64("segment number")
        creationTimeMicros = try reader.readFixed64("creation time")
    }

    /// Checks that the header belongs to segment `expectedNumber` of database `databaseID`.
    ///
    /// - Throws: `StrataError.incompatible` naming the file and both values on a mismatch.
    package func validate(file: String, expectedNumber: UInt64, databaseID expected: DatabaseID) throws {
        guard segmentNumber == expectedNumber else {
            throw StrataError.incompatible(
                file: file,
                reason: "segment header says segment \(segmentNumber) but the file name says \(expectedNumber) (renamed or copied log file)")
        }
        guard databaseID == expected else {
            throw StrataError.incompatible(
                file: file,
                reason: "segment belongs to database \(databaseID), not to this database \(expected) (log file from another database)")
        }
    }
}
