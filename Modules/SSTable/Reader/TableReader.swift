import Encoding
import Synchronization
import VFS

// See Docs/formats/sstable.md.

/// Options for reading tables.
public struct TableReaderOptions: Sendable {
    /// The block cache shared by all readers (`nil`: no caching of data blocks).
    public var blockCache: BlockCache?
    /// When `true`, index and filter blocks go through the block cache like data blocks instead
    /// of staying pinned in the reader (saves memory with very many open tables).
    public var cacheIndexAndFilterBlocks = false
    /// Counters shared by all readers.
    package var statistics: TableReadStatistics?
    /// When `true` (the default), `open(path:…)` maps the file read-only where the file system
    /// can: uncompressed blocks are then parsed in place — no system call, no copy, and no
    /// block-cache entry (the page cache already holds them), checksum-verified the first time
    /// each is used after the open — while compressed
    /// blocks are decompressed from the mapping into the block cache as before.
    public var useMappedReads = true
    /// The largest read-ahead window of an iterator that reads data blocks one after another
    /// (RocksDB's auto read-ahead): from the third consecutive block on, it asks the file to
    /// prefetch the bytes ahead, starting at 8 KiB and doubling up to this. 0 disables it.
    /// Default 256 KiB.
    public var maxReadaheadBytes = 256 << 10

    /// Default options.
    public init(blockCache: BlockCache? = nil) {
        self.blockCache = blockCache
    }
}

/// Read counters shared by table readers (for the engine's statistics).
package final class TableReadStatistics: Sendable {
    /// Point lookups the Bloom filter answered "absent" (a data block read saved).
    package let filterNegatives = Atomic<UInt64>(0)
    /// Point lookups the filter let through.
    package let filterPositives = Atomic<UInt64>(0)
    /// Filter positives for keys that turned out absent.
    package let filterFalsePositives = Atomic<UInt64>(0)
    /// Blocks read from files (cache misses and uncached reads).
    package let blocksRead = Atomic<UInt64>(0)
    /// Bytes read from files.
    package let bytesRead = Atomic<UInt64>(0)
    /// Read-ahead hints iterators gave (`TableReaderOptions.maxReadaheadBytes`).
    package let readaheads = Atomic<UInt64>(0)

    /// Zeroed counters.
    package init() {}
}

/// An open table: footer, index, filter, range tombstones and properties validated and loaded,
/// data blocks read on demand — in place from a read-only mapping when the file is mapped
/// (`TableReaderOptions.useMappedReads`), otherwise with `pread` through the block cache.
///
/// Every byte is checksum-verified before use; damage is reported as
/// `StrataError.corruption(file:offset:reason:)`, never as a crash or a wrong answer.
///
/// Thread safety: immutable after `open`; any number of threads may read concurrently.
public final class TableReader: Sendable {
    /// The file.
    public let file: any ReadableFile
    /// The table's file number.
    public let fileNumber: UInt64
    /// The file's size.
    public let fileSize: UInt64
    /// The table's properties.
    public let properties: TableProperties
    /// The table's range tombstones, in (start ASC, sequence DESC) order.
    public let rangeTombstones: [RangeTombstone]
    let fragments: RangeTombstoneFragments
    let footer: Footer
    let filterHandle: BlockHandle?
    /// Pinned index and filter (nil when they live in the block cache).
    let pinnedIndex: Block?
    let pinnedFilter: BloomFilterReader?
    let options: TableReaderOptions
    /// This reader's block cache namespace.
    let cacheID: UInt64
    /// Blocks used in place from the mapping that already passed their checksum (`nil` when
    /// the file is not mapped).
    let verifiedBlocks: VerifiedBlockMemo?
    /// Decompressors are not thread-safe: a small pool shared by the reader's threads.
    private let decompressors = Locked<[PooledDecompressor]>([])

    /// Opens and validates a table.
    ///
    /// - Throws: `StrataError.corruption` naming the file and offset for a short file, a bad
    ///   footer, or any damaged index, filter, range-tombstone, properties or metaindex block;
    ///   `.incompatible` for a newer format version; `.io` for read failures.
    public static func open(file: any ReadableFile, fileNumber: UInt64, options: TableReaderOptions = TableReaderOptions()) throws -> TableReader {
        try TableReader(file: file, fileNumber: fileNumber, options: options)
    }

