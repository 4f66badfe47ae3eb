#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Encoding

/// An in-memory file system for fast tests that can simulate a power cut.
///
/// It keeps two views of the world:
/// - the **live** view: what a running process sees (every write, create, rename, remove);
/// - the **durable** view: what a disk would hold after losing power. A file's bytes become
///   durable when the file is synced; a directory entry (a creation, rename or removal) becomes
///   durable when its directory is synced — exactly the two rules a crash-safe engine must follow.
///
/// `simulatePowerCut()` throws the live view away and continues from the durable one; handles
/// opened before the cut fail with `EIO` afterwards, as a dead process's would. Directory
/// creation is treated as immediately durable (Strata creates its directory once, before any file).
///
/// Thread safety: all state sits behind one mutex; every method may be called from any thread.
public final class MemoryFileSystem: FileSystem {
    /// What happens to bytes that were written but not synced when the power goes.
    public enum UnsyncedBytes: Sendable {
        /// They are all lost (the model's worst case, and the default).
        case dropAll
        /// A random prefix of each file's unsynced appended bytes survives (a torn write), chosen
        /// by a generator seeded with the value given.
        case keepRandomPrefix(seed: UInt64)
    }

    /// The storage behind one file name; shared by every handle and by both views.
    ///
    /// `@unchecked Sendable`: its fields are read and written only while holding the file
    /// system's mutex (every access is inside `state.withLock`).
    final class Inode: @unchecked Sendable {
        var data: [UInt8] = []
        var durableData: [UInt8] = []
    }

    struct State {
        var files: [String: Inode] = [:]
        var durableFiles: [String: Inode] = [:]
        var directories: Set<String> = ["/", "."]
        var locks: Set<String> = []
        var generation = 0
        var syncCount = 0
        var bytesWritten = 0
        var prefetches: [Prefetch] = []
    }

    /// A read-ahead hint a reader gave (`ReadableFile.prefetch(at:count:)`).
    public struct Prefetch: Sendable, Equatable {
        /// The file's path.
        public var path: String
        /// Where the hinted bytes start.
        public var offset: UInt64
        /// How many bytes were hinted.
        public var count: Int
    }

    let state = Locked(State())

    /// Creates an empty file system holding only the root directory.
    public init() {}

    // MARK: - Inspection and surgery (for tests)

    /// How many file `sync()` calls have completed.
    public var syncCount: Int { state.withLock { $0.syncCount } }

    /// How many bytes have been appended in total.
    public var bytesWritten: Int { state.withLock { $0.bytesWritten } }

    /// Every read-ahead hint given so far, in order (the file system only records them).
    public var prefetches: [Prefetch] { state.withLock { $0.prefetches } }

