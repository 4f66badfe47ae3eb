import Encoding
import Manifest
import ObjectStore
import VFS
import WAL

// See Docs/OBJECT-STORAGE.md ("Read replicas").

extension Database {
    /// Opens a read replica of the database in `objectStore`, kept in `path`.
    ///
    /// An empty or missing `path` is bootstrapped from the store's current manifest (its tables
    /// downloaded, or fetched on first read with `Options.localCacheBytes`); a directory that
    /// already holds this replica continues where it stopped. The replica then applies the
    /// store's WAL objects in order — at open, and every `Options.replicaPollInterval` on a
    /// thread of its own — so reads see a prefix of the primary's committed history: never half
    /// a batch or transaction, never an older value after a newer one, also across restarts.
    /// Writes throw `.readOnly`. The replica keeps a lease in the store (`leases/ID`) that the
    /// writer's garbage collection honours while it is renewed.
    ///
    /// - Throws: `.invalidArgument` when the store holds no database, or `path` holds a database
    ///   that is not a replica (a writer's directory); the store's error; `.corruption` for a
    ///   damaged object.
    public static func openReplica(objectStore: any ObjectStore, at path: String, options: Options = Options()) throws -> Database {
        var validated = options
        validated.objectStore = objectStore
        try validated.validate()
        guard !options.readOnly else { throw StrataError.invalidArgument("a replica is read-only by nature: open it without readOnly") }
        let store = retryingTransientFailures(objectStore)
        let fileSystem = options.fileSystem
        // The engine underneath is an ordinary local database; the replica role is layered on.
        var local = options
        local.objectStore = nil
        local.localCacheBytes = nil
        local.createIfMissing = true

        if VersionSet.exists(directory: path, fileSystem: fileSystem) {
            guard let marker = try ReplicaMarker.read(directory: path, fileSystem: fileSystem) else {
                throw StrataError.invalidArgument("\(path) holds a database that is not a replica (a writer's directory?); open a replica in an empty directory")
            }
            do {
                return try resumeReplica(objectStore: objectStore, store: store, marker: marker, path: path, options: options, local: local)
            } catch let StrataError.corruption(file, offset, reason) where reason.hasPrefix(Database.replicaGoneReason) {
                // The store collected what this replica needs (its lease lapsed while it was
                // down): start over from the current manifest, which is newer than anything
                // the replica served, so reads stay monotonic.
                options.logger.warning("replica re-bootstraps from the store", metadata: ["reason": "\(reason)", "file": "\(file)", "offset": "\(offset)"])
                try removeDatabaseFiles(in: path, fileSystem: fileSystem)
            }
        }
        return try bootstrapReplica(objectStore: objectStore, store: store, path: path, options: options, local: local)
    }

    /// The start of a corruption reason meaning "what the replica needs is gone from the store".
    static let replicaGoneReason = "replica cannot continue"

    private static func bootstrapReplica(objectStore: any ObjectStore, store: any ObjectStore, path: String, options: Options, local: Options) throws -> Database {
        let fileSystem = options.fileSystem
        if fileSystem.exists(path), try !fileSystem.listDirectory(path).filter({ $0 != DatabaseFiles.lock }).isEmpty {
            throw StrataError.invalidArgument("\(path) holds files but no database; open a replica in an empty directory")
        }
        guard let manifest = try StoreOpening.latestManifest(in: store) else {
            throw StrataError.invalidArgument("\(store) holds no database to follow")
        }
        let marker = ReplicaMarker(id: ReplicaMarker.newID(), manifest: manifest.number, nextWALObject: manifest.firstWALObject)
        let follower = ReplicaFollower(
            originalStore: objectStore, store: store, directory: path, fileSystem: fileSystem, marker: marker, options: options,
            leasesManifest: true)
        // The lease first: garbage collection keeps the manifest's files and the log from here.
        try follower.renewLease()
        try StoreOpening.download(manifest, from: store, into: path, fileSystem: fileSystem, includingTables: options.localCacheBytes == nil)
        try marker.write(directory: path, fileSystem: fileSystem)
        return try startReplica(follower: follower, manifest: manifest, path: path, options: options, local: local)
    }

    private static func resumeReplica(objectStore: any ObjectStore, store: any ObjectStore, marker: ReplicaMarker, path: String, options: Options,
                                      local: Options) throws -> Database {
        var manifest: StoreManifest? = nil
        if options.localCacheBytes != nil {
            // Absent tables come from the bootstrap manifest: it must still be there.
            let key = StoreLayout.manifestKey(marker.manifest)
            do {
                let bytes = try blockingAwait { try await store.get(key, range: nil) }
                manifest = try StoreManifest(decoding: bytes, key: "\(store)/\(key)")
            } catch StrataError.objectStore(let failure) where failure.kind == .notFound {
                throw StrataError.corruption(file: "\(store)/\(key)", offset: 0, reason: "\(replicaGoneReason): its bootstrap manifest was collected")
            }
        }
        let follower = ReplicaFollower(
            originalStore: objectStore, store: store, directory: path, fileSystem: options.fileSystem, marker: marker, options: options,
            leasesManifest: options.localCacheBytes != nil)
        try follower.renewLease()
        return try startReplica(follower: follower, manifest: manifest, path: path, options: options, local: local)
    }

