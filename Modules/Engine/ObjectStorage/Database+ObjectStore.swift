import Encoding
import Logging
import Manifest
import ObjectStore
import VFS
import WAL

// See Docs/OBJECT-STORAGE.md ("The Engine with an object store").

extension Database {
    /// The directory (inside the database directory) where checkpoints for the store are made
    /// before upload; emptied after each.
    static let storeCheckpointDirectory = ".store-checkpoint"

    /// Opens a writable database attached to `options.objectStore`: claims the next writer
    /// epoch, fences the previous writer's WAL stream, restores an empty directory from the
    /// store (or catches a local one up, or uploads what it has that the store lacks), and starts
    /// shipping.
    ///
    /// `storedTables` replaces the current manifest's table list as the store objects local
    /// tables may stand for — for a promoted replica, which numbers the store's tables itself,
    /// its map of them. `replayingFrom` is the first WAL object the directory may lack (a
    /// promoted replica's installed manifest's, which may be older than the store's newest).
    static func openAttached(path: String, options: Options, store: any ObjectStore, storedTables: [StoreManifest.File]? = nil,
                             replayingFrom: UInt64? = nil) throws -> Database {
        let fileSystem = options.fileSystem
        let latest = try StoreOpening.latestManifest(in: store)
        let localExists = VersionSet.exists(directory: path, fileSystem: fileSystem)
        // A keyspace change whose checkpoint a crash or a store failure prevented (read before
        // the marker is rewritten below).
        let checkpointPending = try localExists && StoreMarker.read(directory: path, fileSystem: fileSystem)?.checkpointPending == true

        guard let latest else {
            // An empty store: this directory (new or existing) becomes its first writer.
            if localExists, let marker = try StoreMarker.read(directory: path, fileSystem: fileSystem) {
                throw StrataError.incompatible(
                    file: Path.join(path, StoreMarker.fileName),
                    reason: "this directory was the writer (epoch \(marker.epoch)) of an object store, but \(store) holds no database: a wrong store, or one that was emptied")
            }
            let tables = StoreTables(store: store, directory: path, fileSystem: fileSystem, budget: options.localCacheBytes, stored: [])
            let database = try Database(path: path, options: options, storeTables: tables)
            do {
                try StoreMarker(epoch: 0, claiming: 1).write(directory: path, fileSystem: fileSystem)
                let session = StoreSession(
                    store: store, epoch: 1, current: StoreManifest(epoch: 0, number: 0, lastSequence: 0, firstWALObject: 1, files: []),
                    tables: tables, nextWALNumber: 1, shippedSequence: database.latestSequence.rawValue, options: options,
                    onFenced: { [weak database] in database?.setFenced($0) })
                // The first checkpoint (an empty database, or the local one being attached) is
                // the claim of epoch 1: manifest 1, create-if-absent.
                try database.uploadStoreCheckpoint(session)
                let fence = try StoreOpening.fenceWAL(in: store, epoch: 1, from: 1)
                session.shipper.state.withLock { $0.nextNumber = fence + 1 }
                try StoreMarker(epoch: 1, claiming: 1).write(directory: path, fileSystem: fileSystem)
                database.startStoreSession(session)
            } catch {
                try? database.close()
                throw error
            }
            return database
        }

        // Claim the next epoch: a copy of the current manifest under the next number. If that
        // number is taken meanwhile (the writer's own next checkpoint, or another process
        // claiming), read the newest manifest again and claim above it: the newest opener wins.
        var current = latest
        var claimed = current
        var claimedOK = false
        for _ in 0..<20 {
            if localExists {
                let marker = try StoreMarker.read(directory: path, fileSystem: fileSystem)
                guard let marker, marker.epoch == current.epoch || marker.claiming == current.epoch else {
                    let held = marker.map { "epoch \($0.epoch)" } ?? "no epoch (it was never attached to this store)"
                    throw StrataError.incompatible(
                        file: Path.join(path, StoreMarker.fileName),
                        reason: "this directory has diverged from \(store): it holds \(held), but the store's writer is at epoch \(current.epoch). Restore into an empty directory instead of merging")
                }
                try StoreMarker(epoch: current.epoch, claiming: current.epoch + 1, checkpointPending: checkpointPending).write(directory: path, fileSystem: fileSystem)
            }
            claimed = current
            claimed.epoch = current.epoch + 1
            claimed.number = current.number + 1
            claimed.nonce = UInt32.random(in: 1...UInt32.max)
            do {
                try StoreWrites.create(StoreLayout.manifestKey(claimed.number), claimed.encoded(), in: store, epoch: claimed.epoch)
                claimedOK = true
                break
            } catch StrataError.fenced {
                guard let newer = try StoreOpening.latestManifest(in: store) else { break }
                current = newer
            }
        }
        guard claimedOK else {
            throw StrataError.fenced(reason: "could not claim a writer epoch in \(store): manifests kept appearing under the next number")
        }
        let epoch = claimed.epoch
        let fence = try StoreOpening.fenceWAL(in: store, epoch: epoch, from: current.firstWALObject)

        if !localExists {
            // With a local cache, tables stay in the store until first read.
            try StoreOpening.download(claimed, from: store, into: path, fileSystem: fileSystem, includingTables: options.localCacheBytes == nil)
        }
        try StoreMarker(epoch: current.epoch, claiming: epoch, checkpointPending: checkpointPending).write(directory: path, fileSystem: fileSystem)
        let tables = StoreTables(store: store, directory: path, fileSystem: fileSystem, budget: options.localCacheBytes, stored: storedTables ?? claimed.files)
        let database = try Database(path: path, options: options, storeTables: tables)
        do {
            // Apply what the store holds beyond the local state (all of the log after the
            // checkpoint for a restore; what the local log lost otherwise).
            let stored = try database.replayStoreWAL(from: min(current.firstWALObject, replayingFrom ?? .max), to: fence - 1, store: store)
            let session = StoreSession(
                store: store, epoch: epoch, current: claimed, tables: tables, nextWALNumber: fence + 1,
                shippedSequence: max(stored, claimed.lastSequence), options: options,
                onFenced: { [weak database] in database?.setFenced($0) })
            // Local writes the store never received (acknowledged `.local` before a crash): a
            // checkpoint puts them in the store. So it does for a keyspace change the store has
            // not heard of (a restore replays the store's log into the keyspaces its manifest knows).
            if database.latestSequence.rawValue > max(stored, claimed.lastSequence) || checkpointPending {
                try database.uploadStoreCheckpoint(session)
            }
            try StoreMarker(epoch: epoch, claiming: epoch).write(directory: path, fileSystem: fileSystem)
            database.startStoreSession(session)
            // A directory reopened with a smaller budget sheds what the store holds.
            tables.evictIfNeeded()
        } catch {
            try? database.close()
            throw error
        }
        return database
    }

