import Encoding
import Manifest
import SSTable

/// Iterates the files of one level ≥ 1 (sorted, non-overlapping) — or any such list of files —
/// as one sorted stream, opening one table at a time through the table cache.
///
/// A single level-0 file is iterated as a one-file list. Optional user-key bounds are passed to
/// the table iterators, which stop at them.
public struct LevelIterator: InternalIterator {
    let files: [FileMetadata]
    let tableCache: TableCache
    let lowerBound: [UInt8]?
    let upperBound: [UInt8]?
    /// Reads through private uncached readers (`TableCache.streamingReader`): for compactions.
    let streaming: Bool
    private var index: Int
    /// The open table's iterator, boxed: an optional struct this size would be copied each time
    /// it is unwrapped to be read.
    private var table: TableCursor?
    /// The current entry, refreshed after every move (`settle()`), so reading it does not
    /// unwrap — and copy — the optional table iterator.
    public private(set) var key = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The current entry's value, borrowed until the next move (`InternalIterator.value`).
    public private(set) var value = UnsafeRawBufferPointer(start: nil, count: 0)
    /// `true` when positioned on an entry (`InternalIterator.isValid`).
    public private(set) var isValid = false

    /// Iterates `files` (sorted by key, non-overlapping). With `streaming`, each file is read
    /// once through a private uncached reader (`TableCache.streamingReader`), as a compaction
    /// should; otherwise through the shared readers and block cache.
    public init(files: [FileMetadata], tableCache: TableCache, lowerBound: [UInt8]? = nil, upperBound: [UInt8]? = nil, streaming: Bool = false) {
        self.files = files
        self.tableCache = tableCache
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        self.streaming = streaming
        self.index = files.count
    }

    /// Positions on the first entry (`InternalIterator.seekToFirst()`).
    public mutating func seekToFirst() throws {
        try open(0)
        try table?.iterator.seekToFirst()
        try skipForward()
        settle()
    }

    /// Positions on the last entry (`InternalIterator.seekToLast()`).
    public mutating func seekToLast() throws {
        try open(files.count - 1)
        try table?.iterator.seekToLast()
        try skipBackward()
        settle()
    }

    /// Positions on the first entry ≥ `target`, an encoded internal key (`InternalIterator.seek(to:)`).
    public mutating func seek(to target: UnsafeRawBufferPointer) throws {
        // The first file whose largest key is ≥ target.
        var low = 0
        var high = files.count
        while low < high {
            let middle = (low + high) / 2
            if files[middle].largest.withUnsafeBytes({ InternalKeyComparator.compare($0, target) }) < 0 {
                low = middle + 1
            } else {
                high = middle
            }
        }
        try open(low)
        try table?.iterator.seek(to: target)
        try skipForward()
        settle()
    }

    /// Positions on the last entry ≤ `target`, an encoded internal key (`InternalIterator.seekForPrev(to:)`).
    public mutating func seekForPrev(to target: UnsafeRawBufferPointer) throws {
        // The last file whose smallest key is ≤ target.
        var low = 0
        var high = files.count
        while low < high {
            let middle = (low + high) / 2
            if files[middle].smallest.withUnsafeBytes({ InternalKeyComparator.compare($0, target) }) <= 0 {
                low = middle + 1
            } else {
                high = middle
            }
        }
        try open(low - 1)
        try table?.iterator.seekForPrev(to: target)
        try skipBackward()
        settle()
    }

    /// Moves to the next entry (`InternalIterator.next()`).
    public mutating func next() throws {
        precondition(isValid, "next() on an invalid iterator")
        try table!.iterator.next()
        try skipForward()
        settle()
    }

    /// Moves to the previous entry (`InternalIterator.prev()`).
    public mutating func prev() throws {
        precondition(isValid, "prev() on an invalid iterator")
        try table!.iterator.prev()
        try skipBackward()
        settle()
    }

    // MARK: - Internal

    /// Records the table iterator's current entry (or none).
    private mutating func settle() {
        if let cursor = table, cursor.iterator.isValid {
            isValid = true
            key = cursor.iterator.key
            value = cursor.iterator.value
        } else {
            isValid = false
            key = UnsafeRawBufferPointer(start: nil, count: 0)
            value = key
        }
    }

    /// Whether every key of `file` is at or past the upper bound (no need to open it).
    private func startsAtOrAfterUpperBound(_ file: FileMetadata) -> Bool {
        guard let upperBound else { return false }
        return BytewiseComparator.compare(file.smallestUserKey, upperBound) >= 0
    }

    /// Whether every key of `file` is below the lower bound.
    private func endsBeforeLowerBound(_ file: FileMetadata) -> Bool {
        guard let lowerBound else { return false }
        return BytewiseComparator.compare(file.largestUserKey, lowerBound) < 0
    }

    /// Opens file `position` (or clears the iterator when out of range).
    private mutating func open(_ position: Int) throws {
        guard position >= 0 && position < files.count else {
            index = files.count
            table = nil
            return
        }
        if index == position && table != nil { return }
        index = position
        let file = files[position]
        let reader = streaming
            ? try tableCache.streamingReader(for: file.fileNumber, expectedSize: file.fileSize)
            : try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize)
        table = TableCursor(reader.makeIterator(lowerBound: lowerBound, upperBound: upperBound))
    }

    private mutating func skipForward() throws {
        while let cursor = table, !cursor.iterator.isValid {
            guard index + 1 < files.count, !startsAtOrAfterUpperBound(files[index + 1]) else {
                table = nil
                return
            }
            try open(index + 1)
            try table?.iterator.seekToFirst()
        }
    }

    private mutating func skipBackward() throws {
        while let cursor = table, !cursor.iterator.isValid {
            guard index > 0, !endsBeforeLowerBound(files[index - 1]) else {
                table = nil
                return
            }
            try open(index - 1)
            try table?.iterator.seekToLast()
        }
    }
}

/// A table iterator in a box, mutated in place through the reference.
final class TableCursor {
    // Unchecked: a box belongs to one level iterator, used by one thread, and each access is a
    // single call on the iterator.
    @exclusivity(unchecked) var iterator: TableIterator

    init(_ iterator: TableIterator) {
        self.iterator = iterator
    }
}
