import Encoding

/// What `TableReader.verifyBlocks(_:)` checked so far.
public struct TableVerification: Sendable, Equatable {
    /// Data blocks read and checked (checksum, structure, key order).
    public var blocks = 0
    /// Point entries in those blocks.
    public var entries: UInt64 = 0

    /// Nothing checked yet.
    public init() {}
}

extension TableReader {
    /// Reads every data block in file order, checking its checksum, its structure and that its
    /// keys increase, and counts blocks and entries into `progress` as it goes (so after a
    /// failure `progress` says how far the check got). Finally compares the counts with the
    /// table's properties.
    ///
    /// Memory: one block at a time. Blocks are not put in the block cache.
    ///
    /// - Throws: `StrataError.corruption` naming the file and offset of the first problem.
    public func verifyBlocks(_ progress: inout TableVerification) throws {
        let index = try indexBlock()
        var handles = BlockIterator(block: index)
        try handles.seekToFirst()
        var previous: [UInt8] = []
        while handles.isValid {
            let handle = try BlockHandle(decoding: handles.value, file: file.path, offset: index.fileOffset)
            let block = try TableReader.readBlock(file: file, handle: handle, limit: fileSize, decompressor: BlockDecompressor())
            var entries = BlockIterator(block: block)
            try entries.seekToFirst()
            while entries.isValid {
                let key = entries.key
                if !previous.isEmpty, previous.withUnsafeBytes({ InternalKeyComparator.compare($0, key) }) >= 0 {
                    throw StrataError.corruption(file: file.path, offset: Int(handle.offset), reason: "keys out of order in the data block")
                }
                previous.removeAll(keepingCapacity: true)
                previous.append(contentsOf: key)
                progress.entries += 1
                try entries.next()
            }
            progress.blocks += 1
            try handles.next()
        }
        guard progress.entries == properties.entries else {
            throw StrataError.corruption(file: file.path, offset: 0, reason: "holds \(progress.entries) entries, its properties say \(properties.entries)")
        }
        guard UInt64(progress.blocks) == properties.dataBlocks else {
            throw StrataError.corruption(file: file.path, offset: 0, reason: "holds \(progress.blocks) data blocks, its properties say \(properties.dataBlocks)")
        }
    }
}
