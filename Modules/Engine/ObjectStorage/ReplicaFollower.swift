import Encoding
import Logging
import ObjectStore
import VFS
import WAL

/// Where a replica stands (`Database.replicaStatus`, and `Statistics.replica`).
public struct ReplicaStatus: Sendable, Equatable {
    /// The last sequence applied: reads see exactly the primary's history up to here.
    public var appliedSequence: UInt64
    /// The highest sequence seen in the store's WAL objects and manifests.
    public var primarySequence: UInt64
    /// Seconds since the replica last finished reading the store: it holds every write the
    /// store held that long ago (about `replicaPollInterval` while healthy; growing while the
    /// store is unreachable or the replica is stale).
    public var secondsBehind: Double
    /// The next WAL object the replica will apply.
    public var nextWALObject: UInt64
    /// The primary's manifest whose tables the replica reads (0 before the first install).
    public var installedManifest: UInt64
    /// Why the last poll could not continue the log, if it could not: the WAL object it needs
    /// next is gone from the store and no newer manifest covers it yet. The replica keeps
    /// serving what it has and tries again at every poll (a newer manifest lets it continue).
    public var stale: String?
    /// The last poll's failure (a store outage), cleared by the next successful poll.
    public var lastError: String?
}

/// A replica's follower: the state of following (position, installed manifest, table map),
/// the replica's lease, and the thread that polls every `replicaPollInterval`. The polling work
/// itself is the database's (`Database.followStore`).
///
/// Thread safety: polls run on the follower thread (and once at open, before the thread
/// starts, and from `catchUp()`), one at a time (`polling`); status reads come from any thread.
final class ReplicaFollower: Sendable {
    struct State {
        /// What a restart resumes from (written to `REPLICA` at every install).
        var marker: ReplicaMarker
        /// The next WAL object to apply.
        var next: UInt64
        /// The local table number of every store table the replica holds or may fetch.
        var tables: ReplicaTableMap
        var primarySequence: UInt64 = 0
        /// Monotonic time the last successful poll finished.
        var caughtUpAt: UInt64
        var stale: String?
        var lastError: String?
        var lastLeaseWrite: UInt64?
        var stopping = false
    }

    /// The store as the caller gave it (promotion hands this one to the writer).
    let originalStore: any ObjectStore
    let store: any ObjectStore
    let directory: String
    let fileSystem: any FileSystem
    let pollNanoseconds: UInt64
    let leaseMilliseconds: UInt64
    let logger: Logger
    /// The options the replica was opened with (a promotion's writer gets them by default).
    let callerOptions: Options
    let state: Monitor<State>
    /// Serialises polls (the thread's, `catchUp()`'s, promotion's last one).
    let polling = Locked<Void>(())
    private let thread = Locked<Threads.Handle?>(nil)

    init(originalStore: any ObjectStore, store: any ObjectStore, directory: String, fileSystem: any FileSystem, marker: ReplicaMarker,
         tables: ReplicaTableMap, options: Options, callerOptions: Options) {
        self.originalStore = originalStore
        self.store = store
        self.directory = directory
        self.fileSystem = fileSystem
        self.pollNanoseconds = UInt64(options.replicaPollInterval * 1e9)
        self.leaseMilliseconds = UInt64(options.replicaLeaseDuration * 1000)
        self.logger = options.logger
        self.callerOptions = callerOptions
        self.state = Monitor(State(marker: marker, next: marker.nextWALObject, tables: tables, caughtUpAt: WallClock.monotonicNanoseconds()))
    }

    var marker: ReplicaMarker { state.withLock { $0.marker } }

    // MARK: Lease

    /// Writes the lease (`leases/ID`) naming what the replica still needs — the installed
    /// manifest (its tables) and the WAL objects from the one a restart resumes at (all of them
    /// before the first install) — valid for `replicaLeaseDuration` from now.
    func renewLease() throws {
        let marker = self.marker
        let lease = ReplicaLease(
            manifest: marker.manifest, nextWALObject: marker.nextWALObject,
            expiryMilliseconds: WallClock.microsecondsSinceEpoch() / 1000 + leaseMilliseconds)
        let store = store
        _ = try blockingAwait { try await store.put(StoreLayout.leaseKey(marker.id), lease.encoded(), condition: .none) }
        state.withLock { $0.lastLeaseWrite = WallClock.monotonicNanoseconds() }
    }

    /// Renews the lease once a third of it has passed.
    func renewLeaseIfDue() throws {
        let last = state.withLock { $0.lastLeaseWrite }
        if let last, WallClock.monotonicNanoseconds() - last < leaseMilliseconds * 1_000_000 / 3 { return }
        try renewLease()
    }

    // MARK: Following

    /// Records the end of a poll: caught up, or stale for `reason`.
    func finishPoll(stale reason: String?, latest: UInt64) {
        if let reason, state.withLock({ $0.stale }) != reason {
            logger.error("replica cannot continue the log", metadata: ["reason": "\(reason)"])
        }
        state.withLock { state in
            state.lastError = nil
            state.stale = reason
            if reason == nil { state.caughtUpAt = WallClock.monotonicNanoseconds() }
            state.primarySequence = max(state.primarySequence, latest)
        }
    }

    /// Starts the thread that runs `poll` every `replicaPollInterval` until `stop()`.
    func start(poll: @escaping @Sendable () throws -> Void) {
        let handle = Threads.start { [self] in
            while true {
                let stopping = state.wait(until: { $0.stopping }, timeoutNanoseconds: pollNanoseconds) { $0.stopping }
                if stopping { return }
                do {
                    try poll()
                } catch {
                    logger.warning("replica poll failed", metadata: ["error": "\(error)"])
                    state.withLock { $0.lastError = "\(error)" }
                }
            }
        }
        thread.withLock { $0 = handle }
    }

    /// Stops the thread (after its current poll).
    func stop() {
        state.withLock { $0.stopping = true }
        state.broadcast()
        thread.withLock { $0?.join(); $0 = nil }
    }

    /// Lets `start` run again after `stop()` (a promotion that failed before closing).
    func restart() {
        state.withLock { $0.stopping = false }
    }

    /// Where the replica stands, given its applied sequence.
    func status(appliedSequence: UInt64) -> ReplicaStatus {
        state.withLock { state in
            let behind = Double(WallClock.monotonicNanoseconds() - state.caughtUpAt) / 1e9
            return ReplicaStatus(
                appliedSequence: appliedSequence, primarySequence: max(state.primarySequence, appliedSequence), secondsBehind: behind,
                nextWALObject: state.next, installedManifest: state.marker.manifest, stale: state.stale, lastError: state.lastError)
        }
    }
}
