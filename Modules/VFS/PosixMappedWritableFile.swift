#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding

/// A file appended to through a shared memory mapping (`FileSystem.openMappedWritable`).
///
/// The file is extended ahead of the writer in windows of `windowSize` bytes: each window is
/// first reserved on disk with `posix_fallocate` (so running out of space is a clean `ENOSPC`
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
/// Thread safety: not thread-safe; one owner writes.
final class PosixMappedWritableFile: WritableFile {
    /// Bytes mapped (and reserved) at a time: a multiple of every page size in use.
    static let windowSize = 1 << 20

    let path: String
    /// Logical size: existing bytes plus everything appended.
    private(set) var size: UInt64
    private var descriptor: Int32
    /// The file's length on disk (data plus the reserved zero tail).
    private var reserved: UInt64
    /// The current window's mapping, covering `[windowStart, windowStart + windowSize)`.
    private var window: UnsafeMutableRawPointer?
    private var windowStart: UInt64 = 0

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
            if window == nil || size >= windowStart + UInt64(PosixMappedWritableFile.windowSize) {
                try mapWindow(containing: size)
            }
            let offset = Int(size - windowStart)
            let count = min(remaining, PosixMappedWritableFile.windowSize - offset)
            // The window is mapped read-write over reserved blocks of the file, and
            // `offset + count` stays inside it (checked just above).
            (window! + offset).copyMemory(from: source, byteCount: count)
            source += count
            remaining -= count
            size += UInt64(count)
        }
    }

    func sync() throws {
        guard descriptor >= 0 else { throw StrataError.io(path: path, errno: EBADF, operation: "fdatasync") }
        #if os(Linux)
        let result = fdatasync(descriptor)
        #else
        let result = fsync(descriptor)
        #endif
        guard result == 0 else { throw Posix.error("fdatasync", path) }
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
        let size = UInt64(PosixMappedWritableFile.windowSize)
        let start = offset / size * size
        let end = start + size
        if reserved < end {
            var result: Int32
            repeat {
                result = posix_fallocate(descriptor, off_t(reserved), off_t(end - reserved))
            } while result == EINTR
            guard result == 0 else { throw StrataError.io(path: path, errno: result, operation: "posix_fallocate") }
            reserved = end
        }
        guard let mapping = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, off_t(start)),
            mapping != MAP_FAILED
        else {
            throw Posix.error("mmap", path)
        }
        window = mapping
        windowStart = start
    }

    private func unmapWindow() {
        guard let mapped = window else { return }
        // Dirty pages stay in the page cache after munmap; fdatasync still covers them.
        _ = munmap(mapped, PosixMappedWritableFile.windowSize)
        window = nil
    }
}
