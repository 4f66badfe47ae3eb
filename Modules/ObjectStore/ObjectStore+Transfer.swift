import Encoding
import VFS

extension ObjectStore {
    /// Every object whose key starts with `prefix`, in key order, fetched a page at a time (only
    /// one page is held at once).
    public func objects(prefix: String, pageSize: Int = ObjectStoreLimits.maximumListLimit) -> ObjectListingSequence {
        ObjectListingSequence(store: self, prefix: prefix, pageSize: pageSize)
    }

    /// Uploads the file's bytes as the object `key`, holding at most one part in memory: one
    /// `put` when the file fits in `partSize`, else a multipart upload of `partSize` parts (at
    /// least ``ObjectStoreLimits/minimumPartSize``), aborted when any step fails.
    ///
    /// - Returns: the object's tag.
    public func upload(_ file: any ReadableFile, to key: String, partSize: Int = 8 << 20, condition: WriteCondition = .none) async throws -> ETag {
        let partSize = max(partSize, ObjectStoreLimits.minimumPartSize)
        let size = try file.size()
        if size <= UInt64(partSize) {
            return try await put(key, try file.readExactly(at: 0, count: Int(size)).array, condition: condition)
        }
        guard condition == .none else {
            throw StrataError.invalidArgument("a conditional upload must fit in one part (\(partSize) bytes); \(key) has \(size)")
        }
        let upload = try await createMultipartUpload(key)
        do {
            var parts: [CompletedPart] = []
            var offset: UInt64 = 0
            while offset < size {
                let count = Int(min(UInt64(partSize), size - offset))
                let bytes = try file.readExactly(at: offset, count: count).array
                let number = parts.count + 1
                parts.append(CompletedPart(partNumber: number, etag: try await uploadPart(key, upload: upload, partNumber: number, bytes: bytes)))
                offset += UInt64(count)
            }
            return try await completeMultipartUpload(key, upload: upload, parts: parts)
        } catch {
            try? await abortMultipartUpload(key, upload: upload)
            throw error
        }
    }

    /// Appends the object's bytes to `file` with ranged reads of `chunkSize`, holding at most one
    /// chunk in memory, and returns the number of bytes written.
    ///
    /// - Throws: `.notFound`; `StrataError.corruption` naming the key when the object ends before
    ///   the size `head` reported (it was replaced or truncated during the download).
    public func download(_ key: String, to file: any WritableFile, chunkSize: Int = 8 << 20) async throws -> UInt64 {
        guard let info = try await head(key) else {
            throw StrataError.objectStore(ObjectStoreFailure(kind: .notFound, store: description, operation: "GET", key: key, status: 404, code: "NoSuchKey", message: "no such object"))
        }
        let chunk = UInt64(max(1, chunkSize))
        var offset: UInt64 = 0
        while offset < info.size {
            let bytes = try await get(key, range: offset..<min(info.size, offset + chunk))
            guard !bytes.isEmpty else {
                throw StrataError.corruption(file: "\(description)/\(key)", offset: Int(offset), reason: "the object ended at \(offset) bytes; its listed size is \(info.size)")
            }
            try bytes.withUnsafeBytes { try file.append($0) }
            offset += UInt64(bytes.count)
        }
        return offset
    }
}

/// The objects under a prefix, listed a page at a time (see ``ObjectStore/objects(prefix:pageSize:)``).
public struct ObjectListingSequence: AsyncSequence, Sendable {
    /// Each listed object.
    public typealias Element = ObjectInfo

    let store: any ObjectStore
    let prefix: String
    let pageSize: Int

    /// An iterator that fetches the next page when the current one is used up.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let store: any ObjectStore
        let prefix: String
        let pageSize: Int
        var page: [ObjectInfo] = []
        var index = 0
        var lastKey: String?
        var finished = false

        /// The next object, or `nil` after the last.
        public mutating func next() async throws -> ObjectInfo? {
            while index == page.count {
                guard !finished else { return nil }
                let listing = try await store.list(prefix: prefix, startAfter: lastKey, limit: pageSize)
                page = listing.objects
                index = 0
                lastKey = page.last?.key ?? lastKey
                finished = !listing.isTruncated || page.isEmpty
            }
            defer { index += 1 }
            return page[index]
        }
    }

    /// Starts listing.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(store: store, prefix: prefix, pageSize: pageSize)
    }
}
