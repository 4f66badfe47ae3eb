import Encoding
import HeapModule
import Memtable

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
/// (guide B.13).
public struct MergingIterator<Source: InternalIterator>: InternalIterator {
    /// A source's current key, ordered by internal key then by source index.
    struct Entry: Comparable {
        let source: Int
        let key: UnsafeRawBufferPointer

        static func < (a: Entry, b: Entry) -> Bool {
            let order = InternalKeyComparator.compare(a.key, b.key)
            return order < 0 || (order == 0 && a.source < b.source)
        }

        static func == (a: Entry, b: Entry) -> Bool {
            a.source == b.source && InternalKeyComparator.compare(a.key, b.key) == 0
        }
    }

    /// The sources being merged.
    public private(set) var sources: [Source]
    private var heap = Heap<Entry>()
    private var current: Int? = nil
    private var forward = true

    /// Merges `sources` (each positioned anywhere; call a seek before reading).
    public init(_ sources: [Source]) {
        self.sources = sources
    }

    public var isValid: Bool { current != nil }

    public var key: UnsafeRawBufferPointer {
        precondition(current != nil, "iterator is not positioned on an entry")
        return sources[current!].key
    }

    public var value: UnsafeRawBufferPointer {
        precondition(current != nil, "iterator is not positioned on an entry")
        return sources[current!].value
    }

    public mutating func seekToFirst() throws {
        for index in sources.indices { try sources[index].seekToFirst() }
        rebuild(forward: true)
    }

    public mutating func seekToLast() throws {
        for index in sources.indices { try sources[index].seekToLast() }
        rebuild(forward: false)
    }

    public mutating func seek(to target: UnsafeRawBufferPointer) throws {
        for index in sources.indices { try sources[index].seek(to: target) }
        rebuild(forward: true)
    }

    public mutating func seekForPrev(to target: UnsafeRawBufferPointer) throws {
        for index in sources.indices { try sources[index].seekForPrev(to: target) }
        rebuild(forward: false)
    }

    public mutating func next() throws {
        precondition(current != nil, "next() on an invalid iterator")
        let top = current!
        if !forward {
            // Switch direction: every other source moves to its first entry after the current key.
            try withCurrentKeyCopy { target in
                for index in sources.indices where index != top {
                    try sources[index].seek(to: target)
                    if sources[index].isValid && InternalKeyComparator.compare(sources[index].key, target) == 0 {
                        try sources[index].next()
                    }
                }
            }
            try sources[top].next()
            rebuild(forward: true)
            return
        }
        try sources[top].next()
        replaceTop(top)
    }

    public mutating func prev() throws {
        precondition(current != nil, "prev() on an invalid iterator")
        let top = current!
        if forward {
            // Switch direction: every other source moves to its last entry before the current key.
            try withCurrentKeyCopy { target in
                for index in sources.indices where index != top {
                    try sources[index].seekForPrev(to: target)
                    if sources[index].isValid && InternalKeyComparator.compare(sources[index].key, target) == 0 {
                        try sources[index].prev()
                    }
                }
            }
            try sources[top].prev()
            rebuild(forward: false)
            return
        }
        // Take the top's entry out *before* moving it: its key pointer reads the source's key
        // buffer, which the move overwrites, and finding the maximum of a min-max heap compares
        // entries (finding the minimum does not: it is always the root, so `next()` may move
        // first and then `replaceMin`).
        heap.removeMax()
        try sources[top].prev()
        if sources[top].isValid { heap.insert(Entry(source: top, key: sources[top].key)) }
        current = heap.max?.source
    }

    // MARK: - Internal

    /// Runs `body` with a copy of the current key (the sources' own buffers move under it).
    private func withCurrentKeyCopy(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let copy = Array(key)
        try copy.withUnsafeBytes { try body($0) }
    }

    private mutating func rebuild(forward: Bool) {
        self.forward = forward
        var entries: [Entry] = []
        entries.reserveCapacity(sources.count)
        for index in sources.indices where sources[index].isValid {
            entries.append(Entry(source: index, key: sources[index].key))
        }
        heap = Heap(entries)
        current = forward ? heap.min?.source : heap.max?.source
    }

    /// The current source moved forward: put its new entry back at the root (or drop it when
    /// exhausted). The root is the minimum by position, so the stale entry is never compared.
    private mutating func replaceTop(_ top: Int) {
        if sources[top].isValid {
            heap.replaceMin(with: Entry(source: top, key: sources[top].key))
        } else {
            heap.removeMin()
        }
        current = heap.min?.source
    }
}
