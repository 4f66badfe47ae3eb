import Encoding

/// How `FileSystem.openWritable(_:mode:)` treats an existing file.
public enum WriteMode: Sendable {
    /// Create the file; fail with `EEXIST` if it exists.
    case createNew
    /// Create the file, or empty it if it exists.
    case truncate
    /// Create the file if missing; keep existing contents and write after them.
    case append
}

/// The file system every Strata file goes through (LevelDB's `Env`, Pebble's `vfs.FS`).
///
/// Swapping the implementation is how tests run in memory (`MemoryFileSystem`), simulate power
/// cuts, and inject faults (`FaultInjectionFileSystem`). Paths are plain strings with `/`
/// separators.
///
/// Every failure is thrown as `StrataError.io(path:errno:operation:)`.
///
/// Thread safety: implementations are safe to call from any thread.
public protocol FileSystem: Sendable {
    /// Opens `path` for sequential writing according to `mode`.
    func openWritable(_ path: String, mode: WriteMode) throws -> any WritableFile

    /// Opens `path` for appending through a shared memory mapping, where the implementation
    /// can: an append is then a copy into the page cache, visible to readers and surviving a
    /// process crash at once, with no system call per append (for logs that must not lose an
    /// acknowledged write when the process dies, yet are appended to in small records).
    ///
    /// Such a file may be longer than its data until `close()`: after a crash its end can be
    /// zero bytes reserved ahead of the writer. Formats written this way must read "nothing
    /// but zeros to the end of the file" as the end of their data.
    ///
    /// The default implementation returns `openWritable(path, mode:)`, whose appends reach the
    /// file system directly and so give the same guarantees.
    func openMappedWritable(_ path: String, mode: WriteMode) throws -> any WritableFile

    /// Opens an existing file for positional reads.
    func openReadable(_ path: String) throws -> any ReadableFile

    /// Opens an existing, immutable file for reading through a shared read-only mapping where
    /// the implementation can: its `mappedBytes` then exposes the whole file, so readers can
    /// use blocks in place without a system call or a copy (LevelDB's mmap reads). The file must
    /// not be truncated or rewritten while open; its size is fixed at open.
    ///
    /// The default implementation returns `openReadable(path)` (no mapping).
    func openMappedReadable(_ path: String) throws -> any ReadableFile

    /// Creates `destination` as a second name of the existing file `source` (a hard link), where
    /// the implementation can: the two then share their bytes, and removing one leaves the
    /// other. The new entry is durable after `syncDirectory` on its directory, like a create.
    ///
    /// The default implementation copies the bytes (streamed in 1 MiB chunks) and syncs the copy.
    ///
    /// - Throws: `.io` with `EEXIST` when `destination` exists, `ENOENT` when `source` does not.
    func linkFile(_ source: String, to destination: String) throws

    /// Whether a file or directory exists at `path`.
    func exists(_ path: String) -> Bool

    /// Whether `path` is an existing directory.
    func isDirectory(_ path: String) -> Bool

    /// The size of the file at `path` in bytes.
    func fileSize(_ path: String) throws -> UInt64

    /// The names (not paths) of the entries of directory `path`, in no particular order,
    /// excluding `.` and `..`.
    func listDirectory(_ path: String) throws -> [String]

    /// Creates directory `path` and any missing parents; succeeds if it already exists.
    func createDirectory(_ path: String) throws

    /// Removes the file at `path`.
    func removeFile(_ path: String) throws

    /// Atomically renames `source` to `destination`, replacing `destination` if it exists.
    /// Durable only after `syncDirectory` of the directory that holds them.
    func rename(_ source: String, to destination: String) throws

    /// Makes the directory's entries (creations, renames, removals) durable (`fsync` on the directory).
    func syncDirectory(_ path: String) throws

    /// Takes an exclusive lock on `path` (created if missing), failing at once with
    /// `StrataError.locked` if anyone — another process or another open in this one — holds it.
    func lock(_ path: String) throws -> any FileLock
}

/// A file open for sequential writing.
///
/// Thread safety: not thread-safe; one owner writes at a time.
public protocol WritableFile: AnyObject {
    /// The file's path.
    var path: String { get }

    /// The file's size: existing bytes plus everything appended.
    var size: UInt64 { get }

    /// Writes `bytes` at the end of the file. The bytes are durable only after `sync()`.
    func append(_ bytes: UnsafeRawBufferPointer) throws

    /// Makes every appended byte durable (`fdatasync`). Does not make the file's directory entry
    /// durable: call `FileSystem.syncDirectory` after creating a file.
    func sync() throws

    /// Cuts the file to `size` bytes (used to drop a torn tail before appending).
    func truncate(to size: UInt64) throws

