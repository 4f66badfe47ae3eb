#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Encoding

/// Wraps another file system and makes chosen operations fail (Pebble's `errorfs`).
///
/// Faults are armed with `inject(_:)`: "fail the 3rd `sync` on a path containing `wal-`", "fail
/// every `rename` from now on". A disk capacity makes appends fail with `ENOSPC` once the total
/// written would exceed it. Injected failures surface exactly as real ones do:
/// `StrataError.io(path:errno:operation:)` with the file's path.
///
/// Thread safety: all state sits behind one mutex; every method may be called from any thread.
public final class FaultInjectionFileSystem: FileSystem {
    /// The operations a fault can target.
    public enum Operation: String, Sendable, CaseIterable {
        /// Opening a file for writing (this includes creating it).
        case openWritable
        /// Opening a file for reading.
        case openReadable
        /// `WritableFile.append`.
        case write
        /// `WritableFile.sync`.
        case sync
        /// `WritableFile.truncate`.
        case truncate
        /// `ReadableFile.read`.
        case read
        /// `FileSystem.rename`.
        case rename
        /// `FileSystem.removeFile`.
        case remove
        /// `FileSystem.syncDirectory`.
        case syncDirectory
        /// `FileSystem.listDirectory`.
        case list
        /// `FileSystem.createDirectory`.
        case createDirectory
        /// `FileSystem.lock`.
        case lock
        /// `linkFile`.
        case link
    }

    /// One armed fault.
    public struct Fault: Sendable {
        /// The operation that fails.
        public var operation: Operation
        /// Only operations on paths containing this text count (all paths when `nil`).
        public var pathContains: String?
        /// How many matching operations succeed before the first failure.
        public var after: Int
        /// The error number of the failure.
        public var errno: Int32
        /// When `true` every matching operation after the first failure fails too; otherwise
        /// the fault fires once and is disarmed.
        public var persistent: Bool

        /// Creates a fault. See the properties for the meaning of each parameter.
        public init(_ operation: Operation, pathContains: String? = nil, after: Int = 0, errno: Int32 = EIO, persistent: Bool = false) {
            self.operation = operation
            self.pathContains = pathContains
            self.after = after
            self.errno = errno
            self.persistent = persistent
        }
    }

    struct State {
        var faults: [Fault] = []
        var capacity: Int? = nil
        var written = 0
        var operationCounts: [Operation: Int] = [:]
        var injectedFailures = 0
    }

    /// The wrapped file system.
    public let base: any FileSystem
    private let state = Locked(State())

    /// Wraps `base`; no faults are armed at first.
    public init(wrapping base: any FileSystem) {
        self.base = base
    }

    /// Arms a fault.
    public func inject(_ fault: Fault) {
        state.withLock { $0.faults.append(fault) }
    }

    /// Makes every operation fail from now on with `errno` — the process using this file system
    /// has "died" (crash tests fence off a dead database object this way before reopening the
    /// same files through a fresh wrapper).
    public func failAllOperations(errno: Int32 = EIO) {
        state.withLock { state in
            state.faults = Operation.allCases.map { Fault($0, errno: errno, persistent: true) }
        }
    }

    /// Disarms every fault and removes the capacity limit.
    public func clearFaults() {
        state.withLock { state in
            state.faults = []
            state.capacity = nil
        }
    }

    /// Limits the bytes that can be appended from now on (counting from zero); beyond it appends
    /// fail with `ENOSPC`. `nil` removes the limit.
    public func setDiskCapacity(_ bytes: Int?) {
        state.withLock { state in
            state.capacity = bytes
            state.written = 0
        }
    }

    /// How many times each operation has been attempted.
    public var operationCounts: [Operation: Int] { state.withLock { $0.operationCounts } }

    /// How many failures have been injected so far.
    public var injectedFailures: Int { state.withLock { $0.injectedFailures } }

    /// Counts `operation` on `path` and throws if an armed fault fires.
    func check(_ operation: Operation, _ path: String, name: String? = nil) throws {
        let failure: Int32? = state.withLock { state in
            state.operationCounts[operation, default: 0] += 1
            for index in state.faults.indices {
                var fault = state.faults[index]
                guard fault.operation == operation else { continue }
                if let filter = fault.pathContains, !path.contains(filter) { continue }
                if fault.after > 0 {
                    fault.after -= 1
                    state.faults[index] = fault
                    continue
                }
                if !fault.persistent { state.faults.remove(at: index) }
                state.injectedFailures += 1
                return fault.errno
            }
            return nil
        }
        if let failure {
            throw StrataError.io(path: path, errno: failure, operation: name ?? operation.rawValue)
        }
    }

