import Encoding
import VFS

// See Docs/formats/sstable.md.

/// Options for writing tables.
public struct TableBuilderOptions: Sendable {
    /// Target size of a data block before compression. Default 4 KiB.
    public var blockSize = 4096
    /// Entries between restart points in data blocks. Default 16.
    public var restartInterval = 16
    /// Block compression. Default LZ4.
    public var compression: Compression = .lz4
    /// Bloom filter bits per key; 0 disables the filter. Default 10 (about 1% false positives).
    public var bloomBitsPerKey = 10
    /// The user-space write buffer. Default 64 KiB.
    public var writeBufferSize = 64 * 1024
    /// The keyspace the table belongs to, recorded in its properties (0 and `""`: the default
    /// keyspace, recorded as nothing) so that a repair can put it back in its keyspace.
    public var keyspaceID: UInt32 = 0
    /// The keyspace's name (recorded with `keyspaceID`).
    public var keyspaceName = ""

    /// Default options.
    public init() {}
}

/// Streams sorted entries into a new table file.
///
/// Entries must arrive in internal-key order (a precondition: adding out of order traps, as in
/// LevelDB). Range tombstones may arrive in any order; they are few, so they are kept in memory
/// and sorted at `finish()`. Memory use is one block being built, the 64 KiB write buffer, the
/// index (one short key per data block) and 8 bytes of filter hash per distinct user key.
///
/// The file is written as `NNNNNN.sst.tmp`, synced, renamed to `NNNNNN.sst` and its directory
/// synced by `finish()`; `abandon()` deletes it.
///
/// Thread safety: not thread-safe; one owner builds a table.
public final class TableBuilder {
    /// The table's file number.
    public let fileNumber: UInt64
    /// The final path (`NNNNNN.sst`).
    public let path: String
    /// The options in use.
    public let options: TableBuilderOptions

    private let fileSystem: any FileSystem
    private let temporaryPath: String
    private let writer: BufferedFileWriter
    private let compressor: BlockCompressor
    private var dataBlock: BlockBuilder
    private var indexBlock = BlockBuilder(restartInterval: 1, capacity: 1024)
    private var pendingHandle: BlockHandle?
    private var lastKey: [UInt8] = []
    private var firstKey: [UInt8]? = nil
    private var filterHashes: [UInt64] = []
    private var tombstones: [RangeTombstone] = []
    private var properties = TableProperties()
    private var smallestSequence = UInt64.max
    private var largestSequence: UInt64 = 0
    private var finished = false

    /// Starts building table `fileNumber` in `directory`.
    ///
    /// - Throws: `invalidArgument` for options out of range (block size and restart interval
    ///   below 1, negative Bloom bits); `StrataError.io` when the file cannot be created.
    public init(fileSystem: any FileSystem, directory: String, fileNumber: UInt64, options: TableBuilderOptions = TableBuilderOptions()) throws {
        guard options.blockSize > 0 && options.restartInterval > 0 && options.bloomBitsPerKey >= 0 && options.bloomBitsPerKey <= 64 else {
            throw StrataError.invalidArgument("table builder options out of range (block size \(options.blockSize), restart interval \(options.restartInterval), Bloom bits \(options.bloomBitsPerKey))")
        }
        self.fileSystem = fileSystem
        self.fileNumber = fileNumber
        self.options = options
        self.path = Path.join(directory, TableFormat.fileName(for: fileNumber))
        self.temporaryPath = path + ".tmp"
        self.writer = BufferedFileWriter(try fileSystem.openWritable(temporaryPath, mode: .truncate), bufferSize: options.writeBufferSize)
        self.compressor = BlockCompressor(options.compression)
        self.dataBlock = BlockBuilder(restartInterval: options.restartInterval, capacity: options.blockSize)
        properties.codec = options.compression.description
        properties.filterBitsPerKey = UInt64(options.bloomBitsPerKey)
        properties.keyspaceID = options.keyspaceID
        properties.keyspaceName = options.keyspaceName
    }

    /// Point entries added so far.
    public var entryCount: UInt64 { properties.entries }

    /// Range tombstones added so far.
    public var rangeTombstoneCount: Int { tombstones.count }

    /// The file size so far (written bytes plus the block being built): what compaction compares
    /// against its target file size.
    public var estimatedFileSize: UInt64 { writer.offset + UInt64(dataBlock.estimatedSize) }

    /// The last point key added (encoded internal key), empty before the first.
    package var lastAddedKey: [UInt8] { lastKey }

