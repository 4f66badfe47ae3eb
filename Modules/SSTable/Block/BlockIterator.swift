import Encoding

/// Growable scratch memory for the current key of a block iterator: a prefix-compressed key is
/// rebuilt here by keeping the shared bytes of the previous key and writing the rest after them.
final class KeyBuffer {
    // Unchecked: a key buffer belongs to one block iterator, used by one thread, and its
    // methods do not call out while accessing these.
    @exclusivity(unchecked) private(set) var base: UnsafeMutableRawPointer
    @exclusivity(unchecked) private(set) var capacity: Int
    @exclusivity(unchecked) var count = 0

    init(capacity: Int = 64) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// Keeps the first `shared` bytes and appends `suffix`.
    @inline(__always)
    func replace(keeping shared: Int, with suffix: UnsafeRawPointer, count suffixCount: Int) {
        let needed = shared + suffixCount
        if needed > capacity { grow(to: needed, keeping: shared) }
        if suffixCount > 0 { (base + shared).copyMemory(from: suffix, byteCount: suffixCount) }
        count = needed
    }

    private func grow(to needed: Int, keeping shared: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        if shared > 0 { newBase.copyMemory(from: base, byteCount: shared) }
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// Iterates one block: seek (binary search over restart points, then a linear scan), next,
/// prev, first, last. Every entry is bounds-checked as it is decoded; damage throws
/// `StrataError.corruption` with the file and offset.
struct BlockIterator: InternalIterator {
    let block: Block
    /// The block's layout, copied: the stepping code reads these instead of calling into the
    /// block object, which from a mutating method would retain and release it on every step.
    private let base: UnsafeMutableRawPointer
    private let restartsOffset: Int
    private let restartCount: Int
    /// Keys are internal keys (data, index, range-del blocks): they must be ≥ 8 bytes.
    let internalKeys: Bool
    /// Rebuilds prefix-compressed keys; created on the first entry that shares bytes with its
    /// predecessor (index blocks never do, so their iterators never allocate one).
    private var keyBufferOwner: KeyBuffer?
    /// The same buffer, unretained: `keyBufferOwner` keeps it alive for as long as this iterator
    /// (and any copy of it) exists, and going through this reference in the stepping code avoids
    /// the retain and release a strong load from a mutating method costs on every entry.
    private var keyBuffer: Unmanaged<KeyBuffer>?
    /// Whether the current key lies whole in the block (`shared == 0`): then it is used in
    /// place at `keyStart`, and copied into the buffer only if the next entry shares bytes.
    private var keyInPlace = true
    private var keyStart = 0
    private var keyLength = 0
    /// Offset of the current entry, or `restartsOffset` when invalid.
    private var current: Int
    /// Offset just past the current entry.
    private var nextOffset: Int
    private var restartIndex = 0
    private var valueStart = 0
    private var valueCount = 0

    init(block: Block, internalKeys: Bool = true) {
        self.block = block
        self.base = block.base
        self.restartsOffset = block.restartsOffset
        self.restartCount = block.restartCount
        self.internalKeys = internalKeys
        self.current = block.restartsOffset
        self.nextOffset = block.restartsOffset
    }

    var isValid: Bool { current < restartsOffset }

    var key: UnsafeRawBufferPointer {
        keyInPlace ? UnsafeRawBufferPointer(start: base + keyStart, count: keyLength) : keyBuffer!._withUnsafeGuaranteedRef { $0.bytes }
    }

    var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + valueStart, count: valueCount)
    }

