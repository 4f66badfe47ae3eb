import Encoding
import Logging
import ObjectStore
import VFS
import WAL

/// Where a replica stands (`Database.replicaStatus`, and `Statistics.replica`).
public struct ReplicaStatus: Sendable, Equatable {
    /// The last sequence applied: reads see exactly the primary's history up to here.
    public var appliedSequence: UInt64
    /// The highest sequence seen in the store's WAL objects.
    public var primarySequence: UInt64
    /// Seconds since the replica last finished reading the store: it holds every write the
    /// store held that long ago (about `replicaPollInterval` while healthy; growing while the
    /// store is unreachable or the replica is stale).
    public var secondsBehind: Double
    /// The next WAL object the replica will apply.
    public var nextWALObject: UInt64
    /// Why the replica stopped following, if it did: the log it needs next is gone from the
    /// store (collected after its lease expired). It keeps serving what it has; reopening it
    /// re-bootstraps from the store's current manifest.
    public var stale: String?
    /// The last poll's failure (a store outage), cleared by the next successful poll.
    public var lastError: String?
}

/// A replica's follower: polls the store's WAL objects and applies them in order, renews the
/// replica's lease, and records where it stands.
///
/// Thread safety: `poll()` runs on the follower thread (and once at open, before the thread
/// starts); status reads come from any thread.
final class ReplicaFollower: Sendable {
    struct State {
        var marker: ReplicaMarker
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
    /// The manifest named in the lease: the bootstrap manifest while absent tables may be
    /// fetched from it (a local table cache), else 0.
    let leasedManifest: UInt64
    let logger: Logger
    let state: Monitor<State>
    private let thread = Locked<Threads.Handle?>(nil)

    init(originalStore: any ObjectStore, store: any ObjectStore, directory: String, fileSystem: any FileSystem, marker: ReplicaMarker,
         options: Options, leasesManifest: Bool) {
        self.originalStore = originalStore
        self.store = store
        self.directory = directory
        self.fileSystem = fileSystem
        self.pollNanoseconds = UInt64(options.replicaPollInterval * 1e9)
        self.leaseMilliseconds = UInt64(options.replicaLeaseDuration * 1000)
        self.leasedManifest = leasesManifest ? marker.manifest : 0
        self.logger = options.logger
        self.state = Monitor(State(marker: marker, caughtUpAt: WallClock.monotonicNanoseconds()))
    }

    var marker: ReplicaMarker { state.withLock { $0.marker } }

    // MARK: Lease

    /// Writes the lease (`leases/ID`) naming what the replica still needs, valid for
    /// `replicaLeaseDuration` from now.
    func renewLease() throws {
        let marker = self.marker
        let lease = ReplicaLease(
            manifest: leasedManifest, nextWALObject: marker.nextWALObject,
            expiryMilliseconds: WallClock.microsecondsSinceEpoch() / 1000 + leaseMilliseconds)
        let store = store
        _ = try blockingAwait { try await store.put(StoreLayout.leaseKey(marker.id), lease.encoded(), condition: .none) }
        state.withLock { $0.lastLeaseWrite = WallClock.monotonicNanoseconds() }
    }

    /// Renews the lease once a third of it has passed.
    private func renewLeaseIfDue() throws {
        let last = state.withLock { $0.lastLeaseWrite }
        if let last, WallClock.monotonicNanoseconds() - last < leaseMilliseconds * 1_000_000 / 3 { return }
        try renewLease()
    }

    // MARK: Following

    /// Applies every WAL object the store holds beyond the replica's position, in order, then
    /// syncs the local log and records the new position.
    ///
    /// - Parameters:
    ///   - latest: the database's last applied sequence.
    ///   - apply: applies one batch (its sequence continues `latest()` exactly).
    ///   - sync: makes the applied batches durable in the local log.
    /// - Returns: `false` when the replica is stale (the next object is gone).
    /// - Throws: the store's error for a failed request; `.corruption` for a damaged object or
    ///   a log that does not continue the applied history.
    @discardableResult
    func poll(latest: () -> UInt64, apply: (WriteBatch) throws -> Void, sync: () throws -> Void) throws -> Bool {
        guard state.withLock({ $0.stale }) == nil else { return false }
        try renewLeaseIfDue()
        var next = marker.nextWALObject
        let store = store
        var applied = false
        var startAfter: String? = next > 1 ? StoreLayout.walKey(next - 1) : nil
        pages: while true {
            let page = try blockingAwait { [startAfter] in
                try await store.list(prefix: StoreLayout.walPrefix, startAfter: startAfter, limit: ObjectStoreLimits.maximumListLimit)
            }
            for listed in page.objects {
                guard let number = StoreLayout.number(of: listed.key, prefix: StoreLayout.walPrefix), number >= next else { continue }
                guard number == next else {
                    markStale("WAL object \(next) is gone from \(store) (collected after the lease lapsed); reopen the replica to re-bootstrap")
                    break pages
                }
                let key = listed.key
                let bytes = try blockingAwait { try await store.get(key, range: nil) }
                let object: WALObject
                do {
                    object = try StoreLogApply.apply(bytes, number: number, key: "\(store)/\(key)", latest: latest) { batch in
                        try apply(batch)
                        applied = true
                    }
                } catch let gap as StoreLogApply.Gap {
                    markStale(gap.reason)
                    break pages
                }
                next = number + 1
                if object.kind == .records {
                    state.withLock { $0.primarySequence = max($0.primarySequence, object.lastSequence) }
                }
            }
            guard page.isTruncated, let last = page.objects.last else { break }
            startAfter = last.key
        }
        if next != marker.nextWALObject {
            // Durable locally before the marker moves past the objects.
            if applied { try sync() }
            var updated = marker
            updated.nextWALObject = next
            try updated.write(directory: directory, fileSystem: fileSystem)
            state.withLock { $0.marker = updated }
        }
        state.withLock { state in
            state.lastError = nil
            if state.stale == nil { state.caughtUpAt = WallClock.monotonicNanoseconds() }
            state.primarySequence = max(state.primarySequence, latest())
        }
        return state.withLock { $0.stale == nil }
    }

    private func markStale(_ reason: String) {
        logger.error("replica stopped following", metadata: ["reason": "\(reason)"])
        state.withLock { $0.stale = reason }
    }

    /// Starts the thread that polls every `replicaPollInterval` until `stop()`.
    func start(latest: @escaping @Sendable () -> UInt64, apply: @escaping @Sendable (WriteBatch) throws -> Void, sync: @escaping @Sendable () throws -> Void) {
        let handle = Threads.start { [self] in
            while true {
                let stopping = state.wait(until: { $0.stopping }, timeoutNanoseconds: pollNanoseconds) { $0.stopping }
                if stopping { return }
                do {
                    try poll(latest: latest, apply: apply, sync: sync)
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

    /// Where the replica stands, given its applied sequence.
    func status(appliedSequence: UInt64) -> ReplicaStatus {
        state.withLock { state in
            let behind = Double(WallClock.monotonicNanoseconds() - state.caughtUpAt) / 1e9
            return ReplicaStatus(
                appliedSequence: appliedSequence, primarySequence: max(state.primarySequence, appliedSequence), secondsBehind: behind,
                nextWALObject: state.marker.nextWALObject, stale: state.stale, lastError: state.lastError)
        }
    }
}
