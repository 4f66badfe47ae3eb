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

    public var isValid: Bool { node != 0 }

    public var key: UnsafeRawBufferPointer {
        precondition(node != 0, "iterator is not positioned on an entry")
        return list.key(node)
    }

    public var value: UnsafeRawBufferPointer {
        precondition(node != 0, "iterator is not positioned on an entry")
        return list.value(node)
    }

    public mutating func seekToFirst() {
        node = list.first()
    }

    public mutating func seekToLast() {
        node = list.last()
    }

    public mutating func seek(to target: UnsafeRawBufferPointer) {
        node = list.seek(target)
    }

    public mutating func seekForPrev(to target: UnsafeRawBufferPointer) {
        let candidate = list.seek(target)
        if candidate != 0 && InternalKeyComparator.compare(list.key(candidate), target) == 0 {
            node = candidate
        } else {
            node = list.seekLessThan(target)
        }
    }

    public mutating func next() {
        precondition(node != 0, "next() on an invalid iterator")
        node = list.next(node, 0)
    }

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