    /// Adds a point entry; `key` is an internal key greater than every key added before.
    ///
    /// - Throws: `invalidArgument` (nothing is added) after `finish()`, for a key shorter than an
    ///   internal key's trailer, or for a key not above the previous one; `StrataError.io` when
    ///   writing fails (the builder is then unusable: `abandon()`).
    public func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        guard !finished else { throw StrataError.invalidArgument("add after finish") }
        guard key.count >= InternalKey.trailerSize else {
            throw StrataError.invalidArgument("internal key of \(key.count) bytes is shorter than its trailer")
        }
        if !lastKey.isEmpty, lastKey.withUnsafeBytes({ InternalKeyComparator.compare($0, key) }) >= 0 {
            throw StrataError.invalidArgument("table keys must be added in increasing order")
        }
        if let handle = pendingHandle {
            // The previous block's index entry waits for this key so its separator can be short.
            let separator = Separator.between(lastKey, key)
            addIndexEntry(separator, handle)
            pendingHandle = nil
        }
        let userKey = InternalKey.userKey(of: key)
        let newUserKey = lastKey.isEmpty || lastKey.withUnsafeBytes { BytewiseComparator.compare(InternalKey.userKey(of: $0), userKey) != 0 }
        if options.bloomBitsPerKey > 0 && newUserKey {
            filterHashes.append(BloomFilter.hash(userKey))
        }
        let trailer = InternalKey.trailer(of: key)
        let sequence = trailer >> 8
        smallestSequence = min(smallestSequence, sequence)
        largestSequence = max(largestSequence, sequence)
        properties.entries += 1
        if UInt8(truncatingIfNeeded: trailer) == ValueKind.delete.rawValue { properties.deletions += 1 }
        properties.rawKeyBytes += UInt64(key.count)
        properties.rawValueBytes += UInt64(value.count)
        if firstKey == nil { firstKey = Array(key) }
        lastKey.removeAll(keepingCapacity: true)
        lastKey.append(contentsOf: key)

