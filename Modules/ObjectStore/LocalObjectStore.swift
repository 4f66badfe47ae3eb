#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding
import VFS

/// An object store in a local directory: for tests, for a single machine, and for backups onto
/// a mounted volume (`file:///path`).
///
/// Layout: the object `a/b/c` is the file `ROOT/a/b/c`. New contents are written to a staging
/// file in `ROOT/.strata-staging/`, synced, and moved into place: with `rename` (replace, atomic)
/// or with `link` (create-if-absent, atomic: it fails when the name exists), and the directory is
/// synced, so a stored object survives a power cut. Multipart uploads collect their parts in
/// `ROOT/.strata-uploads/ID/`.
///
/// An entity tag names one version of a file: its inode, size and modification time, so a
/// replacement (a new inode) always gets a new tag, and `head` needs no read.
///
/// Conditional replacement (`.ifMatch`) compares and renames under an exclusive `flock` on
/// `ROOT/.strata-lock` that every other change takes shared, so it is atomic also against other
/// processes using the same directory.
///
/// Limitation of a file system: an object cannot have a key that is a proper prefix, ending at a
/// `/`, of another object's key (`a` and `a/b`); such a `put` throws `.rejected`.
///
/// Blocking calls run on dedicated threads, never on the cooperative pool.
public final class LocalObjectStore: ObjectStore {
    /// The directory holding the objects.
    public let root: String
    private let fileSystem = PosixFileSystem()
    private let failures: ObjectStoreFailures
    private static let executor = BlockingExecutor(maxThreads: 4)
    private static let stagingDirectory = ObjectKey.reservedSegmentPrefix + "staging"
    private static let uploadsDirectory = ObjectKey.reservedSegmentPrefix + "uploads"
    private static let lockFile = ObjectKey.reservedSegmentPrefix + "lock"
    private static let copyChunk = 1 << 20

    /// Opens (creating when missing) a store in the directory `root`.
    ///
    /// - Throws: `.io` when the directory cannot be created.
    public init(root: String) throws {
        self.root = Path.normalized(root)
        self.failures = ObjectStoreFailures(store: "file://" + self.root)
        try fileSystem.createDirectory(self.root)
        try fileSystem.createDirectory(self.root + "/" + Self.stagingDirectory)
        try fileSystem.createDirectory(self.root + "/" + Self.uploadsDirectory)
    }

    /// `file://ROOT`.
    public var description: String { "file://" + root }

    /// Stores the object if `condition` holds (see ``ObjectStore/put(_:_:condition:)``).
    public func put(_ key: String, _ bytes: [UInt8], condition: WriteCondition) async throws -> ETag {
        try ObjectKey.validate(key)
        return try await Self.executor.run { [self] in
            let staging = try writeStaging(bytes)
            defer { try? fileSystem.removeFile(staging) }
            return try withStoreLock(exclusive: condition != .none && condition != .ifAbsent) {
                try install(staging, as: key, condition: condition)
            }
        }
    }