    /// The current entry (`key` and `value` when `isValid`), read where the iterator lies.
    /// `mutating` only for that: through an optional (`data!.entry()`) a non-mutating read
    /// copies the iterator first, which retains and releases its block and key buffer — on
    /// every step of a scan.
    @inline(__always)
    mutating func entry() -> (isValid: Bool, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        isValid ? (true, key, value) : (false, UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// `isValid`, read in place (see `entry()`).
    @inline(__always)
    mutating func isValidInPlace() -> Bool { isValid }

    mutating func seekToFirst() throws {
        seekToRestart(0)
        try parseNext()
    }

    mutating func seekToLast() throws {
        seekToRestart(restartCount - 1)
        repeat { try parseNext() } while isValid && nextOffset < restartsOffset
    }

    mutating func seek(to target: UnsafeRawBufferPointer) throws {
        // Binary search over restart keys in place, then a linear scan from the restart point.
        seekToRestart(try block.lastRestart(before: target, internalKeys: internalKeys))
        repeat { try parseNext() } while isValid && compare(key, target) < 0
    }

    mutating func seekForPrev(to target: UnsafeRawBufferPointer) throws {
        try seek(to: target)
        if !isValid {
            try seekToLast()
        } else if compare(key, target) > 0 {
            try prev()
        }
    }

    mutating func next() throws {
        precondition(isValid, "next() on an invalid block iterator")
        try parseNext()
    }

    mutating func prev() throws {
        precondition(isValid, "prev() on an invalid block iterator")
        let original = current
        // Back up to the last restart point before the current entry, then scan forward.
        while restart(restartIndex) >= original {
            if restartIndex == 0 {
                current = restartsOffset
                nextOffset = restartsOffset
                return
            }
            restartIndex -= 1
        }
        seekToRestart(restartIndex)
        repeat { try parseNext() } while isValid && nextOffset < original
    }

    // MARK: - Decoding

    /// The offset of restart point `index` (as `Block.restart`, from the copied layout).
    @inline(__always)
    private func restart(_ index: Int) -> Int {
        Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: restartsOffset + 4 * index, as: UInt32.self)))
    }

    @inline(__always)
    private func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        internalKeys ? InternalKeyComparator.compare(a, b) : BytewiseComparator.compare(a, b)
    }

    private mutating func seekToRestart(_ index: Int) {
        restartIndex = index
        keyInPlace = true
        keyLength = 0
        nextOffset = restart(index)
        current = nextOffset
    }

    /// Decodes the entry at `nextOffset`, or becomes invalid at the end of the entries.
    private mutating func parseNext() throws {
        current = nextOffset
        let limit = restartsOffset
        guard current < limit else {
            current = limit
            nextOffset = limit
            return
        }
        let entry = current
        let header = try Block.entryHeader(base: base, limit: restartsOffset, at: entry) { corruption(at: entry, $0) }
        guard header.shared <= keyLength else {
            throw corruption(at: current, "entry shares \(header.shared) bytes with a \(keyLength)-byte previous key")
        }
        if header.shared == 0 {
            // A whole key: use it where it lies.
            keyInPlace = true
            keyStart = header.keyStart
            keyLength = header.unshared
        } else {
            if keyBuffer == nil {
                let created = KeyBuffer()
                keyBufferOwner = created
                keyBuffer = Unmanaged.passUnretained(created)
            }
            let previousInPlace = keyInPlace
            let previousStart = keyStart
            let base = self.base
            keyLength = keyBuffer!._withUnsafeGuaranteedRef { buffer in
                if previousInPlace {
                    // The previous key lies in the block: bring its shared prefix into the buffer.
                    buffer.replace(keeping: 0, with: base + previousStart, count: header.shared)
                }
                buffer.replace(keeping: header.shared, with: base + header.keyStart, count: header.unshared)
                return buffer.count
            }
            keyInPlace = false
        }
        if internalKeys && keyLength < InternalKey.trailerSize {
            throw corruption(at: current, "internal key of \(keyLength) bytes is shorter than its trailer")
        }
        valueStart = header.keyStart + header.unshared
        valueCount = header.valueLength
        nextOffset = header.end
        while restartIndex + 1 < restartCount && restart(restartIndex + 1) <= current {
            restartIndex += 1
        }
    }

    private func corruption(at offset: Int, _ reason: String) -> StrataError {
        block.corruption(at: offset, reason)
    }
}