    /// Closes the file. Unsynced bytes are not made durable. Calling it twice is harmless.
    func close() throws
}

/// A file open for positional reads (`pread`), shareable between threads: reads never move a
/// shared file offset.
public protocol ReadableFile: AnyObject, Sendable {
    /// The file's path.
    var path: String { get }

    /// The file's current size in bytes.
    func size() throws -> UInt64

    /// Reads up to `buffer.count` bytes starting at `offset`.
    ///
    /// - Returns: the number of bytes read; fewer than requested only at the end of the file.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// The whole file in memory, when it is mapped (`FileSystem.openMappedReadable`); valid while
    /// the file object is alive. `nil` for ordinary files (the default).
    var mappedBytes: UnsafeRawBufferPointer? { get }

    /// Drops the process's resident pages of a mapped file (they stay in the page cache), for a
    /// file that is about to stop being read; the bytes stay readable and are faulted back in
    /// if read again. A no-op for ordinary files (the default).
    func releaseResidentPages()

    /// Hints that `count` bytes from `offset` will be read soon, so the system can start
    /// reading them into memory in the background (read-ahead for a scan). Never fails and
    /// never blocks on the read; bytes outside the file are ignored. A no-op by default.
    func prefetch(at offset: UInt64, count: Int)
}

extension ReadableFile {
    /// No read-ahead hint by default.
    public func prefetch(at offset: UInt64, count: Int) {}

    /// Ordinary files are not mapped.
    public var mappedBytes: UnsafeRawBufferPointer? { nil }

    /// Ordinary files hold no mapped pages.
    public func releaseResidentPages() {}
}

/// A held exclusive lock; released by `unlock()` or when the value is deinitialised.
public protocol FileLock: AnyObject, Sendable {
    /// The lock file's path.
    var path: String { get }

    /// Releases the lock. Calling it twice is harmless.
    func unlock()
}

extension ReadableFile {
    /// Reads exactly `count` bytes at `offset` into a new buffer.
    ///
    /// - Throws: `StrataError.corruption` when the file ends first (a file shorter than its
    ///   metadata says is damage, not an I/O error).
    public func readExactly(at offset: UInt64, count: Int) throws -> RawBuffer {
        let buffer = RawBuffer(count: count)
        let got = try read(at: offset, into: buffer.mutableBytes)
        guard got == count else {
            throw StrataError.corruption(
                file: path, offset: Int(offset),
                reason: "file ends after \(got) of \(count) bytes")
        }
        return buffer
    }
}

extension FileSystem {
    /// Ordinary readable files: reads are positional reads.
    public func openMappedReadable(_ path: String) throws -> any ReadableFile {
        try openReadable(path)
    }

    /// Ordinary writable files: every append reaches the file system directly.
    public func openMappedWritable(_ path: String, mode: WriteMode) throws -> any WritableFile {
        try openWritable(path, mode: mode)
    }

    /// Copies `source` to a new file `destination`, 1 MiB at a time, and syncs the copy.
    public func linkFile(_ source: String, to destination: String) throws {
        try copyFile(source, to: destination)
    }

    /// Copies `source` to a new file `destination` (which must not exist), 1 MiB at a time, and
    /// syncs the copy. Memory use is one chunk, whatever the file's size.
    public func copyFile(_ source: String, to destination: String) throws {
        let input = try openReadable(source)
        let size = try input.size()
        let output = try openWritable(destination, mode: .createNew)
        do {
            var offset: UInt64 = 0
            while offset < size {
                let count = Int(min(size - offset, 1 << 20))
                let chunk = try input.readExactly(at: offset, count: count)
                try chunk.withBytes { try output.append($0) }
                offset += UInt64(count)
            }
            try output.sync()
            try output.close()
        } catch {
            try? output.close()
            try? removeFile(destination)
            throw error
        }
    }

    /// Reads a whole (small) file. Meant for files such as `CURRENT`; big files are streamed.
    public func readFile(_ path: String) throws -> [UInt8] {
        let file = try openReadable(path)
        let size = try file.size()
        guard size <= UInt64(Int.max) else {
            throw StrataError.invalidArgument("\(path) is too large to read whole")
        }
        let buffer = try file.readExactly(at: 0, count: Int(size))
        return buffer.array
    }

    /// Writes `bytes` to `path` (replacing it), optionally syncing the data before returning.
    public func writeFile(_ path: String, _ bytes: [UInt8], sync: Bool) throws {
        let file = try openWritable(path, mode: .truncate)
        do {
            try bytes.withUnsafeBytes { try file.append($0) }
            if sync { try file.sync() }
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
    }
}
