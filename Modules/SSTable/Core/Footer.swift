import Encoding

// See Docs/formats/sstable.md ("Footer").

/// The fixed 48-byte footer at the end of a table: where the metaindex and index blocks are.
package struct Footer: Sendable, Equatable {
    /// The metaindex block.
    package var metaindex: BlockHandle
    /// The index block.
    package var index: BlockHandle
    /// The format version the table was written with.
    package var formatVersion: UInt32

    /// Creates a footer for the current format version.
    package init(metaindex: BlockHandle, index: BlockHandle) {
        self.metaindex = metaindex
        self.index = index
        self.formatVersion = TableFormat.formatVersion
    }

    /// The 48 encoded bytes.
    package var encoded: [UInt8] {
        var writer = ByteWriter(capacity: TableFormat.footerSize)
        writer.appendFixed64(metaindex.offset)
        writer.appendFixed64(metaindex.size)
        writer.appendFixed64(index.offset)
        writer.appendFixed64(index.size)
        writer.appendFixed32(formatVersion)
        let checksum = writer.bytes.withUnsafeBytes { Checksum.xxh3Low32($0) }
        writer.appendFixed32(checksum)
        writer.appendBytes(TableFormat.magic)
        return writer.bytes
    }

    /// Decodes and validates the footer of a table of `fileSize` bytes.
    ///
    /// - Throws: `StrataError.corruption` for a bad magic, checksum or handle;
    ///   `.incompatible` for a newer format version.
    package init(decoding bytes: UnsafeRawBufferPointer, file: String, fileSize: UInt64) throws {
        let footerOffset = Int(fileSize) - TableFormat.footerSize
        guard bytes.count == TableFormat.footerSize else {
            throw StrataError.corruption(file: file, offset: 0, reason: "file of \(fileSize) bytes is too short for a table footer")
        }
        guard bytes[40..<48].elementsEqual(TableFormat.magic) else {
            throw StrataError.corruption(file: file, offset: footerOffset + 40, reason: "not a Strata table (bad footer magic)")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        guard stored == Checksum.xxh3Low32(UnsafeRawBufferPointer(rebasing: bytes[0..<36])) else {
            throw StrataError.corruption(file: file, offset: footerOffset + 36, reason: "footer checksum mismatch")
        }
        var reader = ByteReader(bytes, file: file, baseOffset: footerOffset)
        metaindex = BlockHandle(offset: try reader.readFixed64(), size: try reader.readFixed64())
        index = BlockHandle(offset: try reader.readFixed64(), size: try reader.readFixed64())
        formatVersion = try reader.readFixed32()
        guard formatVersion >= 1 && formatVersion <= TableFormat.formatVersion else {
            throw StrataError.incompatible(
                file: file, reason: "table format version \(formatVersion) was written by a newer version of Strata (this build reads up to \(TableFormat.formatVersion))")
        }
        let limit = UInt64(footerOffset)
        for (name, handle) in [("metaindex", metaindex), ("index", index)] {
            guard handle.offset <= limit, handle.size <= limit,
                handle.offset + handle.size + UInt64(TableFormat.blockTrailerSize) <= limit
            else {
                throw StrataError.corruption(file: file, offset: footerOffset, reason: "\(name) handle \(handle.offset)+\(handle.size) lies outside the file")
            }
        }
    }
}
