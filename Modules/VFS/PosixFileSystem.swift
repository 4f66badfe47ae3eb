#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding

/// The real file system, on raw file descriptors (`open` with `O_CLOEXEC`, `pread`, `pwrite`,
/// `fdatasync`, `flock`). No Foundation, no `FileHandle`: callers batch their writes (guide B.5).
///
/// Thread safety: stateless; every method may be called from any thread.
public struct PosixFileSystem: FileSystem {
    /// Creates the POSIX file system.
    public init() {}

    /// Opens `path` for sequential writing (`FileSystem.openWritable(_:mode:)`).
    public func openWritable(_ path: String, mode: WriteMode) throws -> any WritableFile {
        let (descriptor, size) = try openForWriting(path, mode: mode, access: O_WRONLY)
        return PosixWritableFile(descriptor: descriptor, path: path, size: size)
    }

    /// A file appended to through a shared mapping (see `PosixMappedWritableFile`).
    public func openMappedWritable(_ path: String, mode: WriteMode) throws -> any WritableFile {
        // A shared writable mapping needs a descriptor opened for reading too.
        let (descriptor, size) = try openForWriting(path, mode: mode, access: O_RDWR)
        return PosixMappedWritableFile(descriptor: descriptor, path: path, size: size)
    }

    private func openForWriting(_ path: String, mode: WriteMode, access: Int32) throws -> (Int32, UInt64) {
        var flags = access | O_CREAT | O_CLOEXEC
        switch mode {
        case .createNew: flags |= O_EXCL
        case .truncate: flags |= O_TRUNC
        case .append: break
        }
        let descriptor = try Posix.retrying("open", path) { open(path, flags, 0o644) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = Posix.error("fstat", path)
            _ = Glibc_close(descriptor)
            throw error
        }
        return (descriptor, UInt64(info.st_size))
    }

    /// Opens an existing file for positional reads (`FileSystem.openReadable(_:)`).
    public func openReadable(_ path: String) throws -> any ReadableFile {
        let descriptor = try Posix.retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        return PosixReadableFile(descriptor: descriptor, path: path)
    }

    /// Maps the whole file read-only (see `PosixMappedReadableFile`); falls back to an ordinary
    /// readable file for an empty file or when the mapping fails (address space exhausted).
    public func openMappedReadable(_ path: String) throws -> any ReadableFile {
        let descriptor = try Posix.retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = Posix.error("fstat", path)
            _ = Glibc_close(descriptor)
            throw error
        }
        let size = Int(info.st_size)
        guard size > 0, let mapping = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), mapping != MAP_FAILED else {
            return PosixReadableFile(descriptor: descriptor, path: path)
        }
        // The mapping keeps the file's pages reachable; the descriptor is no longer needed.
        _ = Glibc_close(descriptor)
        return PosixMappedReadableFile(mapping: UnsafeRawPointer(mapping), size: size, path: path)
    }

    /// Whether a file or directory exists at `path`.
    public func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Whether `path` is an existing directory.
    public func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size of the file at `path` in bytes.
    public func fileSize(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Posix.error("stat", path) }
        return UInt64(info.st_size)
    }

    /// The names of the entries of directory `path`, without `.` and `..`.
    public func listDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw Posix.error("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            // `d_name` is a fixed-size, NUL-terminated C array inside the dirent.
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates directory `path` (and missing parents); an existing directory is not an error.
    public func createDirectory(_ path: String) throws {
        let normalized = Path.normalized(path)
        if isDirectory(normalized) { return }
        let parent = Path.directory(of: normalized)
        if parent != normalized && parent != "." && parent != "/" && !exists(parent) {
            try createDirectory(parent)
        }
        if mkdir(normalized, 0o755) != 0 {
            let code = errno
            if code == EEXIST && isDirectory(normalized) { return }
            throw StrataError.io(path: normalized, errno: code, operation: "mkdir")
        }
    }

    /// Deletes the file at `path`.
    public func removeFile(_ path: String) throws {
        guard unlink(path) == 0 else { throw Posix.error("unlink", path) }
    }

    /// A hard link (`link(2)`); a copy when the two paths are on different file systems
    /// (`EXDEV`) or the file system has no hard links (`EPERM`).
    public func linkFile(_ source: String, to destination: String) throws {
        guard link(source, destination) == 0 else {
            let error = errno
            if error == EXDEV || error == EPERM { return try copyFile(source, to: destination) }
            throw Posix.error("link to \(destination)", source)
        }
    }

    /// Renames `source` to `destination`, replacing it atomically.
    public func rename(_ source: String, to destination: String) throws {
        guard Glibc_rename(source, destination) == 0 else {
            throw Posix.error("rename to \(destination)", source)
        }
    }

    /// Makes the directory entries of `path` durable (`fsync` of the directory).
    public func syncDirectory(_ path: String) throws {
        let descriptor = try Posix.retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY) }
        defer { _ = Glibc_close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Posix.error("fsync", path) }
    }

    /// Takes the exclusive lock on the file at `path`, creating it if needed.
    public func lock(_ path: String) throws -> any FileLock {
        let descriptor = try Posix.retrying("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        // flock locks belong to the open file description, so a second open in this same process
        // conflicts exactly like another process does.
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = Posix.readHolder(descriptor)
            _ = Glibc_close(descriptor)
            if code == EWOULDBLOCK || code == EAGAIN {
                throw StrataError.locked(path: path, holder: holder)
            }
            throw StrataError.io(path: path, errno: code, operation: "flock")
        }
        // Record who holds the lock so a refused opener can say so. Best effort: the lock itself
        // is the flock, not the file's contents.
        let text = Array("pid \(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return PosixFileLock(descriptor: descriptor, path: path)
    }
}

/// Shared helpers for the POSIX implementation.
enum Posix {
    /// The `StrataError.io` for the current `errno`.
    static func error(_ operation: String, _ path: String) -> StrataError {
        .io(path: path, errno: errno, operation: operation)
    }

    /// Makes the data written to `descriptor` durable (`fdatasync`; `fsync` where there is none).
    /// - Throws: `StrataError.io` naming `path`; `EBADF` for a closed file (`descriptor < 0`).
    static func dataSync(_ descriptor: Int32, _ path: String) throws {
        guard descriptor >= 0 else { throw StrataError.io(path: path, errno: EBADF, operation: "fdatasync") }
        #if os(Linux)
        let result = fdatasync(descriptor)
        #else
        let result = fsync(descriptor)
        #endif
        guard result == 0 else { throw error("fdatasync", path) }
    }

    /// Runs a descriptor-returning call, retrying on `EINTR`, throwing on failure.
    static func retrying(_ operation: String, _ path: String, _ call: () -> Int32) throws -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw error(operation, path)
        }
    }

    /// The holder text a lock owner wrote into its lock file, if any.
    static func readHolder(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingTrailingNewlines()
        return text.isEmpty ? nil : text
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var result = self
        while result.hasSuffix("\n") || result.hasSuffix("\r") { result.removeLast() }
        return result
    }
}

// The C functions whose names a protocol method shadows inside `PosixFileSystem`.
@inline(__always) func Glibc_close(_ descriptor: Int32) -> Int32 { close(descriptor) }
@inline(__always) func Glibc_rename(_ source: String, _ destination: String) -> Int32 {
    rename(source, destination)
}
