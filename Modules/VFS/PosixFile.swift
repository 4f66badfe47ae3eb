#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Encoding

/// A descriptor opened for sequential writes. Writes go straight to `pwrite` at the tracked end
/// of the file; callers are expected to batch (the WAL and table writers buffer 64 KiB).
final class PosixWritableFile: WritableFile {
    let path: String
    private(set) var size: UInt64
    private var descriptor: Int32

    init(descriptor: Int32, path: String, size: UInt64) {
        self.descriptor = descriptor
        self.path = path
        self.size = size
    }

    deinit {
        if descriptor >= 0 { _ = Glibc_close(descriptor) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard descriptor >= 0 else { throw StrataError.io(path: path, errno: EBADF, operation: "pwrite") }
        guard var cursor = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = pwrite(descriptor, cursor, remaining, off_t(size))
            if written < 0 {
                if errno == EINTR { continue }
                throw Posix.error("pwrite", path)
            }
            // A short write is legal (e.g. a signal); continue after what was written.
            cursor += written
            remaining -= written
            size += UInt64(written)
        }
    }

    func sync() throws {
        try Posix.dataSync(descriptor, path)
    }

    func truncate(to newSize: UInt64) throws {
        guard descriptor >= 0 else { throw StrataError.io(path: path, errno: EBADF, operation: "ftruncate") }
        guard ftruncate(descriptor, off_t(newSize)) == 0 else { throw Posix.error("ftruncate", path) }
        size = newSize
    }

    func close() throws {
        guard descriptor >= 0 else { return }
        let result = Glibc_close(descriptor)
        descriptor = -1
        // Linux releases the descriptor even when close reports an error; report it all the same.
        if result != 0 { throw Posix.error("close", path) }
    }
}

/// A descriptor opened for `pread`. Closed when the last reference goes, so concurrent readers
/// sharing it through the table cache can never read from a closed (or reused) descriptor.
final class PosixReadableFile: ReadableFile {
    let path: String
    private let descriptor: Int32

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        _ = Glibc_close(descriptor)
    }

    func size() throws -> UInt64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Posix.error("fstat", path) }
        return UInt64(info.st_size)
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var total = 0
        while total < buffer.count {
            let got = pread(descriptor, base + total, buffer.count - total, off_t(offset) + off_t(total))
            if got < 0 {
                if errno == EINTR { continue }
                throw Posix.error("pread", path)
            }
            if got == 0 { break }  // end of file
            total += got
        }
        return total
    }

    func prefetch(at offset: UInt64, count: Int) {
        guard count > 0, offset < UInt64(Int64.max) else { return }
        // Asynchronous: the kernel queues the reads into the page cache and returns.
        _ = posix_fadvise(descriptor, off_t(offset), off_t(count), POSIX_FADV_WILLNEED)
    }
}

/// A held `flock`; the descriptor is closed (releasing the lock) on `unlock()` or deinit.
final class PosixFileLock: FileLock {
    let path: String
    private let descriptor: Locked<Int32>

    init(descriptor: Int32, path: String) {
        self.descriptor = Locked(descriptor)
        self.path = path
    }

    deinit { unlock() }

    func unlock() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            _ = flock(descriptor, LOCK_UN)
            _ = Glibc_close(descriptor)
            descriptor = -1
        }
    }
}
