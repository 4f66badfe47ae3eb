import Encoding

// See Docs/formats/sstable.md ("Block format").

/// A decoded (uncompressed) block with its restart array located and validated: the unit the
/// block cache holds and block iterators read.
///
/// Immutable after creation, so it is shared freely between threads.
///
/// `@unchecked Sendable`: the bytes behind `base` are never written after the block is made,
/// and `owner` (itself Sendable) keeps them alive as long as the block.
package final class Block: @unchecked Sendable {
    /// The first byte of the block (entries then restart array).
    let base: UnsafeMutableRawPointer
    /// What keeps `base` valid: the `RawBuffer` the block was read or decompressed into, or the
    /// mapped file it lies in.
    let owner: AnyObject & Sendable
    /// Bytes the block holds in memory of its own (0 when it lies in a mapped file).
    let ownedBytes: Int
    /// Where the entries end and the restart array begins.
    let restartsOffset: Int
    /// Number of restart points (≥ 1).
    let restartCount: Int
    /// The file and offset the block was read from, for error messages.
    let file: String
    let fileOffset: Int

    /// Validates the restart array of `size` bytes at the start of `storage`.
    ///
    /// - Throws: `StrataError.corruption` when the block is too short for its restart array, or a
    ///   restart offset points past the entries.
    convenience init(storage: RawBuffer, size: Int, file: String, fileOffset: Int) throws {
        guard size <= storage.count else {
            throw StrataError.corruption(file: file, offset: fileOffset, reason: "block larger than its storage")
        }
        try self.init(payload: BlockPayload(base: storage.base, count: size, owner: storage, ownedBytes: storage.count), file: file, fileOffset: fileOffset)
    }

    /// Validates the restart array of a block read (or decompressed, or mapped) into `payload`.
    init(payload: BlockPayload, file: String, fileOffset: Int) throws {
        let size = payload.count
        guard size >= 4 else {
            throw StrataError.corruption(file: file, offset: fileOffset, reason: "block of \(size) bytes is too short")
        }
        let count = Int(UInt32(littleEndian: payload.base.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self)))
        guard count >= 1, count <= (size - 4) / 4 else {
            throw StrataError.corruption(file: file, offset: fileOffset + size - 4, reason: "block claims \(count) restart points in \(size) bytes")
        }
        // Read only: a block's bytes are never written after it is made.
        self.base = UnsafeMutableRawPointer(mutating: payload.base)
        self.owner = payload.owner
        self.ownedBytes = payload.ownedBytes
        self.restartCount = count
        self.restartsOffset = size - 4 - 4 * count
        self.file = file
        self.fileOffset = fileOffset
        for index in 0..<count where restart(index) >= restartsOffset && !(restartsOffset == 0 && restart(index) == 0) {
            throw StrataError.corruption(file: file, offset: fileOffset + restartsOffset + 4 * index, reason: "restart point \(index) lies outside the block's entries")
        }
    }

    /// Wraps bytes that are not in block format (a filter) so they can share the block cache:
    /// the whole payload counts as entries and there are no restart points to read.
    init(unstructured payload: BlockPayload, file: String, fileOffset: Int) {
        self.base = UnsafeMutableRawPointer(mutating: payload.base)
        self.owner = payload.owner
        self.ownedBytes = payload.ownedBytes
        self.restartCount = 0
        self.restartsOffset = payload.count
        self.file = file
        self.fileOffset = fileOffset
    }

    /// The offset of restart point `index`.
    @inline(__always)
    func restart(_ index: Int) -> Int {
        Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: restartsOffset + 4 * index, as: UInt32.self)))
    }

    /// The memory the block holds (what it costs in the block cache).
    package var charge: Int { ownedBytes }
}

/// A block's bytes and what keeps them alive: a `RawBuffer` it was read or decompressed into
/// (`ownedBytes` is then its size), or a mapped file it lies in (`ownedBytes` 0).
struct BlockPayload {
    let base: UnsafeRawPointer
    let count: Int
    let owner: AnyObject & Sendable
    let ownedBytes: Int

    /// The bytes, valid while `owner` is alive.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