    /// Opens the local database under the replica, catches up once, and starts following.
    private static func startReplica(follower: ReplicaFollower, manifest: StoreManifest?, path: String, options: Options, local: Options) throws -> Database {
        let tables = options.localCacheBytes.map { budget in
            StoreTables(store: follower.store, directory: path, fileSystem: options.fileSystem, budget: budget, stored: manifest?.files ?? [])
        }
        let database = try Database(path: path, options: local, storeTables: tables)
        do {
            database.replicaFollower.withLock { $0 = follower }
            database.refusesUserWrites.store(true, ordering: .releasing)
            let following = try database.pollReplica(follower)
            if !following, let reason = follower.status(appliedSequence: 0).stale {
                throw StrataError.corruption(file: "\(follower.store)", offset: 0, reason: "\(replicaGoneReason): \(reason)")
            }
            follower.start(
                latest: { [weak database] in database?.latestSequence.rawValue ?? 0 },
                apply: { [weak database] batch in
                    guard let database else { throw StrataError.closed }
                    try database.applyReplicated(batch)
                },
                sync: { [weak database] in try database?.syncReplicated() })
        } catch {
            follower.stop()
            try? database.close()
            throw error
        }
        return database
    }

    /// One poll of `follower` against this database.
    @discardableResult
    func pollReplica(_ follower: ReplicaFollower) throws -> Bool {
        try follower.poll(
            latest: { latestSequence.rawValue },
            apply: { try applyReplicated($0) },
            sync: { try syncReplicated() })
    }

    /// Applies a batch the primary committed (its sequence continues this database's), through
    /// the commit path but past the replica's refusal of writes.
    func applyReplicated(_ batch: WriteBatch) throws {
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.write(batch, sync: false))
    }

    /// Syncs the local log (the replica's applied batches).
    func syncReplicated() throws {
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.sync)
    }

    /// `true` for a database opened with `openReplica`.
    public var isReplica: Bool { replicaFollower.withLock { $0 } != nil }

    /// Where a replica stands: applied and seen sequences, lag, and whether it stopped
    /// following; `nil` for a database that is not a replica.
    public var replicaStatus: ReplicaStatus? {
        replicaFollower.withLock { $0 }?.status(appliedSequence: latestSequence.rawValue)
    }

    /// Applies what the store holds now, without waiting for the next poll (a replica only).
    ///
    /// - Throws: `.invalidArgument` for a database that is not a replica; the store's error.
    public func catchUp() throws {
        try checkOpen()
        guard let follower = replicaFollower.withLock({ $0 }) else { throw StrataError.invalidArgument("catchUp() is for replicas") }
        try pollReplica(follower)
    }

    /// Turns this replica into the writer of its store and returns the writer; this handle is
    /// closed. The replica opens its directory as the writer: it claims the next epoch and fences the
    /// old primary (whose next upload fails with `.fenced`), and continues from the last WAL
    /// object in the store (Docs/OBJECT-STORAGE.md, "Promotion").
    ///
    /// - Parameter options: the writer's options (`objectStore` is set to the replica's store).
    /// - Throws: `.invalidArgument` for a database that is not a replica; the store's error;
    ///   `.fenced` when another process keeps claiming the store.
    public func promote(options writerOptions: Options? = nil) throws -> Database {
        try checkOpen()
        guard let follower = replicaFollower.withLock({ $0 }) else { throw StrataError.invalidArgument("promote() is for replicas") }
        // No last poll here: the writer's open applies every WAL object up to its fence anyway.
        follower.stop()
        // Local tables the writer may take for store objects: with a cache, those of the
        // bootstrap manifest (leased, so still in the store; the replica's own tables are
        // numbered independently of the primary's and must not be confused with its objects).
        // Without one, none: the first checkpoint uploads every table.
        let inherited = tableCache.fileSource != nil ? (storeTables?.storedFiles ?? []) : []
        guard let current = try StoreOpening.latestManifest(in: follower.store) else {
            throw StrataError.invalidArgument("\(follower.store) holds no database")
        }
        try close()
        var options = writerOptions ?? self.options
        options.objectStore = follower.originalStore
        options.readOnly = false
        if writerOptions == nil { options.localCacheBytes = tableCache.fileSource == nil ? nil : (self.storeTables?.budget) }
        // The directory holds a prefix of the store's history at the current epoch.
        try StoreMarker(epoch: current.epoch, claiming: current.epoch).write(directory: path, fileSystem: fileSystem)
        try fileSystem.removeFile(Path.join(path, ReplicaMarker.fileName))
        return try Database.openAttached(path: path, options: options, store: retryingTransientFailures(follower.originalStore), storedTables: inherited)
    }

    /// Deletes the files of a database directory Strata owns (before a re-bootstrap).
    private static func removeDatabaseFiles(in path: String, fileSystem: any FileSystem) throws {
        for name in try fileSystem.listDirectory(path) where DatabaseFiles.kind(of: name) != nil || name == ReplicaMarker.fileName
            || name.hasSuffix(".tmp") || name == StoreMarker.fileName {
            guard name != DatabaseFiles.lock else { continue }
            try fileSystem.removeFile(Path.join(path, name))
        }
    }
}
