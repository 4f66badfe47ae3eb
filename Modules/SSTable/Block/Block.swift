import Encoding

// See Docs/formats/sstable.md ("Block format").

/// A decoded (uncompressed) block with its restart array located and validated: the unit the
/// block cache holds and block iterators read.
///
/// Immutable after creation, so it is shared freely between threads.
public final class Block: Sendable {
    /// The bytes (entries then restart array), owned.
    let storage: RawBuffer
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
    init(storage: RawBuffer, size: Int, file: String, fileOffset: Int) throws {
        guard size >= 4, size <= storage.count else {
            throw StrataError.corruption(file: file, offset: fileOffset, reason: "block of \(size) bytes is too short")
        }
        let count = Int(UInt32(littleEndian: storage.base.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self)))
        guard count >= 1, count <= (size - 4) / 4 else {
            throw StrataError.corruption(file: file, offset: fileOffset + size - 4, reason: "block claims \(count) restart points in \(size) bytes")
        }
        self.storage = storage
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
    init(unstructured storage: RawBuffer, size: Int, file: String, fileOffset: Int) throws {
        guard size <= storage.count else {
            throw StrataError.corruption(file: file, offset: fileOffset, reason: "block larger than its storage")
        }
        self.storage = storage
        self.restartCount = 0
        self.restartsOffset = size
        self.file = file
        self.fileOffset = fileOffset
    }

    /// The offset of restart point `index`.
    @inline(__always)
    func restart(_ index: Int) -> Int {
        Int(UInt32(littleEndian: storage.base.loadUnaligned(fromByteOffset: restartsOffset + 4 * index, as: UInt32.self)))
    }

    /// The memory the block holds (what it costs in the block cache).
    public var charge: Int { storage.count }
}