    /// Applies the batches of WAL objects `first...last` that are newer than the local state,
    /// each in order (sequence numbers must continue without a gap), and returns the last
    /// sequence the objects hold.
    func replayStoreWAL(from first: UInt64, to last: UInt64, store: any ObjectStore) throws -> UInt64 {
        guard first <= last else { return 0 }
        var stored: UInt64 = 0
        for number in first...last {
            let key = StoreLayout.walKey(number)
            let bytes: [UInt8]
            do {
                bytes = try blockingAwait { try await store.get(key, range: nil) }
            } catch StrataError.objectStore(let failure) where failure.kind == .notFound {
                throw StrataError.corruption(file: "\(store)/\(key)", offset: 0, reason: "WAL object missing: the store's log has a gap before the fence")
            }
            do {
                let object = try StoreLogApply.apply(bytes, number: number, key: "\(store)/\(key)", latest: { latestSequence.rawValue }) { try applyReplicated($0) }
                stored = max(stored, object.lastSequence)
            } catch let gap as StoreLogApply.Gap {
                throw StrataError.corruption(file: gap.key, offset: 0, reason: gap.reason)
            }
        }
        return stored
    }

    /// Applies a batch of the store's log (its sequence continues this database's) through the
    /// commit path, so it is logged locally like any write.
    func applyReplicated(_ batch: WriteBatch) throws {
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.write(batch, sync: false))
    }

    /// Makes a checkpoint in `.store-checkpoint/` and uploads it through `session` (one at a
    /// time: the session's thread and `uploadCheckpoint()` share the directory).
    func uploadStoreCheckpoint(_ session: StoreSession) throws {
        try session.checkpointing.withLock { _ in
            let directory = Path.join(path, Database.storeCheckpointDirectory)
            try emptyStoreCheckpointDirectory(directory)
            let (report, absentTables) = try checkpoint(to: directory, fetchingAbsentTables: false)
            try session.uploadCheckpoint(directory: directory, absentTables: absentTables, lastSequence: report.lastSequence.rawValue, fileSystem: fileSystem)
            try emptyStoreCheckpointDirectory(directory)
            // The tables just uploaded may now leave the local disk.
            session.tables.evictIfNeeded()
        }
    }

    /// Uploads a checkpoint of the current state now, as the writer does by itself every
    /// `Options.checkpointWALBytes` of log: a new manifest that restores, new replicas and
    /// running replicas start from (replicas then drop the memtables it covers), followed by
    /// garbage collection of what no retained manifest or lease needs.
    ///
    /// - Throws: `.invalidArgument` without `Options.objectStore`; `.fenced`; the store's error.
    public func uploadCheckpoint() throws {
        try checkOpen()
        guard let session = storeSession.withLock({ $0 }) else {
            throw StrataError.invalidArgument("uploadCheckpoint() needs Options.objectStore")
        }
        do {
            try uploadStoreCheckpoint(session)
        } catch let error as StrataError {
            if case .fenced = error { setFenced(error) }
            throw error
        }
    }

    private func emptyStoreCheckpointDirectory(_ directory: String) throws {
        guard fileSystem.exists(directory) else { return }
        for name in try fileSystem.listDirectory(directory) { try fileSystem.removeFile(Path.join(directory, name)) }
    }

    /// Installs the session: the commit path ships through it from now on.
    func startStoreSession(_ session: StoreSession) {
        storeSession.withLock { $0 = session }
        session.start { [weak self] in
            guard let self else { return }
            do {
                try self.uploadStoreCheckpoint(session)
            } catch let error as StrataError {
                if case .fenced = error { self.setFenced(error) }
                self.logger.warning("checkpoint upload failed", metadata: ["error": "\(error)"])
            } catch {
                self.logger.warning("checkpoint upload failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Records that a newer writer fenced this one: writes are refused with `.fenced` from now on.
    func setFenced(_ error: StrataError) {
        let first = state.withLock { state -> Bool in
            guard state.backgroundError == nil else { return false }
            state.backgroundError = error
            return true
        }
        state.broadcast()
        if first { logger.error("fenced by a newer writer; the database is now read-only", metadata: ["reason": "\(error)"]) }
    }

    /// Waits until every write acknowledged so far is in the object store (what
    /// `Durability.objectStore` does per write; SlateDB's `await_durable`): for example after a
    /// transaction's commit, or a run of `.local` writes.
    ///
    /// - Throws: `.invalidArgument` without `Options.objectStore`; `.fenced`; the store's error
    ///   when an upload holding such a write failed after the store's retries; `.closed`.
    public func waitUntilStored() throws {
        guard let session = storeSession.withLock({ $0 }) else {
            throw StrataError.invalidArgument("durability .objectStore needs Options.objectStore")
        }
        try session.shipper.waitUntilStored(lastSequence.load(ordering: .acquiring))
    }
}

/// The steps of opening against a store that need no database yet.
enum StoreOpening {
    /// The highest-numbered manifest object, decoded, or `nil` for an empty store.
    ///
    /// - Parameter after: only manifests numbered above this count (a replica's installed one):
    ///   the listing starts there, and `nil` means there is none newer.
    static func latestManifest(in store: any ObjectStore, after: UInt64 = 0) throws -> StoreManifest? {
        guard let number = try blockingAwait({ try await StoreLayout.highest(in: store, prefix: StoreLayout.manifestPrefix, from: after + 1) }),
            number > after
        else {
            return nil
        }
        let key = StoreLayout.manifestKey(number)
        let bytes = try blockingAwait { try await store.get(key, range: nil) }
        let manifest = try StoreManifest(decoding: bytes, key: "\(store)/\(key)")
        guard manifest.number == number else {
            throw StrataError.corruption(file: "\(store)/\(key)", offset: 24, reason: "the manifest says it is number \(manifest.number)")
        }
        return manifest
    }

    /// Writes a fence object (epoch only) as the next WAL object after every existing one, and
    /// returns its number: the previous writer's next upload finds that number taken.
    static func fenceWAL(in store: any ObjectStore, epoch: UInt64, from first: UInt64) throws -> UInt64 {
        for _ in 0..<100 {
            let highest = try blockingAwait { try await StoreLayout.highest(in: store, prefix: StoreLayout.walPrefix) }
            let number = max(first, (highest ?? 0) + 1)
            // The first-sequence field of a fence carries a random nonce: two processes fencing
            // at once write different bytes, so neither takes the other's fence for its own.
            let fence = WALObject(kind: .fence, epoch: epoch, number: number, firstSequence: UInt64.random(in: 1...UInt64.max), lastSequence: 0, records: [])
            do {
                try StoreWrites.create(StoreLayout.walKey(number), fence.encoded(), in: store, epoch: epoch)
                return number
            } catch StrataError.fenced {
                // The previous writer took that number meanwhile: fence after it.
                continue
            }
        }
        throw StrataError.fenced(reason: "could not fence the WAL of \(store): another writer keeps adding objects")
    }

    /// Downloads a checkpoint's files into `directory` (created; must hold no database).
    static func download(_ manifest: StoreManifest, from store: any ObjectStore, into directory: String, fileSystem: any FileSystem,
                         includingTables: Bool = true) throws {
        try fileSystem.createDirectory(directory)
        for file in manifest.files {
            if !includingTables, case .table? = DatabaseFiles.kind(of: file.name) { continue }
            try download(file, from: store, to: Path.join(directory, file.name), fileSystem: fileSystem)
        }
        try fileSystem.syncDirectory(directory)
    }

    /// Streams `file`'s object to `path.tmp`, checks its size against the manifest's, syncs it
    /// and renames it to `path`: `path` holds the whole object or nothing.
    ///
    /// - Throws: `.corruption` naming the object for a size mismatch; the store's error.
    static func download(_ file: StoreManifest.File, from store: any ObjectStore, to path: String, fileSystem: any FileSystem) throws {
        let temporary = path + ".tmp"
        let output = try fileSystem.openWritable(temporary, mode: .truncate)
        do {
            let written = try blockingAwait { [output = UnsafeSendable(output)] in try await store.download(file.key, to: output.value) }
            guard written == file.size else {
                throw StrataError.corruption(file: "\(store)/\(file.key)", offset: Int(written), reason: "the object holds \(written) bytes; the manifest says \(file.size)")
            }
            try output.sync()
            try output.close()
            try fileSystem.rename(temporary, to: path)
        } catch {
            try? output.close()
            try? fileSystem.removeFile(temporary)
            throw error
        }
    }
}

/// Carries a value that is not `Sendable` into a task the caller waits for (the caller does not
/// touch it meanwhile).
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `store` behind a `RetryingObjectStore`: everything the Engine asks of a store (opening,
/// restoring, uploads, checkpoints, collection) rides out short outages the same way.
func retryingTransientFailures<Store: ObjectStore>(_ store: Store) -> any ObjectStore {
    return RetryingObjectStore(store)
}

/// Applying one WAL object of the store to a database — shared by restores, takeovers and
/// replicas.
enum StoreLogApply {
    /// The object's log does not continue the database's: a batch starts past the next
    /// sequence. (A restore reports it as corruption; a replica turns stale.)
    struct Gap: Error {
        let key: String
        let reason: String
    }

    /// Decodes WAL object `number` (checksums included) and applies, in order, each batch newer
    /// than `latest()` through `apply`; batches the database already has are skipped.
    ///
    /// - Returns: the decoded object (its kind and last sequence).
    /// - Throws: `.corruption` naming `key` for damage or a wrong number; `Gap` when a batch does
    ///   not continue the database's sequence; whatever `apply` throws.
    static func apply(_ bytes: [UInt8], number: UInt64, key: String, latest: () -> UInt64, apply: (WriteBatch) throws -> Void) throws -> WALObject {
        let object = try WALObject(decoding: bytes, key: key)
        guard object.number == number else {
            throw StrataError.corruption(file: key, offset: 24, reason: "the object says it is number \(object.number)")
        }
        for record in object.records {
            let batch = try record.withUnsafeBytes { try WriteBatch(decoding: $0, file: key) }
            let local = latest()
            if batch.lastSequence.rawValue <= local { continue }
            guard batch.sequence.rawValue == local + 1 else {
                throw Gap(key: key, reason: "the store's log continues at sequence \(batch.sequence.rawValue) but the database ends at \(local)")
            }
            try apply(batch)
        }
        return object
    }
}