    /// The live contents of the file at `path`, or `nil` when there is none.
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { $0.files[Path.normalized(path)]?.data }
    }

    /// Replaces the contents of `path` (live and durable) with `bytes`, creating it durably if
    /// needed. For byte surgery in corruption tests.
    public func setContents(of path: String, to bytes: [UInt8]) {
        let path = Path.normalized(path)
        state.withLock { state in
            let inode = state.files[path] ?? Inode()
            inode.data = bytes
            inode.durableData = bytes
            state.files[path] = inode
            state.durableFiles[path] = inode
        }
    }

    /// Simulates losing power: everything not durable is lost, the durable view becomes live,
    /// locks held by the "dead process" are released, and old handles stop working.
    public func simulatePowerCut(_ unsynced: UnsyncedBytes = .dropAll) {
        state.withLock { state in
            var generator: SplitMix64? = nil
            if case .keepRandomPrefix(let seed) = unsynced { generator = SplitMix64(seed: seed) }
            var seen = Set<ObjectIdentifier>()
            // Sorted for determinism: the random prefixes must not depend on dictionary order.
            for path in state.durableFiles.keys.sorted() {
                let inode = state.durableFiles[path]!
                guard seen.insert(ObjectIdentifier(inode)).inserted else { continue }
                var survivor = inode.durableData
                if var random = generator, inode.data.count > survivor.count,
                    inode.data.starts(with: survivor)
                {
                    let extra = Int(random.next() % UInt64(inode.data.count - survivor.count + 1))
                    survivor.append(contentsOf: inode.data[survivor.count..<(survivor.count + extra)])
                    generator = random
                }
                inode.data = survivor
                inode.durableData = survivor
            }
            state.files = state.durableFiles
            state.locks = []
            state.generation += 1
        }
    }

    // MARK: - FileSystem

    /// Opens `path` for sequential writing (`FileSystem.openWritable(_:mode:)`).
    public func openWritable(_ path: String, mode: WriteMode) throws -> any WritableFile {
        let path = Path.normalized(path)
        return try state.withLock { state in
            try Self.requireParent(of: path, in: state)
            if state.directories.contains(path) { throw StrataError.io(path: path, errno: EISDIR, operation: "open") }
            let inode: Inode
            if let existing = state.files[path] {
                switch mode {
                case .createNew: throw StrataError.io(path: path, errno: EEXIST, operation: "open")
                case .truncate: existing.data = []
                case .append: break
                }
                inode = existing
            } else {
                inode = Inode()
                state.files[path] = inode
            }
            return MemoryWritableFile(fileSystem: self, inode: inode, path: path, generation: state.generation)
        }
    }

    /// Opens an existing file for positional reads (`FileSystem.openReadable(_:)`).
    public func openReadable(_ path: String) throws -> any ReadableFile {
        let path = Path.normalized(path)
        return try state.withLock { state in
            guard let inode = state.files[path] else {
                throw StrataError.io(path: path, errno: state.directories.contains(path) ? EISDIR : ENOENT, operation: "open")
            }
            return MemoryReadableFile(fileSystem: self, inode: inode, path: path, generation: state.generation)
        }
    }

    /// Whether a file or directory exists at `path`.
    public func exists(_ path: String) -> Bool {
        let path = Path.normalized(path)
        return state.withLock { $0.files[path] != nil || $0.directories.contains(path) }
    }

    /// Whether `path` is an existing directory.
    public func isDirectory(_ path: String) -> Bool {
        let path = Path.normalized(path)
        return state.withLock { $0.directories.contains(path) }
    }

    /// The size of the file at `path` in bytes.
    public func fileSize(_ path: String) throws -> UInt64 {
        let path = Path.normalized(path)
        return try state.withLock { state in
            guard let inode = state.files[path] else { throw StrataError.io(path: path, errno: ENOENT, operation: "stat") }
            return UInt64(inode.data.count)
        }
    }

    /// The names of the entries of directory `path`, without `.` and `..`.
    public func listDirectory(_ path: String) throws -> [String] {
        let path = Path.normalized(path)
        return try state.withLock { state in
            guard state.directories.contains(path) else {
                throw StrataError.io(path: path, errno: state.files[path] != nil ? ENOTDIR : ENOENT, operation: "opendir")
            }
            let files = state.files.keys.filter { Path.directory(of: $0) == path }
            let directories = state.directories.filter { $0 != path && Path.directory(of: $0) == path }
            return (files + directories).map { Path.lastComponent(of: $0) }
        }
    }

    /// Creates directory `path` (and missing parents); an existing directory is not an error.
    public func createDirectory(_ path: String) throws {
        let path = Path.normalized(path)
        try state.withLock { state in
            var current = path
            var missing: [String] = []
            while !state.directories.contains(current) {
                if state.files[current] != nil { throw StrataError.io(path: current, errno: EEXIST, operation: "mkdir") }
                missing.append(current)
                let parent = Path.directory(of: current)
                if parent == current { break }
                current = parent
            }
            state.directories.formUnion(missing)
        }
    }

    /// Deletes the file at `path`.
    public func removeFile(_ path: String) throws {
        let path = Path.normalized(path)
        try state.withLock { state in
            guard state.files.removeValue(forKey: path) != nil else {
                throw StrataError.io(path: path, errno: ENOENT, operation: "unlink")
            }
        }
    }

    /// A hard link: both names share one inode (so one's unsynced bytes are the other's).
    public func linkFile(_ source: String, to destination: String) throws {
        let source = Path.normalized(source)
        let destination = Path.normalized(destination)
        try state.withLock { state in
            guard let inode = state.files[source] else {
                throw StrataError.io(path: source, errno: ENOENT, operation: "link to \(destination)")
            }
            guard state.files[destination] == nil else {
                throw StrataError.io(path: destination, errno: EEXIST, operation: "link")
            }
            try Self.requireParent(of: destination, in: state)
            state.files[destination] = inode
        }
    }

    /// Renames `source` to `destination`, replacing it atomically.
    public func rename(_ source: String, to destination: String) throws {
        let source = Path.normalized(source)
        let destination = Path.normalized(destination)
        try state.withLock { state in
            guard let inode = state.files[source] else {
                throw StrataError.io(path: source, errno: ENOENT, operation: "rename to \(destination)")
            }
            try Self.requireParent(of: destination, in: state)
            state.files.removeValue(forKey: source)
            state.files[destination] = inode
        }
    }

    /// Makes the directory entries of `path` durable (`fsync` of the directory).
    public func syncDirectory(_ path: String) throws {
        let path = Path.normalized(path)
        try state.withLock { state in
            guard state.directories.contains(path) else {
                throw StrataError.io(path: path, errno: ENOENT, operation: "fsync")
            }
            // The directory's durable entries become exactly its live entries.
            for name in state.durableFiles.keys where Path.directory(of: name) == path && state.files[name] == nil {
                state.durableFiles.removeValue(forKey: name)
            }
            for (name, inode) in state.files where Path.directory(of: name) == path {
                state.durableFiles[name] = inode
            }
        }
    }

    /// Takes the exclusive lock on the file at `path`, creating it if needed.
    public func lock(_ path: String) throws -> any FileLock {
        let path = Path.normalized(path)
        return try state.withLock { state in
            try Self.requireParent(of: path, in: state)
            guard !state.locks.contains(path) else {
                throw StrataError.locked(path: path, holder: "this process (MemoryFileSystem)")
            }
            if state.files[path] == nil { state.files[path] = Inode() }
            state.locks.insert(path)
            return MemoryFileLock(fileSystem: self, path: path, generation: state.generation)
        }
    }

    // MARK: - Internal

    static func requireParent(of path: String, in state: State) throws {
        let parent = Path.directory(of: path)
        guard state.directories.contains(parent) else {
            throw StrataError.io(path: path, errno: ENOENT, operation: "open")
        }
    }

    /// Runs `body` on the state after checking that a handle of `generation` is still valid.
    func withLiveHandle<R>(generation: Int, path: String, operation: String, _ body: (inout State) throws -> R) throws -> R {
        try state.withLock { state in
            guard state.generation == generation else {
                throw StrataError.io(path: path, errno: EIO, operation: "\(operation) (handle from before a power cut)")
            }
            return try body(&state)
        }
    }
}

