import Encoding
import Logging
import Manifest
import ObjectStore
import VFS

/// A writer's tenure on an object store: its epoch, the WAL shipper, and the checkpoints
/// (tables plus a manifest object) it uploads and garbage-collects.
final class StoreSession: Sendable {
    struct State {
        var nextManifestNumber: UInt64
        /// Manifests this writer knows are current or recent, oldest first (the retained ones).
        var retained: [StoreManifest]
        var checkpointRequested = false
        var stopping = false
        /// Objects found unneeded, with when they were first found so (monotonic nanoseconds):
        /// each is deleted once it has stayed unneeded for the grace period.
        var garbageSince: [String: UInt64] = [:]
    }

    let store: any ObjectStore
    let epoch: UInt64
    /// The store's tables (a checkpoint reuses their objects) and the local cache of them.
    let tables: StoreTables
    let shipper: WALShipper
    /// Held while a checkpoint is made and uploaded (they share one directory).
    let checkpointing = Locked<Void>(())
    let state: Monitor<State>
    private let logger: Logger
    private let retainedCount: Int
    private let gracePeriodNanoseconds: UInt64
    private let thread = Locked<Threads.Handle?>(nil)

    init(store: any ObjectStore, epoch: UInt64, current: StoreManifest, tables: StoreTables, nextWALNumber: UInt64, shippedSequence: UInt64,
         options: Options, onFenced: @escaping @Sendable (StrataError) -> Void) {
        self.store = store
        self.epoch = epoch
        self.tables = tables
        self.logger = options.logger
        self.retainedCount = options.checkpointsRetained
        self.gracePeriodNanoseconds = UInt64(options.storeGarbageGracePeriod * 1e9)
        let state = Monitor(State(nextManifestNumber: current.number + 1, retained: [current]))
        self.state = state
        self.shipper = WALShipper(
            store: store, epoch: epoch, nextNumber: nextWALNumber, shippedSequence: shippedSequence, options: options,
            onFenced: onFenced,
            onCheckpointDue: {
                state.withLock { $0.checkpointRequested = true }
                state.broadcast()
            })
    }

    /// Starts the shipper, and the checkpoint thread that calls `checkpoint` when the shipper
    /// has stored `checkpointWALBytes` since the last checkpoint.
    func start(checkpoint: @escaping @Sendable () -> Void) {
        shipper.start()
        let handle = Threads.start { [state] in
            while true {
                let proceed = state.wait(until: { $0.checkpointRequested || $0.stopping }) { state -> Bool in
                    guard !state.stopping else { return false }
                    state.checkpointRequested = false
                    return true
                }
                guard proceed else { return }
                checkpoint()
            }
        }
        thread.withLock { $0 = handle }
    }

    /// Uploads what is pending (within `timeoutSeconds`) and stops both threads.
    func stop(timeoutSeconds: Double) {
        state.withLock { $0.stopping = true }
        state.broadcast()
        thread.withLock { $0?.join(); $0 = nil }
        shipper.stop(timeoutSeconds: timeoutSeconds)
    }

    // MARK: Checkpoints

    /// Uploads the checkpoint in `directory` (made by `Database.checkpoint(to:)`, holding every
    /// write up to `lastSequence`): tables not yet in the store, then its manifest and CURRENT,
    /// then the manifest object naming them (create-if-absent: a refusal means a newer writer
    /// exists — `.fenced`). `absentTables` are tables of the checkpoint left out of `directory`
    /// because only the store holds them now (the local cache dropped them). Then deletes what
    /// no retained manifest needs.
    func uploadCheckpoint(directory: String, absentTables: [String] = [], lastSequence: UInt64, fileSystem: any FileSystem) throws {
        let number = state.withLock { $0.nextManifestNumber }
        var files: [StoreManifest.File] = []
        for name in absentTables {
            guard let stored = tables.stored(name) else {
                throw StrataError.corruption(file: Path.join(directory, name), offset: 0, reason: "a checkpoint's table is neither local nor in \(store)")
            }
            files.append(stored)
        }
        for name in try fileSystem.listDirectory(directory).sorted() {
            let path = Path.join(directory, name)
            let size = try fileSystem.fileSize(path)
            if case .table = DatabaseFiles.kind(of: name) {
                if let known = tables.stored(name), known.size == size {
                    files.append(known)
                    continue
                }
                let file = StoreManifest.File(name: name, key: StoreLayout.tableKey(epoch: epoch, name: name), size: size)
                try upload(path, to: file.key, fileSystem: fileSystem)
                tables.recordStored(file)
                files.append(file)
            } else {
                let file = StoreManifest.File(name: name, key: StoreLayout.checkpointFileKey(epoch: epoch, manifest: number, name: name), size: size)
                try upload(path, to: file.key, fileSystem: fileSystem)
                files.append(file)
            }
        }
        var manifest = StoreManifest(
            epoch: epoch, number: number, lastSequence: lastSequence, firstWALObject: shipper.firstObject(after: lastSequence), files: files)
        manifest.nonce = UInt32.random(in: 1...UInt32.max)
        try StoreWrites.create(StoreLayout.manifestKey(number), manifest.encoded(), in: store, epoch: epoch)
        state.withLock { state in
            state.nextManifestNumber = number + 1
            state.retained.append(manifest)
            if state.retained.count > retainedCount { state.retained.removeFirst(state.retained.count - retainedCount) }
        }
        logger.debug("uploaded checkpoint", metadata: ["manifest": "\(number)", "files": "\(files.count)", "lastSequence": "\(lastSequence)"])
        do {
            try collectGarbage()
        } catch {
            logger.warning("object store garbage collection failed", metadata: ["error": "\(error)"])
        }
    }