    /// Opens the table at `path`.
    public static func open(path: String, fileNumber: UInt64, fileSystem: any FileSystem, options: TableReaderOptions = TableReaderOptions()) throws -> TableReader {
        let file = options.useMappedReads ? try fileSystem.openMappedReadable(path) : try fileSystem.openReadable(path)
        return try TableReader(file: file, fileNumber: fileNumber, options: options)
    }

    private init(file: any ReadableFile, fileNumber: UInt64, options: TableReaderOptions) throws {
        self.file = file
        self.fileNumber = fileNumber
        self.options = options
        self.cacheID = BlockCache.newCacheID()
        let size = try file.size()
        self.fileSize = size
        guard size >= UInt64(TableFormat.footerSize) else {
            throw StrataError.corruption(file: file.path, offset: 0, reason: "file of \(size) bytes is too short to be a table")
        }
        footer = try file.readExactly(at: size - UInt64(TableFormat.footerSize), count: TableFormat.footerSize).withBytes {
            try Footer(decoding: $0, file: file.path, fileSize: size)
        }

        // The metaindex names the other meta blocks.
        let metaindex = try TableReader.readBlock(file: file, handle: footer.metaindex, limit: size, decompressor: BlockDecompressor())
        var handles: [String: BlockHandle] = [:]
        var iterator = BlockIterator(block: metaindex, internalKeys: false)
        try iterator.seekToFirst()
        while iterator.isValid {
            let name = String(decoding: iterator.key, as: UTF8.self)
            handles[name] = try BlockHandle(decoding: iterator.value, file: file.path, offset: Int(footer.metaindex.offset))
            try iterator.next()
        }
        guard let propertiesHandle = handles[TableFormat.propertiesBlockName] else {
            throw StrataError.corruption(file: file.path, offset: Int(footer.metaindex.offset), reason: "table has no properties block")
        }
        let decompressor = BlockDecompressor()
        let propertiesBlock = try TableReader.readPayload(file: file, handle: propertiesHandle, limit: size, decompressor: decompressor)
        properties = try withExtendedLifetime(propertiesBlock.owner) {
            try TableProperties(decoding: propertiesBlock.bytes, file: file.path, offset: Int(propertiesHandle.offset))
        }
        guard properties.comparator == BytewiseComparator.name else {
            throw StrataError.incompatible(file: file.path, reason: "table ordered by \(properties.comparator), not \(BytewiseComparator.name)")
        }

        var tombstones: [RangeTombstone] = []
        if let handle = handles[TableFormat.rangeDeletionBlockName] {
            let block = try TableReader.readBlock(file: file, handle: handle, limit: size, decompressor: decompressor)
            var entries = BlockIterator(block: block)
            try entries.seekToFirst()
            while entries.isValid {
                tombstones.append(try RangeTombstone(internalKey: entries.key, end: entries.value, file: file.path, offset: Int(handle.offset)))
                try entries.next()
            }
        }
        rangeTombstones = tombstones
        fragments = RangeTombstoneFragments(tombstones)
        verifiedBlocks = file.mappedBytes == nil ? nil : VerifiedBlockMemo(dataBlocks: properties.dataBlocks, fileSize: size)

        filterHandle = handles[TableFormat.filterBlockName]
        if options.cacheIndexAndFilterBlocks && options.blockCache != nil {
            pinnedIndex = nil
            pinnedFilter = nil
        } else {
            pinnedIndex = try TableReader.readBlock(file: file, handle: footer.index, limit: size, decompressor: decompressor)
            if let handle = filterHandle {
                let payload = try TableReader.readPayload(file: file, handle: handle, limit: size, decompressor: decompressor)
                pinnedFilter = try BloomFilterReader(base: payload.base, size: payload.count, owner: payload.owner, file: file.path, offset: Int(handle.offset))
            } else {
                pinnedFilter = nil
            }
        }
        // Validate index and filter now even when they will live in the cache.
        if pinnedIndex == nil { _ = try indexBlock() }
        if pinnedFilter == nil, filterHandle != nil { _ = try filter() }
    }

    // MARK: - Lookups

