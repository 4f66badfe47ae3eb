import Encoding
import Manifest
import Memtable
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
    private var index: Int
    private var table: TableIterator?

    /// Iterates `files` (sorted by key, non-overlapping).
    public init(files: [FileMetadata], tableCache: TableCache, lowerBound: [UInt8]? = nil, upperBound: [UInt8]? = nil) {
        self.files = files
        self.tableCache = tableCache
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        self.index = files.count
    }

    public var isValid: Bool { table?.isValid ?? false }

    public var key: UnsafeRawBufferPointer { table!.key }

    public var value: UnsafeRawBufferPointer { table!.value }

    public mutating func seekToFirst() throws {
        try open(0)
        try table?.seekToFirst()
        try skipForward()
    }

    public mutating func seekToLast() throws {
        try open(files.count - 1)
        try table?.seekToLast()
        try skipBackward()
    }

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
        try table?.seek(to: target)
        try skipForward()
    }

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
        try table?.seekForPrev(to: target)
        try skipBackward()
    }

    public mutating func next() throws {
        try table!.next()
        try skipForward()
    }

    public mutating func prev() throws {
        try table!.prev()
        try skipBackward()
    }

    // MARK: - Internal

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
        let reader = try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize)
        table = reader.makeIterator(lowerBound: lowerBound, upperBound: upperBound)
    }

    private mutating func skipForward() throws {
        while table != nil && !table!.isValid {
            guard index + 1 < files.count, !startsAtOrAfterUpperBound(files[index + 1]) else {
                table = nil
                return
            }
            try open(index + 1)
            try table?.seekToFirst()
        }
    }

    private mutating func skipBackward() throws {
        while table != nil && !table!.isValid {
            guard index > 0, !endsBeforeLowerBound(files[index - 1]) else {
                table = nil
                return
            }
            try open(index - 1)
            try table?.seekToLast()
        }
    }
}
