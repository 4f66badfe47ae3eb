import Encoding
import HeapModule

/// A streaming k-way merge of sorted internal-key sources, in both directions.
///
/// The sources' current entries sit in a min-max heap (swift-collections' `Heap`): the smallest
/// is the merge's current entry going forward, the largest going backward. Moving advances only
/// the current source and re-inserts it, O(log k). Memory is the sources' own (one block each for
/// table iterators) plus the heap: independent of how much data flows through.
///
/// Internal keys are unique across sources (every write has its own sequence number); equal keys
/// are ordered by source index so the merge is deterministic.
///
/// `Source` is generic, not an existential, so the calls in the merge loop are specialised
/// (guide B.13) — and everything is `@inlinable`, so that specialisation happens in the client
/// module that picks `Source` (unspecialised, each step paid generic-metadata lookups that cost
/// more than the merge itself).
public struct MergingIterator<Source: InternalIterator>: InternalIterator {
    /// A source's current key, ordered by internal key then by source index.
    @usableFromInline
    struct Entry: Comparable {
        @usableFromInline let source: Int
        @usableFromInline let key: UnsafeRawBufferPointer

        @inlinable
        init(source: Int, key: UnsafeRawBufferPointer) {
            self.source = source
            self.key = key
        }

        @inlinable
        static func < (a: Entry, b: Entry) -> Bool {
            let order = InternalKeyComparator.compare(a.key, b.key)
            return order < 0 || (order == 0 && a.source < b.source)
        }

        @inlinable
        static func == (a: Entry, b: Entry) -> Bool {
            a.source == b.source && InternalKeyComparator.compare(a.key, b.key) == 0
        }
    }

    /// The sources being merged.
    public var sources: [Source] { storage }
    @usableFromInline var storage: [Source]
    @usableFromInline var heap = Heap<Entry>()
    @usableFromInline var current: Int? = nil
    @usableFromInline var forward = true

    /// Merges `sources` (each positioned anywhere; call a seek before reading).
    @inlinable
    public init(_ sources: [Source]) {
        self.storage = sources
    }

    /// `true` when positioned on an entry (`InternalIterator.isValid`).
    @inlinable
    public var isValid: Bool { current != nil }

    /// The current entry's encoded internal key, borrowed until the next move (`InternalIterator.key`).
    @inlinable
    public var key: UnsafeRawBufferPointer {
        precondition(current != nil, "iterator is not positioned on an entry")
        return storage[current!].key
    }

    /// The current entry's value, borrowed until the next move (`InternalIterator.value`).
    @inlinable
    public var value: UnsafeRawBufferPointer {
        precondition(current != nil, "iterator is not positioned on an entry")
        return storage[current!].value
    }

    /// Positions on the first entry (`InternalIterator.seekToFirst()`).
    @inlinable
    public mutating func seekToFirst() throws {
        for index in storage.indices { try storage[index].seekToFirst() }
        rebuild(forward: true)
    }

    /// Positions on the last entry (`InternalIterator.seekToLast()`).
    @inlinable
    public mutating func seekToLast() throws {
        for index in storage.indices { try storage[index].seekToLast() }
        rebuild(forward: false)
    }

    /// Positions on the first entry ≥ `target`, an encoded internal key (`InternalIterator.seek(to:)`).
    @inlinable
    public mutating func seek(to target: UnsafeRawBufferPointer) throws {
        for index in storage.indices { try storage[index].seek(to: target) }
        rebuild(forward: true)
    }

    /// Positions on the last entry ≤ `target`, an encoded internal key (`InternalIterator.seekForPrev(to:)`).
    @inlinable
    public mutating func seekForPrev(to target: UnsafeRawBufferPointer) throws {
        for index in storage.indices { try storage[index].seekForPrev(to: target) }
        rebuild(forward: false)
    }

    /// Moves to the next entry (`InternalIterator.next()`).
    @inlinable
    public mutating func next() throws {
        precondition(current != nil, "next() on an invalid iterator")
        let top = current!
        if !forward {
            // Switch direction: every other source moves to its first entry after the current key.
            try withCurrentKeyCopy { target in
                for index in storage.indices where index != top {
                    try storage[index].seek(to: target)
                    if storage[index].isValid && InternalKeyComparator.compare(storage[index].key, target) == 0 {
                        try storage[index].next()
                    }
                }
            }
            try storage[top].next()
            rebuild(forward: true)
            return
        }
        try storage[top].next()
        replaceTop(top)
    }

    /// Moves to the previous entry (`InternalIterator.prev()`).
    @inlinable
    public mutating func prev() throws {
        precondition(current != nil, "prev() on an invalid iterator")
        let top = current!
        if forward {
            // Switch direction: every other source moves to its last entry before the current key.
            try withCurrentKeyCopy { target in
                for index in storage.indices where index != top {
                    try storage[index].seekForPrev(to: target)
                    if storage[index].isValid && InternalKeyComparator.compare(storage[index].key, target) == 0 {
                        try storage[index].prev()
                    }
                }
            }
            try storage[top].prev()
            rebuild(forward: false)
            return
        }
        // Take the top's entry out *before* moving it: its key pointer reads the source's key
        // buffer, which the move overwrites, and finding the maximum of a min-max heap compares
        // entries (finding the minimum does not: it is always the root, so `next()` may move
        // first and then `replaceMin`).
        heap.removeMax()
        try storage[top].prev()
        if storage[top].isValid { heap.insert(Entry(source: top, key: storage[top].key)) }
        current = heap.max?.source
    }

    // MARK: - Internal

    /// Runs `body` with a copy of the current key (the sources' own buffers move under it).
    @inlinable
    func withCurrentKeyCopy(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let copy = Array(key)
        try copy.withUnsafeBytes { try body($0) }
    }

    @inlinable
    mutating func rebuild(forward: Bool) {
        self.forward = forward
        var entries: [Entry] = []
        entries.reserveCapacity(storage.count)
        for index in storage.indices where storage[index].isValid {
            entries.append(Entry(source: index, key: storage[index].key))
        }
        heap = Heap(entries)
        current = forward ? heap.min?.source : heap.max?.source
    }

    /// The current source moved forward: put its new entry back at the root (or drop it when
    /// exhausted). The root is the minimum by position, so the stale entry is never compared.
    @inlinable
    mutating func replaceTop(_ top: Int) {
        if storage[top].isValid {
            heap.replaceMin(with: Entry(source: top, key: storage[top].key))
        } else {
            heap.removeMin()
        }
        current = heap.min?.source
    }
}
