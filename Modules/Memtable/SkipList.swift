import Encoding
import Synchronization

// MARK: - Memory ordering
//
// One writer inserts; any number of readers search and iterate at the same time, without locks.
// Nodes are never removed or changed after they are published, so a reader can only ever miss a
// node that is being inserted — never see a half-built one. The argument:
//
// 1. The writer fills a new node completely — key length, value length, height, key bytes, value
//    bytes, and its own `next` links (relaxed stores: nobody can see the node yet) — *before*
//    linking it in.
// 2. It links the node level by level from the bottom up, each with a **release** store into the
//    predecessor's `next[level]`. Release orders every earlier write of this thread (step 1)
//    before the link becomes visible.
// 3. Readers load every `next` link with **acquire**. A reader that sees the new node's offset
//    therefore also sees everything written in step 1: it can never read a torn key or value.
// 4. Linking bottom-up means a node reachable at level L is already reachable at every level
//    below L, so a search that descends from a higher level always finds its way down.
// 5. The list's current height is a relaxed atomic. A reader that sees a larger height than the
//    links it reads only finds `0` (null) in the head's upper links and descends — harmless.
// 6. The arena never moves or frees memory while the skiplist is alive (readers hold a strong
//    reference to it), so every offset a reader loads stays valid.
//
// Consequently an iterator created after an insert returned sees that entry, and entries added
// while it runs may or may not appear, but each that does is whole and in order.