    /// The object's bytes within `range` (see ``ObjectStore/get(_:range:)``).
    public func get(_ key: String, range: Range<UInt64>?) async throws -> [UInt8] {
        try ObjectKey.validate(key)
        try ObjectKey.validateRange(range)
        return try await Self.executor.run { [self] in
            let path = path(of: key)
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                let code = errno
                if code == ENOENT || code == ENOTDIR || code == EISDIR { throw failures.notFound("GET", key) }
                throw StrataError.io(path: path, errno: code, operation: "open")
            }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw StrataError.io(path: path, errno: errno, operation: "fstat") }
            guard (status.st_mode & S_IFMT) == S_IFREG else { throw failures.notFound("GET", key) }
            let size = UInt64(status.st_size)
            let wanted = (range ?? 0..<size).clamped(toSize: size)
            var bytes = [UInt8](repeating: 0, count: wanted.count)
            var done = 0
            while done < wanted.count {
                // `bytes` holds `wanted.count` bytes; each pread fills the part from `done` on.
                let count = bytes.withUnsafeMutableBytes { buffer in
                    pread(descriptor, buffer.baseAddress! + done, wanted.count - done, off_t(wanted.lowerBound + done))
                }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw StrataError.io(path: path, errno: count < 0 ? errno : EIO, operation: "pread") }
                done += count
            }
            return bytes
        }
    }

    /// The object's size and tag, or `nil` (see ``ObjectStore/head(_:)``).
    public func head(_ key: String) async throws -> ObjectInfo? {
        try ObjectKey.validate(key)
        return try await Self.executor.run { [self] in
            try info(of: key)
        }
    }

    /// One page of a listing (see ``ObjectStore/list(prefix:startAfter:limit:)``).
    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try ObjectKey.validatePrefix(prefix)
        try ObjectKey.validateListLimit(limit)
        return try await Self.executor.run { [self] in
            // Walk only the directory the prefix's complete segments name.
            let directoryKey = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
            var found: [ObjectInfo] = []
            try walk(directoryKey) { key in
                if key.hasPrefix(prefix), startAfter.map({ $0.utf8.lexicographicallyPrecedes(key.utf8) }) ?? true,
                   let info = try info(of: key) {
                    found.append(info)
                }
            }
            return ObjectListing.page(of: found, startAfter: startAfter, limit: limit)
        }
    }

    /// Removes the object; a missing one is fine (see ``ObjectStore/delete(_:)``).
    public func delete(_ key: String) async throws {
        try ObjectKey.validate(key)
        try await Self.executor.run { [self] in
            try withStoreLock(exclusive: false) {
                let path = path(of: key)
                guard unlink(path) == 0 else {
                    let code = errno
                    if code == ENOENT || code == ENOTDIR || code == EISDIR { return }
                    throw StrataError.io(path: path, errno: code, operation: "unlink")
                }
                try fileSystem.syncDirectory(Path.directory(of: path))
            }
        }
    }

    /// Starts a multipart upload (see ``ObjectStore/createMultipartUpload(_:)``).
    public func createMultipartUpload(_ key: String) async throws -> MultipartUploadID {
        try ObjectKey.validate(key)
        return try await Self.executor.run { [self] in
            let id = MultipartUploadID(Self.randomName())
            let directory = uploadDirectory(id)
            try fileSystem.createDirectory(directory)
            try fileSystem.writeFile(directory + "/key", Array(key.utf8), sync: true)
            return id
        }
    }

    /// Stores one part of an upload (see ``ObjectStore/uploadPart(_:upload:partNumber:bytes:)``).
    public func uploadPart(_ key: String, upload: MultipartUploadID, partNumber: Int, bytes: [UInt8]) async throws -> ETag {
        try ObjectKey.validate(key)
        try ObjectKey.validatePartNumber(partNumber)
        return try await Self.executor.run { [self] in
            try checkUpload(upload, key: key, operation: "UPLOAD-PART")
            let staging = try writeStaging(bytes)
            defer { try? fileSystem.removeFile(staging) }
            let partPath = partPath(upload, partNumber)
            try fileSystem.rename(staging, to: partPath)
            guard let tag = try Self.etag(of: partPath) else { throw failures.notFound("UPLOAD-PART", key, "part \(partNumber) vanished") }
            return tag
        }
    }

    /// Joins the parts into the object (see ``ObjectStore/completeMultipartUpload(_:upload:parts:)``).
    public func completeMultipartUpload(_ key: String, upload: MultipartUploadID, parts: [CompletedPart]) async throws -> ETag {
        try ObjectKey.validate(key)
        try ObjectKey.validateCompletedParts(parts)
        return try await Self.executor.run { [self] in
            try checkUpload(upload, key: key, operation: "COMPLETE-UPLOAD")
            var sizes: [Int] = []
            for part in parts {
                let partPath = partPath(upload, part.partNumber)
                guard try Self.etag(of: partPath) == part.etag else {
                    throw failures.rejected("COMPLETE-UPLOAD", key, code: "InvalidPart", "part \(part.partNumber) with tag \(part.etag) was not uploaded")
                }
                sizes.append(Int(try fileSystem.fileSize(partPath)))
            }
            try failures.checkPartSizes(key, sizes: sizes)
            // Join the parts into a staging file, a chunk at a time (memory stays bounded).
            let staging = stagingPath()
            defer { try? fileSystem.removeFile(staging) }
            let output = try fileSystem.openWritable(staging, mode: .createNew)
            var buffer = [UInt8](repeating: 0, count: Self.copyChunk)
            do {
                for part in parts {
                    let input = try fileSystem.openReadable(partPath(upload, part.partNumber))
                    let size = try input.size()
                    var offset: UInt64 = 0
                    while offset < size {
                        let count = Int(min(UInt64(Self.copyChunk), size - offset))
                        try buffer.withUnsafeMutableBytes { chunk in
                            let read = try input.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<count]))
                            guard read == count else { throw StrataError.io(path: partPath(upload, part.partNumber), errno: EIO, operation: "short read") }
                            try output.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
                        }
                        offset += UInt64(count)
                    }
                }
                try output.sync()
                try output.close()
            } catch {
                try? output.close()
                throw error
            }
            let tag = try withStoreLock(exclusive: false) { try install(staging, as: key, condition: .none) }
            try removeUpload(upload)
            return tag
        }
    }

    /// Abandons an upload (see ``ObjectStore/abortMultipartUpload(_:upload:)``).
    public func abortMultipartUpload(_ key: String, upload: MultipartUploadID) async throws {
        try ObjectKey.validate(key)
        try await Self.executor.run { [self] in
            guard (try? checkUpload(upload, key: key, operation: "ABORT-UPLOAD")) != nil else { return }
            try removeUpload(upload)
        }
    }

    // MARK: Files

    private func path(of key: String) -> String { root + "/" + key }

    private func stagingPath() -> String { root + "/" + Self.stagingDirectory + "/" + Self.randomName() }

    private func uploadDirectory(_ upload: MultipartUploadID) -> String { root + "/" + Self.uploadsDirectory + "/" + upload.value }

    private func partPath(_ upload: MultipartUploadID, _ number: Int) -> String {
        let digits = String(number)
        return uploadDirectory(upload) + "/part-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    private static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return String(high, radix: 16) + String(low, radix: 16)
    }

    /// Writes `bytes` to a new, synced staging file and returns its path.
    private func writeStaging(_ bytes: [UInt8]) throws -> String {
        let staging = stagingPath()
        try fileSystem.writeFile(staging, bytes, sync: true)
        return staging
    }

    /// Moves a synced staging file into place as `key` under `condition` and returns the new
    /// version's tag. The caller holds the store lock (exclusively for `.ifMatch`).
    private func install(_ staging: String, as key: String, condition: WriteCondition) throws -> ETag {
        let destination = path(of: key)
        let directory = Path.directory(of: destination)
        do {
            try fileSystem.createDirectory(directory)
        } catch StrataError.io(_, let code, _) where code == ENOTDIR || code == EEXIST {
            throw failures.rejected("PUT", key, code: "KeyConflict", "a proper prefix of the key is an object (a directory store cannot hold both)")
        }
        if isDirectory(destination) {
            throw failures.rejected("PUT", key, code: "KeyConflict", "the key is a prefix of other objects' keys (a directory store cannot hold both)")
        }
        switch condition {
        case .none:
            try fileSystem.rename(staging, to: destination)
        case .ifAbsent:
            do {
                try fileSystem.linkFile(staging, to: destination)
            } catch StrataError.io(_, let code, _) where code == EEXIST {
                throw failures.preconditionFailed("PUT", key, "an object exists under the key (if-absent)")
            }
        case .ifMatch(let expected):
            guard let current = try Self.etag(of: destination) else {
                throw failures.notFound("PUT", key, "no object to match \(expected) against")
            }
            guard current == expected else {
                throw failures.preconditionFailed("PUT", key, "the object's tag is \(current), not \(expected)")
            }
            try fileSystem.rename(staging, to: destination)
        }
        try fileSystem.syncDirectory(directory)
        guard let tag = try Self.etag(of: destination) else { throw failures.notFound("PUT", key, "the object vanished after it was stored") }
        return tag
    }

    private func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// The tag of the regular file at `path`, or `nil` when there is none.
    private static func etag(of path: String) throws -> ETag? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw StrataError.io(path: path, errno: code, operation: "stat")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let nanoseconds = UInt64(status.st_mtim.tv_sec) &* 1_000_000_000 &+ UInt64(status.st_mtim.tv_nsec)
        return ETag("\"\(String(UInt64(status.st_ino), radix: 16))-\(String(UInt64(status.st_size), radix: 16))-\(String(nanoseconds, radix: 16))\"")
    }

    private func info(of key: String) throws -> ObjectInfo? {
        let path = path(of: key)
        guard let tag = try Self.etag(of: path) else { return nil }
        return ObjectInfo(key: key, size: try fileSystem.fileSize(path), etag: tag)
    }

    /// Calls `visit` with the key of every regular file under the directory of `directoryKey`
    /// (the root when empty), skipping the store's reserved entries.
    private func walk(_ directoryKey: String, _ visit: (String) throws -> Void) throws {
        let directory = directoryKey.isEmpty ? root : path(of: directoryKey)
        guard isDirectory(directory) else { return }
        for name in try fileSystem.listDirectory(directory) where !name.hasPrefix(ObjectKey.reservedSegmentPrefix) {
            let key = directoryKey.isEmpty ? name : directoryKey + "/" + name
            if isDirectory(path(of: key)) {
                try walk(key, visit)
            } else {
                try visit(key)
            }
        }
    }

    private func uploadKey(_ upload: MultipartUploadID) throws -> String {
        String(decoding: try fileSystem.readFile(uploadDirectory(upload) + "/key"), as: UTF8.self)
    }

    private func checkUpload(_ upload: MultipartUploadID, key: String, operation: String) throws {
        // Upload ids are our own hexadecimal names; anything else names no upload.
        guard !upload.value.isEmpty, upload.value.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              (try? uploadKey(upload)) == key else {
            throw failures.notFound(operation, key, "no upload \(upload) for this key")
        }
    }

    private func removeUpload(_ upload: MultipartUploadID) throws {
        let directory = uploadDirectory(upload)
        for name in try fileSystem.listDirectory(directory) {
            try fileSystem.removeFile(directory + "/" + name)
        }
        guard rmdir(directory) == 0 || errno == ENOENT else {
            throw StrataError.io(path: directory, errno: errno, operation: "rmdir")
        }
    }

    /// Runs `body` holding the store's `flock`, shared or exclusive.
    private func withStoreLock<Result>(exclusive: Bool, _ body: () throws -> Result) throws -> Result {
        let lockPath = root + "/" + Self.lockFile
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StrataError.io(path: lockPath, errno: errno, operation: "open") }
        defer { close(descriptor) }
        while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw StrataError.io(path: lockPath, errno: errno, operation: "flock") }
        }
        return try body()
    }
}
