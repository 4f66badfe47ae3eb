#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of every Strata module.
///
/// Each case carries enough context to act on it without a debugger: which file, where in it,
/// and why. Callers switch on the case; the `description` is a complete, human-readable line.
/// Not-found is never an error (reads return `nil`).
public enum StrataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stored bytes are not what the format says they must be: a checksum mismatch, a length
    /// that runs past the end of its container, an impossible field value.
    ///
    /// - Parameters:
    ///   - file: the path (or a logical name such as `"<memory>"`) of the damaged data.
    ///   - offset: the byte offset in `file` where the damage was detected.
    ///   - reason: what was wrong, in words.
    case corruption(file: String, offset: Int, reason: String)

    /// A system call failed.
    ///
    /// - Parameters:
    ///   - path: the file or directory the call was about.
    ///   - errno: the operating system's error number (`ENOSPC`, `EIO`, …).
    ///   - operation: the call that failed, e.g. `"pwrite"` or `"rename"`.
    case io(path: String, errno: Int32, operation: String)

    /// A caller passed something the API does not accept (an empty key, a reversed range,
    /// a value over the configured maximum). Nothing was changed.
    case invalidArgument(String)

    /// The object was closed before this call.
    case closed

    /// Another process, or another open in this process, holds the database's lock.
    ///
    /// - Parameter holder: who holds it, when known (for example `"pid 4242"`).
    case locked(path: String, holder: String?)

    /// The file is well-formed but cannot be used by this build or this database: written by a
    /// newer format version, or belonging to another database.
    case incompatible(file: String, reason: String)

    /// The database refuses writes: it was opened read-only (or is a replica), or earlier
    /// background work failed. `reason` says which (for a failure, the original error). Reads
    /// still work. After a failure, reopen once the cause is fixed.
    case readOnly(reason: String)

    /// A transaction could not commit because what it read or wrote changed after its snapshot
    /// (or, for a pessimistic transaction, its locks were taken over after it expired). Nothing
    /// of it was written; running it again from the start may succeed.
    ///
    /// - Parameter reason: which key or range changed, in words.
    case transactionConflict(reason: String)

    /// A pessimistic transaction waited longer than its lock timeout for a key another
    /// transaction holds. The transaction is still usable; roll it back or try again.
    ///
    /// - Parameter reason: the key and how long the wait lasted.
    case lockTimeout(reason: String)

    /// A pessimistic transaction's lock request would close a cycle of waits; it was chosen as
    /// the victim and its request refused (the other transactions proceed). Roll it back.
    ///
    /// - Parameter reason: the keys of the cycle.
    case deadlock(reason: String)

    /// A request to the object store failed; the payload says which store, operation and key,
    /// the HTTP status, the store's error code, message and request id.
    case objectStore(ObjectStoreFailure)

    /// Another process opened the database's object store as the writer (a newer epoch): this
    /// one may no longer write, to the store or locally. Reads still work; nothing it tries
    /// reaches the store.
    ///
    /// - Parameter reason: the epochs involved and what was refused.
    case fenced(reason: String)

    /// A wait the caller bounded ran out — a replica had not applied the sequence a read asked
    /// for (`ReadOptions.minSequence`) within the timeout. Nothing changed; try again later.
    ///
    /// - Parameter reason: what was awaited and for how long.
    case timedOut(reason: String)

    /// A write would break a constraint the caller declared — a table's unique index already
    /// holds the value for another record, or `insert` found the key taken. Nothing was written.
    ///
    /// - Parameter reason: the table, the index or key and the value, in words.
    case constraintViolation(reason: String)

    /// `true` for `.corruption`.
    public var isCorruption: Bool {
        if case .corruption = self { return true }
        return false
    }

    /// A one-line, human-readable description.
    public var description: String {
        switch self {
        case let .corruption(file, offset, reason):
            return "corruption in \(file) at offset \(offset): \(reason)"
        case let .io(path, errno, operation):
            return "I/O error: \(operation) \(path): \(StrataError.describe(errno: errno)) (errno \(errno))"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case .closed:
            return "the object is closed"
        case let .locked(path, holder):
            if let holder {
                return "database is locked: \(path) is held by \(holder)"
            }
            return "database is locked: \(path) is held by another open"
        case let .incompatible(file, reason):
            return "incompatible file \(file): \(reason)"
        case let .readOnly(reason):
            return "database is read-only: \(reason)"
        case let .transactionConflict(reason):
            return "transaction conflict: \(reason)"
        case let .lockTimeout(reason):
            return "lock timeout: \(reason)"
        case let .deadlock(reason):
            return "deadlock: \(reason)"
        case let .objectStore(failure):
            return "object store error: \(failure)"
        case let .fenced(reason):
            return "fenced: \(reason)"
        case let .timedOut(reason):
            return "timed out: \(reason)"
        case let .constraintViolation(reason):
            return "constraint violation: \(reason)"
        }
    }

    /// The operating system's text for `errno`.
    package static func describe(errno: Int32) -> String {
        guard let text = strerror(errno) else { return "unknown error" }
        return String(cString: text)
    }
}