/// A lock-free (single-writer, multi-reader) skiplist of encoded internal keys with values,
/// stored entirely in an `Arena`.
///
/// Node layout (offsets within the node, 4-byte aligned):
///
///     0   key length   (UInt32)  — the encoded internal key, trailer included
///     4   value length (UInt32)
///     8   height       (UInt8), 3 bytes padding
///     12  next[height] (Atomic<UInt32> each: arena offsets, 0 = end)
///     12 + 4·height: key bytes, then value bytes
package final class SkipList: @unchecked Sendable {
    // `@unchecked Sendable`: shared mutable state is either atomic (links, height) or written only
    // by the single writer before publication (see the ordering argument above).

    static let maxHeight = 12
    /// Each level holds about a quarter of the nodes of the level below.
    static let branchingShift: UInt64 = 2
    static let nodeHeaderSize = 12

    let arena: Arena
    /// The head node: a sentinel of `maxHeight` links and no key.
    let head: UInt32
    private let height = Atomic<Int>(1)
    private let entryCount = Atomic<Int>(0)
    /// The writer's random state for node heights.
    private var random: UInt64

    package init(arena: Arena, seed: UInt64 = 0x5EED_CAFE_F00D_D00D) throws {
        self.arena = arena
        self.random = seed | 1
        guard let head = arena.allocate(SkipList.nodeHeaderSize + 4 * SkipList.maxHeight, alignment: 4) else {
            throw StrataError.invalidArgument("memtable arena too small for a skiplist head")
        }
        self.head = head
        SkipList.initializeNode(arena.pointer(head), keyLength: 0, valueLength: 0, height: SkipList.maxHeight)
    }

    /// Entries inserted so far.
    package var count: Int { entryCount.load(ordering: .relaxed) }

    // MARK: Node access

    @inline(__always)
    static func initializeNode(_ node: UnsafeMutableRawPointer, keyLength: Int, valueLength: Int, height: Int) {
        node.storeBytes(of: UInt32(keyLength), as: UInt32.self)
        node.storeBytes(of: UInt32(valueLength), toByteOffset: 4, as: UInt32.self)
        node.storeBytes(of: UInt8(height), toByteOffset: 8, as: UInt8.self)
        let links = (node + nodeHeaderSize).bindMemory(to: Atomic<UInt32>.self, capacity: height)
        for level in 0..<height { (links + level).initialize(to: Atomic(0)) }
    }

    @inline(__always)
    func link(_ node: UInt32, _ level: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        (arena.pointer(node) + SkipList.nodeHeaderSize + 4 * level).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// The successor of `node` at `level` (acquire: see the ordering argument).
    @inline(__always)
    package func next(_ node: UInt32, _ level: Int) -> UInt32 {
        link(node, level).pointee.load(ordering: .acquiring)
    }

    @inline(__always)
    package func key(_ node: UInt32) -> UnsafeRawBufferPointer {
        let pointer = arena.pointer(node)
        let keyLength = Int(pointer.load(as: UInt32.self))
        let height = Int(pointer.load(fromByteOffset: 8, as: UInt8.self))
        return UnsafeRawBufferPointer(start: pointer + SkipList.nodeHeaderSize + 4 * height, count: keyLength)
    }

    @inline(__always)
    package func value(_ node: UInt32) -> UnsafeRawBufferPointer {
        let pointer = arena.pointer(node)
        let keyLength = Int(pointer.load(as: UInt32.self))
        let valueLength = Int(pointer.load(fromByteOffset: 4, as: UInt32.self))
        let height = Int(pointer.load(fromByteOffset: 8, as: UInt8.self))
        return UnsafeRawBufferPointer(start: pointer + SkipList.nodeHeaderSize + 4 * height + keyLength, count: valueLength)
    }

    /// The bytes a node with these lengths needs at the largest height (for capacity checks).
    package static func worstCaseNodeSize(keyLength: Int, valueLength: Int) -> Int {
        nodeHeaderSize + 4 * maxHeight + keyLength + valueLength + 3
    }

    // MARK: Writer

    private func randomHeight() -> Int {
        // xorshift64*: one multiply and three shifts, no allocation. Two bits per level give a
        // branching factor of 4.
        random ^= random >> 12
        random ^= random << 25
        random ^= random >> 27
        var bits = random &* 0x2545_F491_4F6C_DD1D
        var height = 1
        while height < SkipList.maxHeight && bits & 3 == 0 {
            height += 1
            bits >>= SkipList.branchingShift
        }
        return height
    }

    /// Inserts an entry.
    ///
    /// - Returns: `false` (inserting nothing) when the arena has no room for the node.
    /// - Precondition: Called by one writer at a time; `key` is a valid encoded internal key
    ///   not already present.
    package func insert(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        let nodeHeight = randomHeight()
        let size = SkipList.nodeHeaderSize + 4 * nodeHeight + key.count + value.count
        guard let node = arena.allocate(size, alignment: 4) else { return false }
        let pointer = arena.pointer(node)
        SkipList.initializeNode(pointer, keyLength: key.count, valueLength: value.count, height: nodeHeight)
        let keyStart = pointer + SkipList.nodeHeaderSize + 4 * nodeHeight
        if key.count > 0 { keyStart.copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if value.count > 0 { (keyStart + key.count).copyMemory(from: value.baseAddress!, byteCount: value.count) }

        // Find the predecessor at every level. Only this thread writes links, so relaxed loads
        // of them are exact here.
        var predecessors = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
                            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        let newKey = UnsafeRawBufferPointer(start: keyStart, count: key.count)
        let listHeight = height.load(ordering: .relaxed)
        withUnsafeMutableBytes(of: &predecessors) { raw in
            let previous = raw.bindMemory(to: UInt32.self)
            var current = head
            var level = max(listHeight, nodeHeight) - 1
            while true {
                let successor = level < listHeight ? link(current, level).pointee.load(ordering: .relaxed) : 0
                if successor != 0 && InternalKeyComparator.compare(self.key(successor), newKey) < 0 {
                    current = successor
                    continue
                }
                previous[level] = current
                if level == 0 { break }
                level -= 1
            }
            if nodeHeight > listHeight {
                // Readers may see the new height before the links: they find nulls and descend.
                height.store(nodeHeight, ordering: .relaxed)
            }
            // Publish bottom-up: the node's own link first (relaxed: not yet visible), then the
            // predecessor's link with release, which makes the whole node visible at once.
            for level in 0..<nodeHeight {
                let predecessorLink = link(previous[level], level)
                link(node, level).pointee.store(predecessorLink.pointee.load(ordering: .relaxed), ordering: .relaxed)
                predecessorLink.pointee.store(node, ordering: .releasing)
            }
        }
        entryCount.add(1, ordering: .relaxed)
        return true
    }

    // MARK: Readers

    /// The first node whose key is ≥ `target`, or 0.
    package func seek(_ target: UnsafeRawBufferPointer) -> UInt32 {
        bracket(target).successor
    }

    /// The last node whose key is < `target`, or 0 when there is none.
    package func seekLessThan(_ target: UnsafeRawBufferPointer) -> UInt32 {
        let predecessor = bracket(target).predecessor
        return predecessor == head ? 0 : predecessor
    }

    /// The last node < `target` (or the head) and the first node ≥ `target` (or 0) at level 0.
    @inline(__always)
    private func bracket(_ target: UnsafeRawBufferPointer) -> (predecessor: UInt32, successor: UInt32) {
        var current = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            let successor = next(current, level)
            if successor != 0 && InternalKeyComparator.compare(key(successor), target) < 0 {
                current = successor
            } else if level == 0 {
                return (current, successor)
            } else {
                level -= 1
            }
        }
    }

    /// The first node, or 0 when empty.
    package func first() -> UInt32 {
        next(head, 0)
    }

    /// The last node, or 0 when empty.
    package func last() -> UInt32 {
        var current = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            let successor = next(current, level)
            if successor != 0 {
                current = successor
            } else if level == 0 {
                return current == head ? 0 : current
            } else {
                level -= 1
            }
        }
    }
}
