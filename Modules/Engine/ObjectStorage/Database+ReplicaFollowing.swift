import Encoding
import Manifest
import Memtable
import ObjectStore
import VFS
import WAL

// See Docs/OBJECT-STORAGE.md ("Read replicas").

extension Database {
    /// The directory (inside a replica's) where a primary's manifest file is replayed.
    static let replicaIncomingDirectory = ".replica-incoming"

    /// One poll of a replica: applies the WAL objects after its position, installs the newest
    /// manifest if the primary uploaded one, and — when the log it needs next is gone (a lapsed
    /// lease, or a replica behind the store's garbage collection) — continues from that
    /// manifest instead. Polls never overlap.
    func followStore(_ follower: ReplicaFollower) throws {
        try follower.polling.withLock { _ in
            try follower.renewLeaseIfDue()
            var gap: String? = follower.marker.manifest == 0 ? "no manifest installed yet" : try applyStoreWAL(follower)
            if let newer = try StoreOpening.latestManifest(in: follower.store, after: follower.marker.manifest) {
                try installReplicaManifest(newer, follower: follower)
                gap = try applyStoreWAL(follower)
            }
            follower.finishPoll(stale: gap, latest: latestSequence.rawValue)
        }
    }

    /// Applies the store's WAL objects from the follower's position on, in order.
    ///
    /// - Returns: `nil` when every object the store lists was applied; otherwise why the log
    ///   cannot continue (the next object is gone, or does not continue the applied sequence).
    private func applyStoreWAL(_ follower: ReplicaFollower) throws -> String? {
        let store = follower.store
        var next = follower.state.withLock { $0.next }
        var startAfter: String? = next > 1 ? StoreLayout.walKey(next - 1) : nil
        while true {
            let page = try blockingAwait { [startAfter] in
                try await store.list(prefix: StoreLayout.walPrefix, startAfter: startAfter, limit: ObjectStoreLimits.maximumListLimit)
            }
            for listed in page.objects {
                guard let number = StoreLayout.number(of: listed.key, prefix: StoreLayout.walPrefix), number >= next else { continue }
                guard number == next else { return "WAL object \(next) is gone from \(store) (collected after the lease lapsed)" }
                let key = listed.key
                let bytes = try blockingAwait { try await store.get(key, range: nil) }
                let object: WALObject
                do {
                    object = try StoreLogApply.apply(bytes, number: number, key: "\(store)/\(key)", latest: { latestSequence.rawValue }) {
                        try applyFollowed($0)
                    }
                } catch let gap as StoreLogApply.Gap {
                    return gap.reason
                }
                next = number + 1
                follower.state.withLock { state in
                    state.next = next
                    if object.kind == .records { state.primarySequence = max(state.primarySequence, object.lastSequence) }
                }
            }
            guard page.isTruncated, let last = page.objects.last else { return nil }
            startAfter = last.key
        }
    }

    /// Applies one batch of the primary's log (its sequence continues this database's) to the
    /// memtables and publishes it. The follower's thread only: a replica has no other writer.
    /// Nothing is logged locally. Full memtables are frozen and stay until a manifest covers
    /// them, up to `Options.replicaMemtableBytes`; past that the oldest becomes a local level-0
    /// table (a manifest that covers it drops it too).
    func applyFollowed(_ batch: WriteBatch) throws {
        if !batch.summary.keyspaces.isEmpty { try prepareFollowedKeyspaces(batch.summary.keyspaces) }
        var (active, keyspaceActive, fits) = state.withLock { state in
            (state.active, state.keyspaceActive, state.keyspacesCanHold(bytes: batch.byteSize, entries: batch.count, writeBufferSize: options.writeBufferSize))
        }
        var froze = false
        if active.approximateMemoryUsage >= options.writeBufferSize || !active.canHold(bytes: batch.byteSize, entries: batch.count) || !fits {
            let generation = try freshGeneration(walSegment: 0)
            (active, keyspaceActive) = state.withLock { state in
                state.freeze(installing: generation)
                publishMemtables(state)
                return (state.active, state.keyspaceActive)
            }
            froze = true
        }
        try active.apply(batch)
        // A keyspace the replica does not know (dropped) takes nothing.
        for id in batch.summary.keyspaces { try keyspaceActive[id]?.apply(batch, keyspace: id) }
        lastSequence.store(batch.lastSequence.rawValue, ordering: .releasing)
        while froze, state.withLock({ $0.frozen.reduce(0) { $0 + $1.approximateMemoryUsage } }) > options.replicaMemtableBytes {
            guard try flushOldest() else { break }
        }
    }