/// A writable handle on a `MemoryFileSystem` inode.
final class MemoryWritableFile: WritableFile {
    let fileSystem: MemoryFileSystem
    let inode: MemoryFileSystem.Inode
    let path: String
    let generation: Int
    private var closed = false

    init(fileSystem: MemoryFileSystem, inode: MemoryFileSystem.Inode, path: String, generation: Int) {
        self.fileSystem = fileSystem
        self.inode = inode
        self.path = path
        self.generation = generation
    }

    var size: UInt64 {
        fileSystem.state.withLock { _ in UInt64(inode.data.count) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try checkOpen("write")
        try fileSystem.withLiveHandle(generation: generation, path: path, operation: "write") { state in
            inode.data.append(contentsOf: bytes)
            state.bytesWritten += bytes.count
        }
    }

    func sync() throws {
        try checkOpen("fdatasync")
        try fileSystem.withLiveHandle(generation: generation, path: path, operation: "fdatasync") { state in
            inode.durableData = inode.data
            state.syncCount += 1
        }
    }

    func truncate(to size: UInt64) throws {
        try checkOpen("ftruncate")
        try fileSystem.withLiveHandle(generation: generation, path: path, operation: "ftruncate") { _ in
            let newCount = Int(clamping: size)
            if newCount < inode.data.count {
                inode.data.removeSubrange(newCount...)
            } else {
                inode.data.append(contentsOf: repeatElement(0, count: newCount - inode.data.count))
            }
        }
    }

    func close() throws {
        closed = true
    }

    private func checkOpen(_ operation: String) throws {
        if closed { throw StrataError.io(path: path, errno: EBADF, operation: operation) }
    }
}

/// A readable handle on a `MemoryFileSystem` inode; it touches the inode only inside the file
/// system's mutex.
final class MemoryReadableFile: ReadableFile {
    let fileSystem: MemoryFileSystem
    let inode: MemoryFileSystem.Inode
    let path: String
    let generation: Int

    init(fileSystem: MemoryFileSystem, inode: MemoryFileSystem.Inode, path: String, generation: Int) {
        self.fileSystem = fileSystem
        self.inode = inode
        self.path = path
        self.generation = generation
    }

    func size() throws -> UInt64 {
        try fileSystem.withLiveHandle(generation: generation, path: path, operation: "fstat") { _ in
            UInt64(inode.data.count)
        }
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try fileSystem.withLiveHandle(generation: generation, path: path, operation: "pread") { _ in
            guard offset < UInt64(inode.data.count), buffer.count > 0 else { return 0 }
            let start = Int(offset)
            let count = min(buffer.count, inode.data.count - start)
            inode.data.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count)
            }
            return count
        }
    }

    func prefetch(at offset: UInt64, count: Int) {
        fileSystem.state.withLock { $0.prefetches.append(MemoryFileSystem.Prefetch(path: path, offset: offset, count: count)) }
    }
}

/// A lock held in a `MemoryFileSystem`.
final class MemoryFileLock: FileLock {
    let fileSystem: MemoryFileSystem
    let path: String
    let generation: Int
    private let released = Atomic<Bool>(false)

    init(fileSystem: MemoryFileSystem, path: String, generation: Int) {
        self.fileSystem = fileSystem
        self.path = path
        self.generation = generation
    }

    deinit { unlock() }

    func unlock() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        fileSystem.state.withLock { state in
            // A power cut already released every lock; do not release a newer holder's lock.
            if state.generation == generation { state.locks.remove(path) }
        }
    }
}

/// A small deterministic generator (SplitMix64) for reproducible simulations.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