    private func upload(_ path: String, to key: String, fileSystem: any FileSystem) throws {
        let file = try fileSystem.openReadable(path)
        let store = store
        _ = try blockingAwait { try await store.upload(file, to: key) }
    }

    /// Deletes manifests older than the retained ones, tables and checkpoint files no retained
    /// manifest names, and WAL objects before the oldest retained manifest's replay start
    /// (never the newest WAL object: it carries the numbering on) — each only once it has been
    /// found unneeded for `Options.storeGarbageGracePeriod`, so a reader that fetched an older
    /// manifest a moment ago can still read what it names. (The clock starts when this process
    /// first finds the object unneeded: a restart only delays deletion.)
    func collectGarbage() throws {
        let retained = state.withLock { $0.retained }
        guard let oldest = retained.first else { return }
        let retainedReferences = Set(retained.flatMap { $0.files.map(\.key) })
        let store = store
        let graceMilliseconds = gracePeriodNanoseconds / 1_000_000
        let logger = logger
        let doomed = try blockingAwait {
            // Replicas' leases: a live one keeps the manifest it names (with its files) and the
            // log from its next WAL object on; one expired for longer than the grace period is
            // itself garbage.
            let now = WallClock.microsecondsSinceEpoch() / 1000
            var leasedManifests: Set<UInt64> = []
            var leasedWAL = UInt64.max
            var doomed: [String] = []
            for try await object in store.objects(prefix: StoreLayout.leasePrefix) {
                let lease: ReplicaLease
                do {
                    lease = try ReplicaLease(decoding: try await store.get(object.key, range: nil), key: "\(store)/\(object.key)")
                } catch {
                    // A lease being replaced, or damaged: it holds nothing this time.
                    logger.warning("unreadable replica lease", metadata: ["key": "\(object.key)", "error": "\(error)"])
                    continue
                }
                if lease.isLive(atMilliseconds: now) {
                    if lease.manifest != 0 { leasedManifests.insert(lease.manifest) }
                    leasedWAL = min(leasedWAL, lease.nextWALObject)
                } else if now > lease.expiryMilliseconds + graceMilliseconds {
                    doomed.append(object.key)
                }
            }
            var referenced = retainedReferences
            for number in leasedManifests {
                let key = StoreLayout.manifestKey(number)
                guard let bytes = try? await store.get(key, range: nil) else { continue }
                referenced.formUnion(try StoreManifest(decoding: bytes, key: "\(store)/\(key)").files.map(\.key))
            }
            let firstWAL = min(retained.map(\.firstWALObject).min() ?? oldest.firstWALObject, leasedWAL)
            for try await object in store.objects(prefix: StoreLayout.manifestPrefix) {
                if let number = StoreLayout.number(of: object.key, prefix: StoreLayout.manifestPrefix), number < oldest.number,
                    !leasedManifests.contains(number)
                {
                    doomed.append(object.key)
                }
            }
            for prefix in [StoreLayout.tablePrefix, StoreLayout.checkpointPrefix] {
                for try await object in store.objects(prefix: prefix) where !referenced.contains(object.key) {
                    doomed.append(object.key)
                }
            }
            var walKeys: [String] = []
            var newerExists = false
            for try await object in store.objects(prefix: StoreLayout.walPrefix) {
                guard let number = StoreLayout.number(of: object.key, prefix: StoreLayout.walPrefix) else { continue }
                if number >= firstWAL {
                    newerExists = true
                    break
                }
                walKeys.append(object.key)
            }
            // The newest WAL object stays: fencing numbers the next one after it.
            if !newerExists, !walKeys.isEmpty { walKeys.removeLast() }
            doomed += walKeys
            return doomed
        }
        let now = WallClock.monotonicNanoseconds()
        let due = state.withLock { state -> [String] in
            var since: [String: UInt64] = [:]
            for key in doomed { since[key] = state.garbageSince[key] ?? now }
            state.garbageSince = since
            return doomed.filter { now - since[$0]! >= gracePeriodNanoseconds }
        }
        try blockingAwait {
            for key in due { try await store.delete(key) }
        }
        state.withLock { state in
            for key in due { state.garbageSince.removeValue(forKey: key) }
        }
        tables.retainStored(keys: retainedReferences)
    }
}
