#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reference-counted, fixed-size raw allocation: the storage of blocks read from disk,
/// decompressed blocks in the block cache, and other byte runs that many readers share.
///
/// The memory is freed when the last reference goes, so pointers taken from `bytes` stay valid
/// for as long as the caller holds the `RawBuffer`.
///
/// Thread safety: `@unchecked Sendable` because the contents are filled once by the creator
/// before the buffer is shared and only read afterwards. Writing after sharing is a bug.
public final class RawBuffer: @unchecked Sendable {
    /// The start of the allocation (never nil, even for 0 bytes).
    public let base: UnsafeMutableRawPointer
    /// The size in bytes.
    public let count: Int

    /// What keeps borrowed memory alive (`nil`: the buffer owns its allocation).
    private let owner: AnyObject?

    /// Allocates `count` uninitialised bytes (16-byte aligned).
    ///
    /// - Precondition: `count >= 0`.
    public init(count: Int) {
        precondition(count >= 0, "negative RawBuffer size")
        self.count = count
        self.base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 16)
        self.owner = nil
    }

    /// Wraps `count` bytes at `base` that belong to `owner` (a memory-mapped file, say) without
    /// copying them: the buffer keeps `owner` alive and never frees or writes the memory.
    ///
    /// - Precondition: the memory stays valid and unchanged while `owner` is alive.
    public init(borrowing base: UnsafeRawPointer, count: Int, owner: AnyObject) {
        precondition(count >= 0, "negative RawBuffer size")
        self.count = count
        // Never written through: `mutableBytes` is for buffers being filled, which this is not.
        self.base = UnsafeMutableRawPointer(mutating: base)
        self.owner = owner
    }

    /// Allocates a copy of `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            base.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Allocates a copy of `bytes`.
    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { source in
            if let pointer = source.baseAddress, source.count > 0 { base.copyMemory(from: pointer, byteCount: source.count) }
        }
    }

    deinit {
        if owner == nil { base.deallocate() }
    }

    /// The contents, valid only while `self` is alive.
    ///
    /// - Important: Swift may release a value right after its last use, so
    ///   `decode(makeBuffer().bytes)` or `let b = …; decode(b.bytes)` can read freed memory.
    ///   Prefer `withBytes(_:)`, which keeps the buffer alive for the closure, unless the buffer
    ///   is a stored property of an object that outlives the use.
    @inlinable public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Calls `body` with the contents, keeping the buffer alive until it returns.
    @inlinable
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(UnsafeRawBufferPointer(start: base, count: count)) }
    }

    /// The contents for filling, valid while `self` is alive; only before the buffer is shared.
    @inlinable public var mutableBytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    /// A copy of the contents as an array.
    public var array: [UInt8] { Array(bytes) }
}
