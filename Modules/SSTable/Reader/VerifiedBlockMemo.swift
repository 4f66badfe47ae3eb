import Synchronization

/// Remembers which blocks of one mapped table have already passed their checksum, so a block
/// used in place again and again (the blocks that seeks and gets keep landing on) is hashed
/// once per open table — the same promise the block cache gives: a block is verified when it
/// enters memory the reader trusts, not on every use.
///
/// A direct-mapped table of slots, each holding the identity `(offset + 1) << 32 | size` of a
/// verified block (0: empty), indexed by a hash of the offset. A block is taken as verified only
/// when its slot holds exactly its identity, so a collision (two blocks sharing a slot) costs a
/// second verification, never a skipped one.
///
/// Thread safety: any number of threads may use it at once. Slots are atomics read and written
/// with relaxed ordering: a slot only vouches for bytes of an immutable file mapping that no
/// thread writes, so it needs no ordering with other memory.
final class VerifiedBlockMemo: @unchecked Sendable {
    /// `@unchecked Sendable`: `slots` is allocated in `init`, freed in `deinit`, and only ever
    /// accessed through atomic operations in between.
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    private let mask: Int

    /// A memo sized for `dataBlocks` blocks (a power of two of slots, at least that many, at
    /// most 2^20), or `nil` when identities do not fit: a file of 4 GiB or more.
    init?(dataBlocks: UInt64, fileSize: UInt64) {
        guard fileSize < UInt64(UInt32.max) else { return nil }
        var count = 16
        while count < Int(clamping: dataBlocks) && count < 1 << 20 { count <<= 1 }
        mask = count - 1
        slots = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: count)
        for index in 0..<count { (slots + index).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: mask + 1)
        slots.deallocate()
    }

    /// Whether the block at `offset` of `size` bytes has been verified.
    @inline(__always)
    func contains(offset: UInt64, size: UInt64) -> Bool {
        guard let identity = VerifiedBlockMemo.identity(offset: offset, size: size) else { return false }
        return slots[slot(offset)].load(ordering: .relaxed) == identity
    }

    /// Records that the block at `offset` of `size` bytes passed its checksum.
    @inline(__always)
    func insert(offset: UInt64, size: UInt64) {
        guard let identity = VerifiedBlockMemo.identity(offset: offset, size: size) else { return }
        slots[slot(offset)].store(identity, ordering: .relaxed)
    }

    @inline(__always)
    private func slot(_ offset: UInt64) -> Int {
        // Fibonacci hashing: blocks lie about a block size apart, and the multiply spreads
        // those regular offsets over the slots.
        Int(truncatingIfNeeded: (offset &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    @inline(__always)
    private static func identity(offset: UInt64, size: UInt64) -> UInt64? {
        // `init` refused files of 4 GiB or more, so a real block's offset + 1 and size fit.
        guard offset < UInt64(UInt32.max), size <= UInt64(UInt32.max) else { return nil }
        return (offset + 1) << 32 | size
    }
}
