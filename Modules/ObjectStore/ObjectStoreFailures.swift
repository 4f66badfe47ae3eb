import Encoding

/// Builds the errors stores throw, so that every store words the same failure alike.
package struct ObjectStoreFailures: Sendable {
    /// The store's URL, as `ObjectStoreFailure.store`.
    package let store: String

    package init(store: String) { self.store = store }

    package func notFound(_ operation: String, _ key: String, _ message: String = "no such object") -> StrataError {
        .objectStore(ObjectStoreFailure(kind: .notFound, store: store, operation: operation, key: key, status: 404, code: "NoSuchKey", message: message))
    }

    package func preconditionFailed(_ operation: String, _ key: String, _ message: String) -> StrataError {
        .objectStore(ObjectStoreFailure(kind: .preconditionFailed, store: store, operation: operation, key: key, status: 412, code: "PreconditionFailed", message: message))
    }

    package func rejected(_ operation: String, _ key: String, code: String, _ message: String) -> StrataError {
        .objectStore(ObjectStoreFailure(kind: .rejected, store: store, operation: operation, key: key, status: 400, code: code, message: message))
    }

    /// The rule S3 applies at completion: every part but the last holds at least 5 MiB.
    package func checkPartSizes(_ key: String, sizes: [Int]) throws {
        for (index, size) in sizes.dropLast().enumerated() where size < ObjectStoreLimits.minimumPartSize {
            throw rejected("COMPLETE-UPLOAD", key, code: "EntityTooSmall",
                           "part \(index + 1) holds \(size) bytes; every part but the last needs at least \(ObjectStoreLimits.minimumPartSize)")
        }
    }
}

extension Range where Bound == UInt64 {
    /// The range clamped to an object of `size` bytes, as offsets into it (empty when the range
    /// starts at or past the end).
    package func clamped(toSize size: UInt64) -> Range<Int> {
        let lower = Int(Swift.min(lowerBound, size))
        let upper = Int(Swift.min(upperBound, size))
        return lower..<Swift.max(lower, upper)
    }
}