    /// Gives a memtable to each keyspace in `ids` that is newer than the installed manifest (the
    /// primary created it after that manifest: its writes arrive before the manifest that names
    /// it). A keyspace below the manifest's next id that it does not hold was dropped: nothing.
    private func prepareFollowedKeyspaces(_ ids: [UInt32]) throws {
        let version = versionSet.currentVersion
        let known = state.withLock { $0.keyspaceActive }
        for id in ids where known[id] == nil && id >= version.nextKeyspaceID {
            let memtable = try Memtable(capacity: memtableCapacity)
            state.withLock { state in
                guard state.keyspaceActive[id] == nil else { return }
                memtable.injectMaxSequence(state.maxActiveSequence)
                state.keyspaceActive[id] = memtable
                publishMemtables(state)
            }
        }
    }

    /// Makes `manifest` (newer than the installed one) the replica's table version: replays the
    /// primary's manifest file, gives each table a local number (by object key, so a table
    /// already held is reused), downloads the new ones (without a local cache), records the
    /// map and the marker, then swaps the version and drops the memtables it covers — all
    /// inside `viewSwitches`, so no read mixes the two. A manifest newer than everything applied
    /// (the replica was behind) moves the last sequence up to it and the log position back to
    /// its first WAL object.
    private func installReplicaManifest(_ manifest: StoreManifest, follower: ReplicaFollower) throws {
        let store = follower.store
        let manifestKey = "\(store)/\(StoreLayout.manifestKey(manifest.number))"
        guard let manifestFile = manifest.files.first(where: { if case .manifest? = DatabaseFiles.kind(of: $0.name) { return true } else { return false } }),
            case .manifest(let manifestNumber)? = DatabaseFiles.kind(of: manifestFile.name)
        else {
            throw StrataError.corruption(file: manifestKey, offset: 0, reason: "the checkpoint holds no manifest file")
        }
        let incoming = Path.join(path, Database.replicaIncomingDirectory)
        try fileSystem.createDirectory(incoming)
        let replayedPath = Path.join(incoming, manifestFile.name)
        try StoreOpening.download(manifestFile, from: store, to: replayedPath, fileSystem: fileSystem)
        defer { try? fileSystem.removeFile(replayedPath) }
        let replayed = try ManifestReplay.run(directory: incoming, manifestNumber: manifestNumber, fileSystem: fileSystem)

        let objects = Dictionary(manifest.files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var map = follower.state.withLock { $0.tables }
        let storeNumbers = Set(map.numbers.values)
        var added: [FileMetadata] = []
        var localFiles: [StoreManifest.File] = []
        for file in replayed.allFiles {
            let name = DatabaseFiles.tableName(file.fileNumber)
            guard let object = objects[name], object.key.hasPrefix(StoreLayout.tablePrefix) else {
                throw StrataError.corruption(file: manifestKey, offset: 0, reason: "its manifest names table \(name), which the checkpoint does not list")
            }
            let number = map.numbers[object.key] ?? versionSet.newFileNumber()
            map.numbers[object.key] = number
            var local = file
            local.fileNumber = number
            added.append(local)
            localFiles.append(StoreManifest.File(name: DatabaseFiles.tableName(number), key: object.key, size: object.size))
        }
        // Without a local cache every table is local before a version names it.
        if storeTables?.budget == nil {
            for file in localFiles where !fileSystem.exists(Path.join(path, file.name)) {
                try StoreOpening.download(file, from: store, to: Path.join(path, file.name), fileSystem: fileSystem)
            }
        }
        for file in localFiles { storeTables?.recordStored(file) }
        // The map covers the tables of every version still in use and of the new one.
        let installing = Set(added.map(\.fileNumber))
        map.numbers = map.numbers.filter { installing.contains($0.value) || versionSet.references.isLive($0.value) }
        try map.write(directory: path, fileSystem: fileSystem)
        var marker = follower.marker
        marker.manifest = manifest.number
        marker.nextWALObject = manifest.firstWALObject
        try marker.write(directory: path, fileSystem: fileSystem)

        let generation = try freshGeneration(walSegment: 0)
        let covered = SequenceNumber(rawValue: manifest.lastSequence)
        let jump = manifest.lastSequence > lastSequence.load(ordering: .relaxed)
        // The keyspaces the manifest holds; a keyspace it lacks was dropped.
        let current = versionSet.currentVersion
        let droppedKeyspaces = current.keyspaceDescriptors.keys.filter { replayed.keyspaces[$0] == nil }
        var newKeyspaces: [UInt32: Memtable] = [:]
        for id in replayed.keyspaces.keys where state.withLock({ $0.keyspaceActive[id] == nil }) {
            newKeyspaces[id] = try Memtable(capacity: memtableCapacity)
        }
        try replicaInstall.withLock { _ in
            viewSwitches.add(1, ordering: .acquiringAndReleasing)
            defer { viewSwitches.add(1, ordering: .acquiringAndReleasing) }
            // New keyspaces get memtables before the version names them (see `readView`).
            if !newKeyspaces.isEmpty {
                state.withLock { state in
                    for (id, memtable) in newKeyspaces where state.keyspaceActive[id] == nil {
                        memtable.injectMaxSequence(state.maxActiveSequence)
                        state.keyspaceActive[id] = memtable
                    }
                    publishMemtables(state)
                }
            }
            var edit = VersionEdit()
            edit.droppedKeyspaces = droppedKeyspaces
            edit.keyspaces = replayed.keyspaces.keys.sorted().map { replayed.keyspaces[$0]!.descriptor }
            edit.nextKeyspaceID = replayed.nextKeyspaceID
            for (id, tree) in [(KeyspaceDescriptor.defaultID, current)] + current.keyspaceTrees.map({ ($0.key, $0.value) }) where !droppedKeyspaces.contains(id) {
                for (level, files) in tree.levels.enumerated() {
                    // The replica's own tables (memtables written out past `replicaMemtableBytes`)
                    // stay while they hold something the manifest does not.
                    for file in files where storeNumbers.contains(file.fileNumber) || file.largestSequence <= covered {
                        edit.delete(level: level, fileNumber: file.fileNumber, keyspace: id)
                    }
                }
            }
            for file in added { edit.add(file) }
            // The tables hold everything up to `covered` (not what the memtables hold beyond:
            // a restart or a promotion applies that from the store again).
            edit.lastSequence = covered
            try versionSet.logAndApply(edit)
            state.withLock { state in
                // The active memtables are frozen so the part the manifest covers can go.
                if jump || !state.holdsNoActiveWrites {
                    state.freeze(installing: generation)
                    if jump {
                        state.active.injectMaxSequence(covered)
                        for memtable in state.keyspaceActive.values { memtable.injectMaxSequence(covered) }
                    }
                }
                let coveredGenerations = Set(state.frozen.filter { state.generationMaxSequence($0) <= covered }.map(ObjectIdentifier.init))
                state.removeFrozenGenerations { coveredGenerations.contains(ObjectIdentifier($0)) }
                for id in droppedKeyspaces {
                    state.keyspaceActive[id] = nil
                    for generation in state.keyspaceFrozen.keys { state.keyspaceFrozen[generation]![id] = nil }
                }
                publishMemtables(state)
            }
            if jump { lastSequence.store(manifest.lastSequence, ordering: .releasing) }
        }
        follower.state.withLock { state in
            state.marker = marker
            state.tables = map
            // Objects before the manifest's first hold nothing it lacks: skip them (and after a
            // jump, go back to it: the objects after the applied position are past `covered`).
            state.next = jump ? manifest.firstWALObject : max(state.next, manifest.firstWALObject)
            state.primarySequence = max(state.primarySequence, manifest.lastSequence)
        }
        // The lease moves to the new manifest: the primary may collect the old one's tables.
        try follower.renewLease()
        let garbage = try versionSet.collectGarbage()
        for table in garbage.tables { tableCache.evict(table) }
        storeTables?.retainStored(keys: Set(map.numbers.keys))
        logger.debug("replica installed manifest", metadata: [
            "manifest": "\(manifest.number)", "tables": "\(added.count)", "lastSequence": "\(manifest.lastSequence)", "caughtUp": "\(!jump)",
        ])
    }
}