        dataBlock.add(key: key, value: value)
        if dataBlock.estimatedSize >= options.blockSize {
            try flushDataBlock()
        }
    }

    /// Adds a point entry given as arrays.
    public func add(key: [UInt8], value: [UInt8]) throws {
        try key.withUnsafeBytes { key in try value.withUnsafeBytes { value in try add(key: key, value: value) } }
    }

    /// Adds a range tombstone deleting `[start, end)` at `sequence` (an empty range is ignored).
    ///
    /// - Throws: `invalidArgument` after `finish()`.
    public func addRangeTombstone(_ tombstone: RangeTombstone) throws {
        guard !finished else { throw StrataError.invalidArgument("add after finish") }
        guard BytewiseComparator.compare(tombstone.start, tombstone.end) < 0 else { return }
        tombstones.append(tombstone)
        smallestSequence = min(smallestSequence, tombstone.sequence.rawValue)
        largestSequence = max(largestSequence, tombstone.sequence.rawValue)
    }

    /// Writes the remaining blocks, the footer, syncs, and moves the file to its final name.
    ///
    /// - Returns: the table's metadata.
    /// - Throws: `invalidArgument` for a table with no entries and no tombstones (abandon it);
    ///   `StrataError.io` on write, sync or rename failure (the temporary file is left for
    ///   `abandon()` or startup cleanup).
    public func finish() throws -> TableMetadata {
        guard !finished else { throw StrataError.invalidArgument("finish called twice") }
        guard properties.entries > 0 || !tombstones.isEmpty else {
            throw StrataError.invalidArgument("a table needs at least one entry or range tombstone")
        }
        finished = true
        if !dataBlock.isEmpty { try flushDataBlock() }
        if let handle = pendingHandle {
            addIndexEntry(Separator.successor(of: lastKey), handle)
            pendingHandle = nil
        }
        var metaindex: [(String, BlockHandle)] = []
        if options.bloomBitsPerKey > 0 {
            let filter = BloomFilter.build(hashes: filterHashes, bitsPerKey: options.bloomBitsPerKey)
            metaindex.append((TableFormat.filterBlockName, try writeRawBlock(filter, compress: false)))
        }
        if !tombstones.isEmpty {
            metaindex.append((TableFormat.rangeDeletionBlockName, try writeTombstoneBlock()))
        }
        finishProperties()
        metaindex.append((TableFormat.propertiesBlockName, try writeRawBlock(properties.encoded, compress: false)))
        var metaBlock = BlockBuilder(restartInterval: 1, capacity: 256, order: .bytewise)
        for (name, handle) in metaindex.sorted(by: { $0.0 < $1.0 }) {
            Array(name.utf8).withUnsafeBytes { key in handle.encoded.withUnsafeBytes { metaBlock.add(key: key, value: $0) } }
        }
        let metaindexHandle = try writeRawBlock(metaBlock.finish(), compress: false)
        let indexHandle = try writeRawBlock(indexBlock.finish(), compress: false)
        try writer.append(Footer(metaindex: metaindexHandle, index: indexHandle).encoded)
        let size = writer.offset
        try writer.sync()
        try writer.close()
        try fileSystem.rename(temporaryPath, to: path)
        try fileSystem.syncDirectory(Path.directory(of: path))
        return TableMetadata(
            fileNumber: fileNumber, fileSize: size, smallest: properties.smallestKey, largest: properties.largestKey,
            smallestSequence: SequenceNumber(rawValue: properties.smallestSequence),
            largestSequence: SequenceNumber(rawValue: properties.largestSequence),
            entryCount: properties.entries, deletionCount: properties.deletions,
            rangeDeletionCount: properties.rangeDeletions)
    }

    /// Stops building and deletes the temporary file. Safe to call after a failure.
    public func abandon() {
        finished = true
        try? writer.close()
        try? fileSystem.removeFile(temporaryPath)
    }

    // MARK: - Internal

    private func addIndexEntry(_ separator: [UInt8], _ handle: BlockHandle) {
        separator.withUnsafeBytes { key in handle.encoded.withUnsafeBytes { indexBlock.add(key: key, value: $0) } }
    }

    private func flushDataBlock() throws {
        let contents = dataBlock.finish()
        pendingHandle = try writeRawBlock(contents, compress: true)
        properties.dataBlocks += 1
        dataBlock.reset()
    }

    /// Writes `contents` (compressed when asked and worthwhile) and its trailer.
    private func writeRawBlock(_ contents: [UInt8], compress: Bool) throws -> BlockHandle {
        try contents.withUnsafeBytes { raw in
            let (codec, payload) = compress ? compressor.compress(raw) : (CodecID.none, raw)
            let handle = BlockHandle(offset: writer.offset, size: UInt64(payload.count))
            try writer.append(payload)
            var trailer: (UInt8, UInt8, UInt8, UInt8, UInt8) = (codec.rawValue, 0, 0, 0, 0)
            try withUnsafeMutableBytes(of: &trailer) { bytes in
                bytes.storeBytes(of: TableFormat.blockChecksum(payload, codec: codec.rawValue).littleEndian, toByteOffset: 1, as: UInt32.self)
                try writer.append(UnsafeRawBufferPointer(bytes))
            }
            return handle
        }
    }

    private func writeTombstoneBlock() throws -> BlockHandle {
        tombstones.sort { a, b in
            let order = BytewiseComparator.compare(a.start, b.start)
            return order != 0 ? order < 0 : a.sequence > b.sequence
        }
        var block = BlockBuilder(restartInterval: options.restartInterval, capacity: 1024)
        var previous: [UInt8]? = nil
        for tombstone in tombstones {
            let key = tombstone.internalKey
            if key == previous { continue }  // an exact duplicate adds nothing
            previous = key
            key.withUnsafeBytes { key in tombstone.end.withUnsafeBytes { block.add(key: key, value: $0) } }
        }
        return try writeRawBlock(block.finish(), compress: true)
    }

    private func finishProperties() {
        properties.rangeDeletions = UInt64(tombstones.count)
        properties.smallestSequence = smallestSequence == UInt64.max ? 0 : smallestSequence
        properties.largestSequence = largestSequence
        properties.creationTimeMicros = WallClock.microsecondsSinceEpoch()
        var smallest = firstKey
        var largest: [UInt8]? = properties.entries > 0 ? lastKey : nil
        for tombstone in tombstones {
            let start = tombstone.internalKey
            if smallest.map({ InternalKeyComparator.compareArrays(start, $0) < 0 }) ?? true { smallest = start }
            let sentinel = InternalKey(userKey: tombstone.end, sequence: .max, kind: .rangeDelete).encoded
            if largest.map({ InternalKeyComparator.compareArrays(sentinel, $0) > 0 }) ?? true { largest = sentinel }
        }
        properties.smallestKey = smallest ?? []
        properties.largestKey = largest ?? []
    }
}
