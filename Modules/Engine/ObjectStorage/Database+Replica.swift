import Encoding
import Manifest
import ObjectStore
import VFS
import WAL

// See Docs/OBJECT-STORAGE.md ("Read replicas").

extension Database {
    /// Opens a read replica of the database in `objectStore`, kept in `path`.
    ///
    /// The replica reads the primary's own tables: it installs each manifest the primary
    /// uploads (the tables downloaded into `path`, or fetched on first read with
    /// `Options.localCacheBytes`) and applies the store's WAL objects after it to memtables —
    /// at open, and every `Options.replicaPollInterval` on a thread of its own. It never flushes
    /// or compacts. Reads see a prefix of the primary's committed history: never half a batch or
    /// transaction, never an older value after a newer one, also across restarts (a restart
    /// applies the log after its installed manifest again before the open returns). A replica
    /// that fell behind the store's garbage collection continues from the newest manifest.
    /// Writes throw `.readOnly("replica")`. The replica keeps a lease in the store (`leases/ID`)
    /// naming its manifest and log, which the writer's garbage collection honours while it is
    /// renewed.
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
        // The engine underneath is a local database that holds the primary's tables under
        // numbers of its own and never writes a table itself.
        var local = options
        local.objectStore = nil
        local.localCacheBytes = nil
        local.createIfMissing = true
        local.backgroundWork = false

        var marker = try ReplicaMarker.read(directory: path, fileSystem: fileSystem)
        let exists = VersionSet.exists(directory: path, fileSystem: fileSystem)
        if exists, marker == nil, try StoreMarker.read(directory: path, fileSystem: fileSystem) != nil {
            throw StrataError.invalidArgument("\(path) holds a database that is not a replica (a writer's directory); open a replica in an empty directory")
        }
        if marker == nil {
            if !exists, fileSystem.exists(path), try !fileSystem.listDirectory(path).filter({ $0 != DatabaseFiles.lock }).isEmpty {
                throw StrataError.invalidArgument("\(path) holds files but no database; open a replica in an empty directory")
            }
            guard try StoreOpening.latestManifest(in: store) != nil else {
                throw StrataError.invalidArgument("\(store) holds no database to follow")
            }
        }
        let tables = try ReplicaTableMap.read(directory: path, fileSystem: fileSystem)
        let storeTables = StoreTables(store: store, directory: path, fileSystem: fileSystem, budget: options.localCacheBytes, stored: [])
        let database = try Database(path: path, options: local, storeTables: storeTables)
        var follower: ReplicaFollower? = nil
        do {
            if marker == nil {
                // A new replica, or one whose bootstrap stopped before anything was installed
                // (a database without a marker that holds nothing).
                let version = database.versionSet.currentVersion
                guard version.allFileNumbers.isEmpty, database.latestSequence == .zero else {
                    throw StrataError.invalidArgument("\(path) holds a database that is not a replica; open a replica in an empty directory")
                }
                let fresh = ReplicaMarker(id: ReplicaMarker.newID(), manifest: 0, nextWALObject: 0)
                try fresh.write(directory: path, fileSystem: fileSystem)
                marker = fresh
            }
            // The local tables are store objects: a fetch (with a cache) or a promotion's
            // checkpoint finds them by the map.
            let sizes = Dictionary(database.versionSet.currentVersion.levels.joined().map { ($0.fileNumber, $0.fileSize) }, uniquingKeysWith: { a, _ in a })
            for (key, number) in tables.numbers {
                guard let size = sizes[number] else { continue }
                storeTables.recordStored(StoreManifest.File(name: DatabaseFiles.tableName(number), key: key, size: size))
            }
            let started = ReplicaFollower(
                originalStore: objectStore, store: store, directory: path, fileSystem: fileSystem, marker: marker!, tables: tables,
                options: options, callerOptions: options)
            follower = started
            database.replicaFollower.withLock { $0 = started }
            database.refusesUserWrites.store(true, ordering: .releasing)
            try database.followStore(started)
            database.startFollowing(started)
        } catch {
            follower?.stop()
            try? database.close()
            throw error
        }
        return database
    }

    /// Starts `follower`'s polling thread on this database.
    func startFollowing(_ follower: ReplicaFollower) {
        follower.start { [weak self] in
            guard let self else { throw StrataError.closed }
            try self.followStore(follower)
        }
    }

    /// `true` for a database opened with `openReplica`.
    public var isReplica: Bool { replicaFollower.withLock { $0 } != nil }

    /// Where a replica stands: applied and seen sequences, lag, the installed manifest, and
    /// whether it can continue the log; `nil` for a database that is not a replica.
    public var replicaStatus: ReplicaStatus? {
        replicaFollower.withLock { $0 }?.status(appliedSequence: latestSequence.rawValue)
    }

    /// Applies what the store holds now, without waiting for the next poll (a replica only).
    ///
    /// - Throws: `.invalidArgument` for a database that is not a replica; the store's error.
    public func catchUp() throws {
        try checkOpen()
        guard let follower = replicaFollower.withLock({ $0 }) else { throw StrataError.invalidArgument("catchUp() is for replicas") }
        try followStore(follower)
    }

    /// Turns this replica into the writer of its store and returns the writer; this handle is
    /// closed. The replica catches up once more, then opens its directory as the writer: it
    /// claims the next epoch and fences the old primary (whose next upload fails with
    /// `.fenced`), and applies every WAL object after its installed manifest up to the fence
    /// (Docs/OBJECT-STORAGE.md, "Promotion").
    ///
    /// - Parameter writerOptions: the writer's options (`objectStore` is set to the replica's store);
    ///   by default those the replica was opened with.
    /// - Throws: `.invalidArgument` for a database that is not a replica; the store's error
    ///   (the replica then keeps following); `.fenced` when another process keeps claiming the
    ///   store.
    public func promote(options writerOptions: Options? = nil) throws -> Database {
        try checkOpen()
        guard let follower = replicaFollower.withLock({ $0 }) else { throw StrataError.invalidArgument("promote() is for replicas") }
        follower.stop()
        let current: StoreManifest
        do {
            // The newest manifest installed: the writer continues from its tables.
            try followStore(follower)
            guard let latest = try StoreOpening.latestManifest(in: follower.store) else {
                throw StrataError.invalidArgument("\(follower.store) holds no database")
            }
            current = latest
        } catch {
            follower.restart()
            startFollowing(follower)
            throw error
        }
        let resumeAt = follower.marker.nextWALObject
        // Every local table is a store object (the map says which): the writer's checkpoints
        // refer to them instead of uploading them again.
        let inherited = storeTables?.storedFiles ?? []
        try close()
        var options = writerOptions ?? follower.callerOptions
        options.objectStore = follower.originalStore
        options.readOnly = false
        // The directory holds a prefix of the store's history at the current epoch.
        try StoreMarker(epoch: current.epoch, claiming: current.epoch).write(directory: path, fileSystem: fileSystem)
        try fileSystem.removeFile(Path.join(path, ReplicaMarker.fileName))
        if fileSystem.exists(Path.join(path, ReplicaTableMap.fileName)) { try fileSystem.removeFile(Path.join(path, ReplicaTableMap.fileName)) }
        return try Database.openAttached(
            path: path, options: options, store: retryingTransientFailures(follower.originalStore), storedTables: inherited, replayingFrom: resumeAt)
    }
}
