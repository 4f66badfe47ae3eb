#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding

/// A file appended to through a shared memory mapping (`FileSystem.openMappedWritable`).
///
/// The file is extended ahead of the writer in windows: each window is first reserved on disk with `posix_fallocate` (so running out of space is a clean `ENOSPC`
/// error here, never a `SIGBUS` on a later store) and then mapped `MAP_SHARED`. An append is a
/// `memcpy` into the window: the bytes are in the page cache at once, visible to `pread`
/// readers and kept if the process dies, with no system call per append. `sync()` is
/// `fdatasync`, which writes back pages dirtied through the mapping like any others.
///
/// Until `close()` cuts it to `size`, the file is longer than the data: the rest of the last
/// window is zero bytes. A crash leaves that zero tail in place; readers of append-only
/// formats treat "only zeros from here to the end" as the end of the data (see
/// Docs/formats/wal.md).
///
/// Windows grow with the file: a window starting at offset `s` spans `clamp(s, 1 MiB, 32 MiB)`
/// bytes (so 1, 1, 2, 4, 8, 16, 32, 32, … MiB). A small segment reserves little, and a big one
/// is appended to through large mappings: each window costs a `posix_fallocate`, an `mmap` and
/// a `munmap`, and the kernel dirties a large mapping's pages in bigger folios, so on ext4 a
/// 32 MiB window appends about twice as fast as a 1 MiB one (measured, `make bench-wal`).
///
/// Thread safety: not thread-safe; one owner writes.
final class PosixMappedWritableFile: WritableFile {
    /// Granularity of window starts and smallest window: a multiple of every page size in use.
    static let minimumWindowSize = 1 << 20
    /// Largest window: bounds the reserved zero tail a crash can leave and the address space held.
    static let maximumWindowSize = 32 << 20

    /// The window starting at `start` (a multiple of `minimumWindowSize`) spans this many bytes.
    static func windowSize(at start: UInt64) -> Int {
        Int(min(max(start, UInt64(minimumWindowSize)), UInt64(maximumWindowSize)))
    }

    let path: String
    /// Logical size: existing bytes plus everything appended.
    private(set) var size: UInt64
    private var descriptor: Int32
    /// The file's length on disk (data plus the reserved zero tail).
    private var reserved: UInt64
    /// The current window's mapping, covering `[windowStart, windowStart + windowLength)`.
    private var window: UnsafeMutableRawPointer?
    private var windowStart: UInt64 = 0
    private var windowLength = 0

    init(descriptor: Int32, path: String, size: UInt64) {
        self.descriptor = descriptor
        self.path = path
        self.size = size
        self.reserved = size
    }

    deinit {
        guard descriptor >= 0 else { return }
        unmapWindow()
        // Abandoned without close(): still cut the reserved zeros off.
        _ = ftruncate(descriptor, off_t(size))
        _ = Glibc_close(descriptor)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard descriptor >= 0 else { throw StrataError.io(path: path, errno: EBADF, operation: "append") }
        guard var source = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        while remaining > 0 {
            if window == nil || size >= windowStart + UInt64(windowLength) {
                try mapWindow(containing: size)
            }
            let offset = Int(size - windowStart)
            let count = min(remaining, windowLength - offset)
            // The window is mapped read-write over reserved blocks of the file, and
            // `offset + count` stays inside it (checked just above).
            (window! + offset).copyMemory(from: source, byteCount: count)
            source += count
            remaining -= count
            size += UInt64(count)
        }
    }

    func sync() throws {
        try Posix.dataSync(descriptor, path)
    }

    func truncate(to newSize: UInt64) throws {
        guard descriptor >= 0 else { throw StrataError.io(path: path, errno: EBADF, operation: "ftruncate") }
        unmapWindow()
        guard ftruncate(descriptor, off_t(newSize)) == 0 else { throw Posix.error("ftruncate", path) }
        size = newSize
        reserved = newSize
    }

    func close() throws {
        guard descriptor >= 0 else { return }
        unmapWindow()
        // Cut the reserved zero tail; the data before it is untouched.
        let cut = ftruncate(descriptor, off_t(size)) == 0 ? nil : Posix.error("ftruncate", path)
        let result = Glibc_close(descriptor)
        descriptor = -1
        if let cut { throw cut }
        if result != 0 { throw Posix.error("close", path) }
    }

    /// Maps the window holding byte `offset`, reserving its blocks on disk first.
    private func mapWindow(containing offset: UInt64) throws {
        unmapWindow()
        let granule = UInt64(PosixMappedWritableFile.minimumWindowSize)
        let start = offset / granule * granule
        let length = PosixMappedWritableFile.windowSize(at: start)
        let end = start + UInt64(length)
        if reserved < end {
            var result: Int32
            repeat {
                result = posix_fallocate(descriptor, off_t(reserved), off_t(end - reserved))
            } while result == EINTR
            guard result == 0 else { throw StrataError.io(path: path, errno: result, operation: "posix_fallocate") }
            reserved = end
        }
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, off_t(start)),
            mapping != MAP_FAILED
        else {
            throw Posix.error("mmap", path)
        }
        window = mapping
        windowStart = start
        windowLength = length
    }

    private func unmapWindow() {
        guard let mapped = window else { return }
        // Dirty pages stay in the page cache after munmap; fdatasync still covers them.
        _ = munmap(mapped, windowLength)
        window = nil
        windowLength = 0
    }
}
