import Encoding

// See Docs/formats/sstable.md.

/// Constants of the table format, shared by the builder and the reader.
public enum TableFormat {
    /// The footer's magic: ASCII "STRATSST".
    package static let magic: [UInt8] = Array("STRATSST".utf8)
    /// The format version this build writes and the newest it reads.
    package static let formatVersion: UInt32 = 1
    /// The fixed footer size at the end of every table.
    package static let footerSize = 48
    /// Codec id (1) + checksum (4) after every block.
    package static let blockTrailerSize = 5
    /// Metaindex names.
    package static let filterBlockName = "strata.filter.bloom"
    package static let rangeDeletionBlockName = "strata.rangedel"
    package static let propertiesBlockName = "strata.properties"
    /// Written into the properties block.
    package static let builderVersion = "strata 0.1 sstable v1"
    /// The largest block the reader accepts (a damaged handle must not make it allocate wildly).
    package static let maxBlockSize = 256 << 20

    /// The checksum stored in a block trailer: low 32 bits of XXH3-64 of the stored payload,
    /// seeded with the codec id so a damaged codec byte is detected too.
    @inlinable
    package static func blockChecksum(_ payload: UnsafeRawBufferPointer, codec: UInt8) -> UInt32 {
        Checksum.xxh3Low32(payload, seed: UInt64(codec))
    }

    /// `NNNNNN.sst`: the file number zero-padded to at least 6 digits.
    public static func fileName(for number: UInt64) -> String {
        String(number).leftPadded(to: 6) + ".sst"
    }

    /// The file number of a table file name, or `nil`.
    public static func fileNumber(fromFileName name: String) -> UInt64? {
        guard name.hasSuffix(".sst") else { return nil }
        let digits = name.dropLast(4)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}

/// The location of a block: its offset and the size of its stored payload (trailer excluded).
package struct BlockHandle: Sendable, Hashable {
    /// Offset of the block's first byte in the file.
    package var offset: UInt64
    /// Size of the stored payload.
    package var size: UInt64

    /// Creates a handle.
    package init(offset: UInt64, size: UInt64) {
        self.offset = offset
        self.size = size
    }

    /// Appends `offset | size` as varints.
    package func encode(into writer: inout ByteWriter) {
        writer.appendVarint64(offset)
        writer.appendVarint64(size)
    }

    /// The varint encoding.
    package var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 20)
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a varint handle.
    package init(from reader: inout ByteReader) throws {
        offset = try reader.readVarint64("block offset")
        size = try reader.readVarint64("block size")
    }

    /// Decodes a varint handle occupying all of `bytes`.
    package init(decoding bytes: UnsafeRawBufferPointer, file: String, offset: Int) throws {
        var reader = ByteReader(bytes, file: file, baseOffset: offset)
        try self.init(from: &reader)
        guard reader.isAtEnd else { throw reader.corruption("trailing bytes after a block handle") }
    }
}
