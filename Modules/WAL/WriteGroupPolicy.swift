/// What a request queued for group commit tells the grouping policy about itself.
public protocol GroupCommitRequest: Sendable {
    /// The payload bytes this request adds to a group, or `nil` when it must travel alone
    /// (rotations, memtable switches, explicit syncs, close: work that must run between groups).
    var groupedBytes: Int? { get }
    /// Whether the request asks for the group to be made durable (`fdatasync`).
    var wantsSync: Bool { get }
}

/// The one rule for forming write groups, shared by the engine's commit path and `LogWriter`:
/// how many bytes a group may carry, what travels alone, and how long a leader about to sync may
/// wait for more writers to share the sync.
///
/// ```swift
/// let queue = CommitQueue<MyRequest>(policy: .standard) { group in … }
/// ```
public struct WriteGroupPolicy: Sendable, Equatable {
    /// A group carries at most this many payload bytes, so one leader does not hold its
    /// followers for long (a single larger request still forms a group of its own). Default 1 MiB.
    public var maxGroupBytes: Int
    /// How long a leader about to `fdatasync` may wait for more writers to join its group. A sync
    /// costs 100 µs or more on real disks, so waiting up to 50 µs to share it is cheap. Groups
    /// that do not sync never wait. Default 50 µs.
    public var syncCollectionWindowNanoseconds: UInt64

    /// Creates a policy.
    public init(maxGroupBytes: Int = 1 << 20, syncCollectionWindowNanoseconds: UInt64 = 50_000) {
        self.maxGroupBytes = maxGroupBytes
        self.syncCollectionWindowNanoseconds = syncCollectionWindowNanoseconds
    }

    /// The engine's and `LogWriter`'s policy: 1 MiB groups, a 50 µs sync collection window.
    public static let standard = WriteGroupPolicy()

    /// Whether `group` may take `next`: both must be groupable, and the bytes stay within
    /// `maxGroupBytes`.
    @inlinable
    public func accepts<Request: GroupCommitRequest>(_ group: [Request], _ next: Request) -> Bool {
        guard var bytes = next.groupedBytes else { return false }
        for request in group {
            guard let queued = request.groupedBytes else { return false }
            bytes += queued
        }
        return bytes <= maxGroupBytes
    }

    /// The collection window for `group`: `syncCollectionWindowNanoseconds` when a member asks for
    /// a sync, otherwise 0.
    @inlinable
    public func collectionWindow<Request: GroupCommitRequest>(_ group: [Request]) -> UInt64 {
        group.contains { $0.wantsSync } ? syncCollectionWindowNanoseconds : 0
    }
}

extension CommitQueue where Request: GroupCommitRequest {
    /// Creates a queue whose groups follow `policy`.
    ///
    /// - Parameters:
    ///   - policy: how groups are formed (see `WriteGroupPolicy`).
    ///   - process: runs on the leader's thread for each group, in order, never concurrently.
    @inlinable
    public convenience init(policy: WriteGroupPolicy, process: @escaping @Sendable ([Request]) throws -> Void) {
        self.init(
            accepts: { group, next in policy.accepts(group, next) },
            collectionWindow: { group in policy.collectionWindow(group) },
            process: process)
    }
}