    /// Reserves `count` bytes of the capacity, throwing `ENOSPC` when they do not fit.
    func reserve(_ count: Int, _ path: String) throws {
        let full = state.withLock { state -> Bool in
            if let capacity = state.capacity, state.written + count > capacity {
                state.injectedFailures += 1
                return true
            }
            state.written += count
            return false
        }
        if full { throw StrataError.io(path: path, errno: ENOSPC, operation: "pwrite") }
    }

    // MARK: - FileSystem

    /// Opens `path` for sequential writing (`FileSystem.openWritable(_:mode:)`).
    public func openWritable(_ path: String, mode: WriteMode) throws -> any WritableFile {
        try check(.openWritable, path, name: "open")
        return FaultInjectionWritableFile(inner: try base.openWritable(path, mode: mode), owner: self)
    }

    /// Opens an existing file for positional reads (`FileSystem.openReadable(_:)`).
    public func openReadable(_ path: String) throws -> any ReadableFile {
        try check(.openReadable, path, name: "open")
        return FaultInjectionReadableFile(inner: try base.openReadable(path), owner: self)
    }

    /// Whether a file or directory exists at `path`.
    public func exists(_ path: String) -> Bool { base.exists(path) }

    /// Whether `path` is an existing directory.
    public func isDirectory(_ path: String) -> Bool { base.isDirectory(path) }

    /// The size of the file at `path` in bytes.
    public func fileSize(_ path: String) throws -> UInt64 { try base.fileSize(path) }

    /// The names of the entries of directory `path`, without `.` and `..`.
    public func listDirectory(_ path: String) throws -> [String] {
        try check(.list, path, name: "opendir")
        return try base.listDirectory(path)
    }

    /// Creates directory `path` (and missing parents); an existing directory is not an error.
    public func createDirectory(_ path: String) throws {
        try check(.createDirectory, path, name: "mkdir")
        try base.createDirectory(path)
    }

    /// Deletes the file at `path`.
    public func removeFile(_ path: String) throws {
        try check(.remove, path, name: "unlink")
        try base.removeFile(path)
    }

    /// Creates `destination` as a second name of `source` (`FileSystem.linkFile(_:to:)`).
    public func linkFile(_ source: String, to destination: String) throws {
        try check(.link, destination, name: "link")
        try base.linkFile(source, to: destination)
    }

    /// Renames `source` to `destination`, replacing it atomically.
    public func rename(_ source: String, to destination: String) throws {
        try check(.rename, source, name: "rename to \(destination)")
        try base.rename(source, to: destination)
    }

    /// Makes the directory entries of `path` durable (`fsync` of the directory).
    public func syncDirectory(_ path: String) throws {
        try check(.syncDirectory, path, name: "fsync")
        try base.syncDirectory(path)
    }

    /// Takes the exclusive lock on the file at `path`, creating it if needed.
    public func lock(_ path: String) throws -> any FileLock {
        try check(.lock, path, name: "flock")
        return try base.lock(path)
    }
}

/// A writable file whose operations pass through the owner's fault checks.
final class FaultInjectionWritableFile: WritableFile {
    let inner: any WritableFile
    let owner: FaultInjectionFileSystem

    init(inner: any WritableFile, owner: FaultInjectionFileSystem) {
        self.inner = inner
        self.owner = owner
    }

    var path: String { inner.path }
    var size: UInt64 { inner.size }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try owner.check(.write, path, name: "pwrite")
        try owner.reserve(bytes.count, path)
        try inner.append(bytes)
    }

    func sync() throws {
        try owner.check(.sync, path, name: "fdatasync")
        try inner.sync()
    }

    func truncate(to size: UInt64) throws {
        try owner.check(.truncate, path, name: "ftruncate")
        try inner.truncate(to: size)
    }

    func close() throws { try inner.close() }
}

/// A readable file whose reads pass through the owner's fault checks.
final class FaultInjectionReadableFile: ReadableFile {
    let inner: any ReadableFile
    let owner: FaultInjectionFileSystem

    init(inner: any ReadableFile, owner: FaultInjectionFileSystem) {
        self.inner = inner
        self.owner = owner
    }

    var path: String { inner.path }

    func size() throws -> UInt64 { try inner.size() }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try owner.check(.read, path, name: "pread")
        return try inner.read(at: offset, into: buffer)
    }
}
