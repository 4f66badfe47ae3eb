import Encoding

/// The two-level iterator of a table: the index block's iterator picks data blocks, and a block
/// iterator walks the chosen block. Optional bounds limit it to user keys in
/// `[lowerBound, upperBound)`: the iterator becomes invalid instead of leaving the range, so a
/// bounded scan never reads blocks past its end.
///
/// Methods throw `StrataError.corruption` when a block they need is damaged, and `.io` when a
/// read fails.
public struct TableIterator: InternalIterator {
    let reader: TableReader
    private var index: BlockIterator?
    private var data: BlockIterator?
    private var dataOffset: UInt64?
    private var readahead = Readahead()
    /// Inclusive lower bound on user keys.
    public let lowerBound: [UInt8]?
    /// Exclusive upper bound on user keys.
    public let upperBound: [UInt8]?
    /// Whether the iterator is on an entry (inside the bounds).
    public private(set) var isValid = false
    /// The current entry, recorded after every move so reads are plain loads.
    public private(set) var key = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The current entry's value, borrowed until the next move (`InternalIterator.value`).
    public private(set) var value = UnsafeRawBufferPointer(start: nil, count: 0)

    init(reader: TableReader, lowerBound: [UInt8]?, upperBound: [UInt8]?) {
        self.reader = reader
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }

    /// Positions on the first entry (`InternalIterator.seekToFirst()`).
    public mutating func seekToFirst() throws {
        if let lowerBound {
            try seekUnbounded(to: InternalKey.seekKey(lowerBound, at: .max))
        } else {
            try ensureIndex()
            try index!.seekToFirst()
            try loadDataBlock { try $0.seekToFirst() }
            try skipEmptyBlocksForward()
        }
        checkBounds()
    }

    /// Positions on the last entry (`InternalIterator.seekToLast()`).
    public mutating func seekToLast() throws {
        if let upperBound {
            // The last entry before the upper bound: everything ≥ (upper, newest) is out.
            try seekForPrevUnbounded(to: InternalKey.seekKey(upperBound, at: .max), inclusive: false)
        } else {
            try ensureIndex()
            try index!.seekToLast()
            try loadDataBlock { try $0.seekToLast() }
            try skipEmptyBlocksBackward()
        }
        checkBounds()
    }