    /// The newest version of `userKey` visible at `snapshot` in this table, resolved against the
    /// table's range tombstones. Consults the Bloom filter first, then reads one data block.
    public func get(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber = .max) throws -> LookupResult {
        let covering = fragments.isEmpty ? nil : fragments.newestCovering(userKey, at: snapshot)
        if let filter = try filter() {
            if !filter.mayContain(userKey) {
                options.statistics?.filterNegatives.add(1, ordering: .relaxed)
                return RangeTombstoneRule.resolve(.notFound, pointSequence: 0, coveringTombstone: covering)
            }
            options.statistics?.filterPositives.add(1, ordering: .relaxed)
        }
        var found: LookupResult = .notFound
        var pointSequence: UInt64 = 0
        try withUnsafeTemporaryAllocation(byteCount: userKey.count + InternalKey.trailerSize, alignment: 8) { seekKey in
            if userKey.count > 0 { seekKey.baseAddress!.copyMemory(from: userKey.baseAddress!, byteCount: userKey.count) }
            seekKey.storeBytes(of: InternalKey.seekTrailer(snapshot).littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            guard let (sequence, result) = try newestVersion(userKey, seekKey: UnsafeRawBufferPointer(seekKey)) else { return }
            pointSequence = sequence
            found = result
        }
        if found == .notFound, filterHandle != nil { options.statistics?.filterFalsePositives.add(1, ordering: .relaxed) }
        return RangeTombstoneRule.resolve(found, pointSequence: pointSequence, coveringTombstone: covering)
    }

    /// The first entry ≥ `seekKey` if it belongs to `userKey`: its sequence and what it says.
    ///
    /// The index and data blocks are searched in place (restart keys compared where they lie, the
    /// scanned keys rebuilt in a stack buffer): a lookup allocates only the returned value.
    private func newestVersion(_ userKey: UnsafeRawBufferPointer, seekKey: UnsafeRawBufferPointer) throws -> (UInt64, LookupResult)? {
        let index = try indexBlock()
        // Raw pointers into the index block are read below: keep it alive to the end.
        defer { withExtendedLifetime(index) {} }
        // Index blocks have a restart point per entry: the binary search finds the block directly.
        var position = try index.lastRestart(before: seekKey, internalKeys: true)
        if try InternalKeyComparator.compare(index.restartKey(position, internalKeys: true), seekKey) < 0 { position += 1 }
        while position < index.restartCount {
            let header = try index.entryHeader(at: index.restart(position))
            let handleBytes = UnsafeRawBufferPointer(start: index.base + header.keyStart + header.unshared, count: header.valueLength)
            let block = try dataBlock(try BlockHandle(decoding: handleBytes, file: file.path, offset: index.fileOffset))
            let outcome = try withUnsafeTemporaryAllocation(byteCount: 512, alignment: 8) { scratch in
                try block.firstEntry(atOrAfter: seekKey, scratch: scratch) { key, value in
                    try decodeVersion(userKey, key: key, value: value)
                }
            }
            switch outcome {
            case .found(let version): return version
            case .pastEnd: position += 1  // the separator was above the block's last key: next block
            case .needsLargerScratch: return try newestVersionSlowPath(userKey, seekKey: seekKey)
            }
        }
        return nil
    }

    /// The same search through a table iterator, for keys longer than the stack buffer.
    private func newestVersionSlowPath(_ userKey: UnsafeRawBufferPointer, seekKey: UnsafeRawBufferPointer) throws -> (UInt64, LookupResult)? {
        var iterator = makeIterator()
        try iterator.seek(to: seekKey)
        guard iterator.isValid else { return nil }
        return try decodeVersion(userKey, key: iterator.key, value: iterator.value)
    }

    /// What an entry says about `userKey`, or `nil` when it belongs to another key.
    private func decodeVersion(_ userKey: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> (UInt64, LookupResult)? {
        guard BytewiseComparator.compare(InternalKey.userKey(of: key), userKey) == 0 else { return nil }
        let trailer = InternalKey.trailer(of: key)
        switch UInt8(truncatingIfNeeded: trailer) {
        case ValueKind.put.rawValue: return (trailer >> 8, .value(Array(value)))
        case ValueKind.delete.rawValue: return (trailer >> 8, .deleted)
        case let kind: throw StrataError.corruption(file: file.path, offset: 0, reason: "data block entry with kind \(kind)")
        }
    }

    /// The sequence of the newest thing this table says about `userKey` — its newest point
    /// version or the newest range tombstone covering it — or `nil` when it says nothing
    /// (a transaction's conflict check).
    package func newestSequence(_ userKey: UnsafeRawBufferPointer) throws -> UInt64? {
        let covering = fragments.isEmpty ? nil : fragments.newestCovering(userKey, at: .max)
        if let filter = try filter(), !filter.mayContain(userKey) { return covering }
        var point: UInt64? = nil
        try withUnsafeTemporaryAllocation(byteCount: userKey.count + InternalKey.trailerSize, alignment: 8) { seekKey in
            if userKey.count > 0 { seekKey.baseAddress!.copyMemory(from: userKey.baseAddress!, byteCount: userKey.count) }
            seekKey.storeBytes(of: InternalKey.seekTrailer(.max).littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            point = try newestVersion(userKey, seekKey: UnsafeRawBufferPointer(seekKey))?.0
        }
        switch (point, covering) {
        case let (point?, covering?): return max(point, covering)
        case let (point, covering): return point ?? covering
        }
    }

    /// The newest version of `userKey` visible at `snapshot`.
    public func get(_ userKey: [UInt8], at snapshot: SequenceNumber = .max) throws -> LookupResult {
        try userKey.withUnsafeBytes { try get($0, at: snapshot) }
    }

    /// `false` only when the table certainly holds no entry for `userKey` (always `true` without
    /// a filter).
    public func mayContain(_ userKey: UnsafeRawBufferPointer) throws -> Bool {
        try filter()?.mayContain(userKey) ?? true
    }

    /// The sequence of the newest range tombstone of this table covering `userKey` at `snapshot`.
    public func newestCoveringTombstone(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber) -> UInt64? {
        fragments.newestCovering(userKey, at: snapshot)
    }

    /// An iterator over the table's point entries, limited to user keys in
    /// `[lowerBound, upperBound)` when bounds are given.
    public func makeIterator(lowerBound: [UInt8]? = nil, upperBound: [UInt8]? = nil) -> TableIterator {
        TableIterator(reader: self, lowerBound: lowerBound, upperBound: upperBound)
    }

    // MARK: - Blocks

    func indexBlock() throws -> Block {
        if let pinnedIndex { return pinnedIndex }
        return try dataBlock(footer.index)
    }

    func filter() throws -> BloomFilterReader? {
        if let pinnedFilter { return pinnedFilter }
        guard let handle = filterHandle else { return nil }
        let block = try dataBlock(handle, validateRestarts: false)
        return try BloomFilterReader(base: block.base, size: block.restartsOffset, owner: block, file: file.path, offset: Int(handle.offset))
    }

    /// A data (or cached meta) block, from the cache or the file.
    func dataBlock(_ handle: BlockHandle, validateRestarts: Bool = true) throws -> Block {
        if validateRestarts, let mapped = file.mappedBytes, TableReader.isUncompressed(handle, in: mapped) {
            // In place, never cached: verified on first use, then remembered (the mapping is of
            // an immutable file), like a block that entered the block cache.
            let verified = verifiedBlocks?.contains(offset: handle.offset, size: handle.size) ?? false
            let block = try TableReader.readBlock(file: file, handle: handle, limit: fileSize, decompressor: nil, verifyChecksum: !verified)
            if !verified { verifiedBlocks?.insert(offset: handle.offset, size: handle.size) }
            options.statistics?.blocksRead.add(1, ordering: .relaxed)
            options.statistics?.bytesRead.add(handle.size + UInt64(TableFormat.blockTrailerSize), ordering: .relaxed)
            return block
        }
        let key = BlockCache.Key(cacheID: cacheID, offset: handle.offset)
        if let cache = options.blockCache, let block = cache.lookup(key) { return block }
        let pooled = decompressors.withLock { $0.popLast() } ?? PooledDecompressor()
        defer { decompressors.withLock { if $0.count < 8 { $0.append(pooled) } } }
        let decompressor = pooled.decompressor
        let block: Block
        if validateRestarts {
            block = try TableReader.readBlock(file: file, handle: handle, limit: fileSize, decompressor: decompressor)
        } else {
            // A filter is not in block format: wrap its payload without a restart array.
            let payload = try TableReader.readPayload(file: file, handle: handle, limit: fileSize, decompressor: decompressor)
            block = Block(unstructured: payload, file: file.path, fileOffset: Int(handle.offset))
        }
        options.statistics?.blocksRead.add(1, ordering: .relaxed)
        options.statistics?.bytesRead.add(handle.size + UInt64(TableFormat.blockTrailerSize), ordering: .relaxed)
        options.blockCache?.insert(key, block)
        return block
    }

    /// Whether the block at `handle` is stored uncompressed, peeking at its trailer in the
    /// mapping (`false` when the handle does not fit: the read then reports the damage).
    static func isUncompressed(_ handle: BlockHandle, in mapped: UnsafeRawBufferPointer) -> Bool {
        guard handle.size <= UInt64(TableFormat.maxBlockSize), handle.offset < UInt64(mapped.count),
            handle.size < UInt64(mapped.count) - handle.offset
        else { return false }
        return mapped[Int(handle.offset + handle.size)] == CodecID.none.rawValue
    }

    /// Reads, verifies and decompresses the block at `handle` (`decompressor` may be `nil` only
    /// for a block known to be uncompressed). From a mapped file, an uncompressed block is
    /// returned in place (no allocation, no copy); otherwise into a new buffer.
    ///
    /// `verifyChecksum: false` is only for an uncompressed block already verified since the
    /// mapping was made (`VerifiedBlockMemo`); bounds are checked either way.
    static func readPayload(file: any ReadableFile, handle: BlockHandle, limit: UInt64, decompressor: BlockDecompressor?, verifyChecksum: Bool = true) throws -> BlockPayload {
        let end = limit - UInt64(TableFormat.footerSize)
        guard handle.size <= UInt64(TableFormat.maxBlockSize), handle.offset <= end,
            handle.size + UInt64(TableFormat.blockTrailerSize) <= end - handle.offset
        else {
            throw StrataError.corruption(file: file.path, offset: Int(clamping: handle.offset), reason: "block handle \(handle.offset)+\(handle.size) lies outside the table")
        }
        let size = Int(handle.size)
        let raw: BlockPayload
        if let mapped = file.mappedBytes, let base = mapped.baseAddress, UInt64(mapped.count) >= limit {
            // In place in the mapping (bounds checked above against `limit`, the mapped size).
            raw = BlockPayload(base: base + Int(handle.offset), count: size + TableFormat.blockTrailerSize, owner: file, ownedBytes: 0)
        } else {
            let buffer = try file.readExactly(at: handle.offset, count: size + TableFormat.blockTrailerSize)
            raw = BlockPayload(base: buffer.base, count: buffer.count, owner: buffer, ownedBytes: buffer.count)
        }
        return try withExtendedLifetime(raw.owner) {
            let payload = UnsafeRawBufferPointer(start: raw.base, count: size)
            let codec = raw.base.load(fromByteOffset: size, as: UInt8.self)
            let stored = UInt32(littleEndian: raw.base.loadUnaligned(fromByteOffset: size + 1, as: UInt32.self))
            guard !verifyChecksum || TableFormat.blockChecksum(payload, codec: codec) == stored else {
                throw StrataError.corruption(file: file.path, offset: Int(handle.offset), reason: "block checksum mismatch")
            }
            if codec == CodecID.none.rawValue {
                return BlockPayload(base: raw.base, count: size, owner: raw.owner, ownedBytes: raw.ownedBytes)
            }
            guard let decompressor else {
                throw StrataError.corruption(file: file.path, offset: Int(handle.offset), reason: "block codec changed while being read")
            }
            let decompressed = try decompressor.decompress(payload, codecByte: codec, file: file.path, offset: Int(handle.offset))
            return BlockPayload(base: decompressed.base, count: decompressed.count, owner: decompressed, ownedBytes: decompressed.count)
        }
    }

    /// Reads, verifies, decompresses and parses the block at `handle`.
    static func readBlock(file: any ReadableFile, handle: BlockHandle, limit: UInt64, decompressor: BlockDecompressor?, verifyChecksum: Bool = true) throws -> Block {
        let payload = try readPayload(file: file, handle: handle, limit: limit, decompressor: decompressor, verifyChecksum: verifyChecksum)
        return try Block(payload: payload, file: file.path, fileOffset: Int(handle.offset))
    }
}

/// A decompressor held by exactly one thread at a time: taken from a reader's pool under its lock,
/// used, and put back. `@unchecked Sendable` because that hand-off, not the type, makes it safe.
final class PooledDecompressor: @unchecked Sendable {
    let decompressor = BlockDecompressor()
}
