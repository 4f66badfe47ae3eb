import Encoding

/// An iterator over a memtable's point entries or range tombstones, in internal-key order.
///
/// It keeps the memtable's memory alive, and reads without locks: entries inserted after it was
/// created may or may not be seen, but every entry seen is whole and in order. Never throws.
public struct MemtableIterator: InternalIterator {
    let list: SkipList
    var node: UInt32 = 0

    init(list: SkipList) {
        self.list = list
    }

    /// `true` when positioned on an entry (`InternalIterator.isValid`).
    public var isValid: Bool { node != 0 }

    /// The current entry's encoded internal key, borrowed until the next move (`InternalIterator.key`).
    public var key: UnsafeRawBufferPointer {
        precondition(node != 0, "iterator is not positioned on an entry")
        return list.key(node)
    }

    /// The current entry's value, borrowed until the next move (`InternalIterator.value`).
    public var value: UnsafeRawBufferPointer {
        precondition(node != 0, "iterator is not positioned on an entry")
        return list.value(node)
    }

    /// Positions on the first entry (`InternalIterator.seekToFirst()`).
    public mutating func seekToFirst() {
        node = list.first()
    }

    /// Positions on the last entry (`InternalIterator.seekToLast()`).
    public mutating func seekToLast() {
        node = list.last()
    }

    /// Positions on the first entry ≥ `target`, an encoded internal key (`InternalIterator.seek(to:)`).
    public mutating func seek(to target: UnsafeRawBufferPointer) {
        node = list.seek(target)
    }

    /// Positions on the last entry ≤ `target`, an encoded internal key (`InternalIterator.seekForPrev(to:)`).
    public mutating func seekForPrev(to target: UnsafeRawBufferPointer) {
        let candidate = list.seek(target)
        if candidate != 0 && InternalKeyComparator.compare(list.key(candidate), target) == 0 {
            node = candidate
        } else {
            node = list.seekLessThan(target)
        }
    }

    /// Moves to the next entry (`InternalIterator.next()`).
    public mutating func next() {
        precondition(node != 0, "next() on an invalid iterator")
        node = list.next(node, 0)
    }

    /// Moves to the previous entry (`InternalIterator.prev()`).
    public mutating func prev() {
        precondition(node != 0, "prev() on an invalid iterator")
        // No back links: find the last node before this one (O(log n), like LevelDB).
        node = list.seekLessThan(list.key(node))
    }
}

/// What a frozen memtable hands to the table builder: every point entry (all versions, not
/// collapsed) and every range tombstone, each in internal-key order. These are the types the
/// SSTable builder consumes directly.
public struct FlushSource {
    /// Puts and deletes in (user key ASC, sequence DESC) order.
    public var points: MemtableIterator
    /// Range tombstones in (start ASC, sequence DESC) order; each value is the end key.
    public var rangeTombstones: MemtableIterator
    /// The number of point entries.
    public let pointCount: Int
    /// The number of range tombstones.
    public let rangeTombstoneCount: Int
}