    /// Positions on the first entry ≥ `target`, an encoded internal key (`InternalIterator.seek(to:)`).
    public mutating func seek(to target: UnsafeRawBufferPointer) throws {
        if let lowerBound, lowerBound.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: target), $0) < 0 }) {
            try seekUnbounded(to: InternalKey.seekKey(lowerBound, at: .max))
        } else {
            try seekUnbounded(to: Array(target))
        }
        checkBounds()
    }

    /// Positions on the last entry ≤ `target`, an encoded internal key (`InternalIterator.seekForPrev(to:)`).
    public mutating func seekForPrev(to target: UnsafeRawBufferPointer) throws {
        if let upperBound, upperBound.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: target), $0) >= 0 }) {
            try seekForPrevUnbounded(to: InternalKey.seekKey(upperBound, at: .max), inclusive: false)
        } else {
            try seekForPrevUnbounded(to: Array(target), inclusive: true)
        }
        checkBounds()
    }

    /// Moves to the next entry (`InternalIterator.next()`).
    public mutating func next() throws {
        precondition(isValid, "next() on an invalid iterator")
        try data!.next()
        try skipEmptyBlocksForward()
        checkBounds()
    }

    /// Moves to the previous entry (`InternalIterator.prev()`).
    public mutating func prev() throws {
        precondition(isValid, "prev() on an invalid iterator")
        try data!.prev()
        try skipEmptyBlocksBackward()
        checkBounds()
    }

    // MARK: - Internal

    /// Creates the index iterator on first use. (Iterators are mutated in place, never copied:
    /// a block iterator's key buffer is a shared reference.)
    private mutating func ensureIndex() throws {
        if index == nil { index = BlockIterator(block: try reader.indexBlock()) }
    }

    /// Positions on the first entry ≥ `target`, ignoring bounds.
    private mutating func seekUnbounded(to target: [UInt8]) throws {
        try ensureIndex()
        try target.withUnsafeBytes { try index!.seek(to: $0) }
        try loadDataBlock { data in try target.withUnsafeBytes { try data.seek(to: $0) } }
        try skipEmptyBlocksForward()
    }

    /// Positions on the last entry ≤ `target` (or < `target` when not `inclusive`), ignoring bounds.
    private mutating func seekForPrevUnbounded(to target: [UInt8], inclusive: Bool) throws {
        try seekUnbounded(to: target)
        if !(data?.isValid ?? false) {
            try index!.seekToLast()
            try loadDataBlock { try $0.seekToLast() }
            try skipEmptyBlocksBackward()
            return
        }
        let order = target.withUnsafeBytes { InternalKeyComparator.compare(data!.key, $0) }
        if order > 0 || (order == 0 && !inclusive) {
            try data!.prev()
            try skipEmptyBlocksBackward()
        }
    }

    /// Opens the data block the index iterator points at (or clears the data iterator when the
    /// index is exhausted), then positions it with `position`.
    private mutating func loadDataBlock(_ position: (inout BlockIterator) throws -> Void) throws {
        guard let indexValid = index?.isValid, indexValid else {
            data = nil
            dataOffset = nil
            return
        }
        let handle = try BlockHandle(decoding: index!.value, file: reader.file.path, offset: Int(index!.block.fileOffset))
        if dataOffset != handle.offset || data == nil {
            readahead.noteRead(handle, reader: reader)
            data = BlockIterator(block: try reader.dataBlock(handle))
            dataOffset = handle.offset
        }
        try position(&data!)
    }

    private mutating func skipEmptyBlocksForward() throws {
        try skipEmptyBlocks(forward: true)
    }

    private mutating func skipEmptyBlocksBackward() throws {
        try skipEmptyBlocks(forward: false)
    }

    /// While the data iterator is exhausted, moves to the neighbouring data block.
    private mutating func skipEmptyBlocks(forward: Bool) throws {
        while !hasValidData() {
            guard index?.isValid == true else { return }
            if forward { try index!.next() } else { try index!.prev() }
            guard index!.isValid else {
                data = nil
                return
            }
            try loadDataBlock { forward ? try $0.seekToFirst() : try $0.seekToLast() }
        }
    }

    /// Records the data iterator's entry as the current one if it is inside the bounds.
    private mutating func checkBounds() {
        guard data != nil else {
            clearCurrent()
            return
        }
        let entry = data!.entry()
        guard entry.isValid else {
            clearCurrent()
            return
        }
        let entryKey = entry.key
        let userKey = InternalKey.userKey(of: entryKey)
        if let upperBound, upperBound.withUnsafeBytes({ BytewiseComparator.compare(userKey, $0) >= 0 }) {
            clearCurrent()
        } else if let lowerBound, lowerBound.withUnsafeBytes({ BytewiseComparator.compare(userKey, $0) < 0 }) {
            clearCurrent()
        } else {
            isValid = true
            key = entryKey
            value = entry.value
        }
    }

    /// Whether the data iterator is on an entry, read in place (`BlockIterator.entry()`).
    private mutating func hasValidData() -> Bool {
        data != nil && data!.isValidInPlace()
    }

    private mutating func clearCurrent() {
        isValid = false
        key = UnsafeRawBufferPointer(start: nil, count: 0)
        value = key
    }
}

/// An iterator's automatic read-ahead: after two data blocks read back to back in file order,
/// it hints the file to prefetch the bytes beyond the current block, a window that starts at
/// 8 KiB and doubles per hint up to `TableReaderOptions.maxReadaheadBytes`; any other access
/// pattern (a seek elsewhere, reading backwards) starts over. The next hint goes out when the
/// reads are halfway through the previous window, so a long scan costs one system call per
/// window and finds its blocks already read.
struct Readahead {
    static let initialWindow = 8 << 10

    /// Where the next block starts if the reads stay sequential.
    private var expected: UInt64 = .max
    private var sequentialReads = 0
    /// The end of the bytes already hinted.
    private var prefetchedEnd: UInt64 = 0
    private var window = Readahead.initialWindow

    mutating func noteRead(_ handle: BlockHandle, reader: TableReader) {
        let limit = reader.options.maxReadaheadBytes
        guard limit > 0 else { return }
        if handle.offset == expected {
            sequentialReads += 1
        } else {
            sequentialReads = 0
            prefetchedEnd = 0
            window = Readahead.initialWindow
        }
        let end = handle.offset + handle.size + UInt64(TableFormat.blockTrailerSize)
        expected = end
        guard sequentialReads >= 2, end < reader.fileSize else { return }
        let count = min(window, limit)
        // The next window is asked for once the reads are halfway through the previous one, so
        // its bytes arrive before they are needed.
        guard end + UInt64(count / 2) >= prefetchedEnd else { return }
        let start = max(end, prefetchedEnd)
        reader.file.prefetch(at: start, count: count)
        reader.options.statistics?.readaheads.add(1, ordering: .relaxed)
        prefetchedEnd = start + UInt64(count)
        window = min(window * 2, limit)
    }
}
